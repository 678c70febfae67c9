/** The pipeline inventory (lib/pipeline-status.ts): exact counts, read once per object, not once per render. */
import { gzipSync } from 'node:zlib';
import { DescribeStreamSummaryCommand, KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  type _Object,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { INVENTORY_CACHE_KEY, PipelineInventory } from '../../lib/pipeline-status.ts';

const s3Mock = mockClient(S3Client);
const kinesisMock = mockClient(KinesisClient);

/** The buckets as S3 would list and serve them: key → [ETag, body]. */
let objects: Map<string, [string, Buffer]>;
/** The athena-results bucket, where the counts cache lives. */
let results: Map<string, string>;
const gets = () =>
  s3Mock
    .commandCalls(GetObjectCommand)
    .filter((c) => c.args[0].input.Bucket !== 'r')
    .map((c) => c.args[0].input.Key);
const lines = (n: number) => gzipSync(Array.from({ length: n }, (_, i) => JSON.stringify({ id: `e${i}` })).join('\n'));

function inventory(cache = false): PipelineInventory {
  return new PipelineInventory({
    ...(cache ? { cache: { bucket: 'r', key: INVENTORY_CACHE_KEY } } : {}),
    config: { streamName: 'events', buckets: { lake: 'lake', quarantine: 'q', athenaResults: 'r', imports: 'i' } },
    s3: new S3Client({ region: 'us-east-1' }),
    kinesis: new KinesisClient({ region: 'us-east-1' }),
    quarantineTotals: async () => ({ objects: 1, records: 2, byStage: { ingest: 2 }, byReason: {}, byType: {} }),
  });
}

beforeEach(() => {
  s3Mock.reset();
  kinesisMock.reset();
  kinesisMock
    .on(DescribeStreamSummaryCommand)
    .resolves({ StreamDescriptionSummary: { StreamStatus: 'ACTIVE' } as never });
  kinesisMock.on(ListShardsCommand).resolves({ Shards: [{ ShardId: 'shardId-000000000000' } as never] });
  objects = new Map([
    ['events/transactions/dt=2026-03-01/hour=10/a.jsonl.gz', ['"1"', lines(3)]],
    ['events/transactions/dt=2026-03-01/hour=11/b.jsonl.gz', ['"2"', lines(2)]],
    ['events/clickstream/dt=2026-03-01/hour=10/c.jsonl.gz', ['"3"', lines(4)]],
  ]);
  s3Mock.on(ListObjectsV2Command).callsFake((input: { Bucket: string; Prefix: string }) => ({
    Contents: [...objects]
      .filter(([k]) => input.Bucket === 'lake' && k.startsWith(input.Prefix))
      .map(([Key, [ETag, body]]): _Object => ({ Key, ETag, Size: body.length })),
    IsTruncated: false,
  }));
  results = new Map();
  s3Mock.on(PutObjectCommand).callsFake((input: { Bucket: string; Key: string; Body: string }) => {
    if (input.Bucket === 'r') results.set(input.Key, input.Body);
    return {};
  });
  s3Mock.on(GetObjectCommand).callsFake((input: { Bucket: string; Key: string }) => {
    if (input.Bucket === 'r') {
      const text = results.get(input.Key);
      if (text === undefined) throw new NoSuchKey({ message: 'no such key', $metadata: {} });
      return { Body: { transformToString: async () => text } as never };
    }
    const body = objects.get(input.Key)![1];
    return {
      Body: { transformToByteArray: async () => body, transformToString: async () => body.toString() } as never,
    };
  });
});

describe('PipelineInventory', () => {
  it('counts rows, objects and partitions per type exactly, reading each object once', async () => {
    const inv = inventory();
    const first = await inv.status();
    expect(first.lake.rows).toBe(9);
    expect(first.lake.byType).toEqual({
      transactions: { objects: 2, rows: 5, partitions: 2, bytes: expect.any(Number) },
      clickstream: { objects: 1, rows: 4, partitions: 1, bytes: expect.any(Number) },
    });
    expect(first.stream).toEqual({
      name: 'events',
      status: 'ACTIVE',
      shards: [{ id: 'shardId-000000000000', open: true }],
    });
    expect(first.quarantine.records).toBe(2);
    expect(gets().length).toBe(3);

    // Nothing new: the listings only.
    s3Mock.resetHistory();
    expect((await inv.status()).lake.rows).toBe(9);
    expect(gets()).toEqual([]);

    // One new object and one rewritten (a new ETag) are read; a deleted one is no longer counted.
    s3Mock.resetHistory();
    objects.set('events/clickstream/dt=2026-03-01/hour=11/d.jsonl.gz', ['"4"', lines(1)]);
    objects.set('events/transactions/dt=2026-03-01/hour=10/a.jsonl.gz', ['"5"', lines(6)]);
    objects.delete('events/transactions/dt=2026-03-01/hour=11/b.jsonl.gz');
    const after = await inv.status();
    expect(gets().sort()).toEqual([
      'events/clickstream/dt=2026-03-01/hour=11/d.jsonl.gz',
      'events/transactions/dt=2026-03-01/hour=10/a.jsonl.gz',
    ]);
    expect([after.lake.rows, after.lake.byType.transactions!.rows, after.lake.byType.clickstream!.rows]).toEqual([
      11, 6, 5,
    ]);
  });

  it('answers callers within maxAgeMs from one read', async () => {
    const inv = inventory();
    const [a, b] = await Promise.all([inv.status(5_000), inv.status(5_000)]);
    expect(b).toBe(a);
    expect(await inv.status(5_000)).toBe(a);
    expect(s3Mock.commandCalls(ListObjectsV2Command).length).toBe(3);
    expect(await inv.status(0)).not.toBe(a);
    expect(s3Mock.commandCalls(ListObjectsV2Command).length).toBe(6);
  });

  it('a new process starts from the counts another saved, and reads only what was written since', async () => {
    const first = await inventory(true).status();
    expect(gets().length).toBe(3);
    expect(JSON.parse(results.get(INVENTORY_CACHE_KEY)!)).toMatchObject({ version: 1, rows: expect.any(Array) });

    // A restart, another console instance, a Lambda cold start: no lake object is read again.
    s3Mock.resetHistory();
    const second = inventory(true);
    expect((await second.status()).lake).toEqual(first.lake);
    expect(gets()).toEqual([]);

    // Written since (new, rewritten with another ETag, deleted): only those are read, and the counts are exact.
    s3Mock.resetHistory();
    objects.set('events/clickstream/dt=2026-03-01/hour=11/d.jsonl.gz', ['"4"', lines(1)]);
    objects.set('events/transactions/dt=2026-03-01/hour=10/a.jsonl.gz', ['"5"', lines(6)]);
    objects.delete('events/transactions/dt=2026-03-01/hour=11/b.jsonl.gz');
    const third = inventory(true);
    expect((await third.status()).lake.rows).toBe(11);
    expect(gets().sort()).toEqual([
      'events/clickstream/dt=2026-03-01/hour=11/d.jsonl.gz',
      'events/transactions/dt=2026-03-01/hour=10/a.jsonl.gz',
    ]);
  });

  it('ignores a counts file it cannot trust and counts from the objects', async () => {
    for (const text of [
      'not json',
      '{"version":2,"rows":[],"manifests":[],"failures":[]}',
      JSON.stringify({
        version: 1,
        rows: [['events/transactions/dt=2026-03-01/hour=10/a.jsonl.gz', '"1"', -5]],
        manifests: [],
        failures: [],
      }),
      JSON.stringify({ version: 1, rows: [['k', 1, 2]], manifests: [], failures: [] }),
      JSON.stringify({ version: 1, rows: [], manifests: [['k', 'e', { rows: 1, sources: [3] }]], failures: [] }),
    ]) {
      results.set(INVENTORY_CACHE_KEY, text);
      s3Mock.resetHistory();
      expect((await inventory(true).status()).lake.rows, text).toBe(9);
      expect(gets().length, text).toBe(3);
    }
    // A count saved for another ETag of the same key is not used: the object is read again.
    results.set(
      INVENTORY_CACHE_KEY,
      JSON.stringify({
        version: 1,
        rows: [['events/transactions/dt=2026-03-01/hour=10/a.jsonl.gz', '"old"', 1000]],
        manifests: [],
        failures: [],
      }),
    );
    s3Mock.resetHistory();
    expect((await inventory(true).status()).lake.rows).toBe(9);
    expect(gets().length).toBe(3);
  });

  it('counts as without a cache when the cache cannot be written', async () => {
    s3Mock.on(PutObjectCommand).rejects(new Error('AccessDenied'));
    expect((await inventory(true).status()).lake.rows).toBe(9);
  });
});
