/** Writing quarantine records (lib/quarantine/write.ts), the one way ingest, the OLTP sink and re-drive quarantine. */
import { gunzipSync } from 'node:zlib';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { quarantineRecord, type QuarantineReason } from '../../lib/quarantine/record.ts';
import { writeQuarantine } from '../../lib/quarantine/write.ts';

const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: 'us-east-1' });
const rec = (id: string, reason: QuarantineReason, day: string) =>
  quarantineRecord({
    id,
    stage: 'oltp-sink',
    reason,
    errors: [{ path: '/amt', keyword: reason, message: 'no' }],
    receivedAt: `${day}T09:00:00.000Z`,
    quarantinedAt: `${day}T10:00:00.000Z`,
    payload: `{"id":"${id}"}`,
    source: 'api',
  });
const puts = () => s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);

beforeEach(() => s3Mock.reset());

describe('writeQuarantine', () => {
  it('puts one gzip JSONL object per day and reason, named after the stage and the batch', async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    const records = [
      rec('a', 'db_rejected', '2026-03-01'),
      rec('b', 'db_rejected', '2026-03-01'),
      rec('c', 'schema_violation', '2026-03-01'),
      rec('d', 'db_rejected', '2026-03-02'),
    ];
    const objects = await writeQuarantine(s3, 'quarantine', records, 'oltp-sink', 'shardId-000000000001-10-20');
    expect(
      puts()
        .map((p) => [p.Bucket, p.Key, p.ContentType, p.ContentEncoding])
        .sort(),
    ).toEqual([
      [
        'quarantine',
        'records/dt=2026-03-01/reason=db_rejected/oltp-sink-shardId-000000000001-10-20.jsonl.gz',
        'application/x-ndjson',
        'gzip',
      ],
      [
        'quarantine',
        'records/dt=2026-03-01/reason=schema_violation/oltp-sink-shardId-000000000001-10-20.jsonl.gz',
        'application/x-ndjson',
        'gzip',
      ],
      [
        'quarantine',
        'records/dt=2026-03-02/reason=db_rejected/oltp-sink-shardId-000000000001-10-20.jsonl.gz',
        'application/x-ndjson',
        'gzip',
      ],
    ]);
    const first = puts().find((p) => p.Key!.startsWith('records/dt=2026-03-01/reason=db_rejected/'))!;
    expect(
      gunzipSync(first.Body as Buffer)
        .toString('utf8')
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { id: string }).id),
    ).toEqual(['a', 'b']);
    expect(objects.map((o) => o.count).sort()).toEqual([1, 1, 2]);
  });

  it('a retried batch writes the same keys (it overwrites, never adds a copy), and a failed put fails the write', async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    const records = [rec('a', 'db_rejected', '2026-03-01')];
    await writeQuarantine(s3, 'quarantine', records, 'redrive', 'job-1-3');
    await writeQuarantine(s3, 'quarantine', records, 'redrive', 'job-1-3');
    expect(new Set(puts().map((p) => p.Key)).size).toBe(1);
    s3Mock.on(PutObjectCommand).rejects(new Error('SlowDown'));
    await expect(writeQuarantine(s3, 'quarantine', records, 'redrive', 'job-1-4')).rejects.toThrow('SlowDown');
  });
});
