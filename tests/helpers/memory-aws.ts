/**
 * S3 and Kinesis as the SDK contract describes them, in memory, behind aws-sdk-client-mock: for unit tests that must
 * run on fake timers (the emulators' sockets would not). S3 keeps bytes and ETags per key and honours conditional
 * PutObject (`If-None-Match: *` → 412 when the key exists; `If-Match` → 412 on another ETag, 404 without the key);
 * Kinesis has open shards and numbers what PutRecords takes, noting when (Date.now(), faked or not) each call came.
 */
import { createHash } from 'node:crypto';
import {
  KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
  type PutRecordsRequestEntry,
} from '@aws-sdk/client-kinesis';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

const failure = (name: string, status: number, message: string) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

export interface MemoryAws {
  s3: S3Client;
  kinesis: KinesisClient;
  /** bucket/key → bytes. */
  objects: Map<string, { body: Buffer; etag: string }>;
  /** Every PutRecords call: when, and the records' data. */
  puts: { at: number; data: string[] }[];
  keys(bucket: string, prefix?: string): string[];
  restore(): void;
}

export function memoryAws(options: { shards?: number } = {}): MemoryAws {
  const objects = new Map<string, { body: Buffer; etag: string }>();
  const puts: MemoryAws['puts'] = [];
  const s3Mock = mockClient(S3Client);
  const kinesisMock = mockClient(KinesisClient);
  const id = (bucket: string, key: string) => `${bucket}/${key}`;

  s3Mock.on(ListObjectsV2Command).callsFake((input: { Bucket: string; Prefix?: string }) => ({
    Contents: [...objects]
      .filter(([k]) => k.startsWith(id(input.Bucket, input.Prefix ?? '')))
      .map(([k, o]) => ({ Key: k.slice(input.Bucket.length + 1), ETag: o.etag, Size: o.body.length }))
      .sort((a, b) => (a.Key < b.Key ? -1 : 1)),
    IsTruncated: false,
  }));
  s3Mock.on(GetObjectCommand).callsFake((input: { Bucket: string; Key: string }) => {
    const o = objects.get(id(input.Bucket, input.Key));
    if (!o) throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } });
    return {
      ETag: o.etag,
      Body: {
        transformToString: async () => o.body.toString('utf8'),
        transformToByteArray: async () => new Uint8Array(o.body),
      },
    };
  });
  s3Mock
    .on(PutObjectCommand)
    .callsFake(
      (input: { Bucket: string; Key: string; Body: string | Uint8Array; IfNoneMatch?: string; IfMatch?: string }) => {
        const k = id(input.Bucket, input.Key);
        const current = objects.get(k);
        if (input.IfNoneMatch === '*' && current)
          throw failure('PreconditionFailed', 412, 'At least one precondition failed');
        if (input.IfMatch !== undefined) {
          if (!current) throw failure('NoSuchKey', 404, 'The specified key does not exist.');
          if (current.etag !== input.IfMatch)
            throw failure('PreconditionFailed', 412, 'At least one precondition failed');
        }
        const body = Buffer.from(input.Body);
        const etag = `"${createHash('md5').update(body).digest('hex')}"`;
        objects.set(k, { body, etag });
        return { ETag: etag };
      },
    );
  s3Mock.on(DeleteObjectCommand).callsFake((input: { Bucket: string; Key: string }) => {
    objects.delete(id(input.Bucket, input.Key));
    return {};
  });
  s3Mock.on(DeleteObjectsCommand).callsFake((input: { Bucket: string; Delete: { Objects: { Key: string }[] } }) => {
    for (const o of input.Delete.Objects) objects.delete(id(input.Bucket, o.Key));
    return { Errors: [] };
  });

  const shards = Array.from({ length: options.shards ?? 1 }, (_, i) => ({
    ShardId: `shardId-${String(i).padStart(12, '0')}`,
    HashKeyRange: { StartingHashKey: '0', EndingHashKey: '1' },
    SequenceNumberRange: { StartingSequenceNumber: '0' },
  }));
  let seq = 0;
  kinesisMock.on(ListShardsCommand).resolves({ Shards: shards });
  kinesisMock.on(PutRecordsCommand).callsFake((input: { Records: PutRecordsRequestEntry[] }) => {
    puts.push({ at: Date.now(), data: input.Records.map((r) => Buffer.from(r.Data!).toString('utf8')) });
    return {
      FailedRecordCount: 0,
      Records: input.Records.map(() => ({
        ShardId: shards[0]!.ShardId,
        SequenceNumber: String(++seq).padStart(20, '0'),
      })),
    };
  });

  return {
    s3: new S3Client({ region: 'us-east-1' }),
    kinesis: new KinesisClient({ region: 'us-east-1' }),
    objects,
    puts,
    keys: (bucket, prefix = '') =>
      [...objects.keys()].filter((k) => k.startsWith(id(bucket, prefix))).map((k) => k.slice(bucket.length + 1)),
    restore: () => {
      s3Mock.restore();
      kinesisMock.restore();
    },
  };
}
