import { describe, expect, it } from 'vitest';
import {
  duplicates,
  post,
  readLake,
  startTestRuntime,
  tempDir,
  waitFor,
  sendTransactions,
  runtimePerTest,
} from './helpers.ts';

describe('consumer failures lose and duplicate nothing', () => {
  const s = runtimePerTest();

  it('retries and bisects batches after function errors', async () => {
    s.dir = tempDir('bisect');
    s.rt = await startTestRuntime(s.dir, {
      faults: { lakeWriter: { failInvocations: 5 } },
      mapping: { batchSize: 400 },
    });
    const ids = await sendTransactions(s.rt, 1200, 11);
    const lake = await waitFor(
      () => readLake(s.rt!.config),
      (l) => l.rows.length >= ids.length,
      90_000,
    );
    expect(lake.rows.length).toBe(1200);
    expect(duplicates(lake.rows.map((r) => r.id))).toEqual([]);
    expect(lake.rows.map((r) => r.id).sort()).toEqual(ids.sort());
    expect(lake.quarantine).toEqual([]);
    expect(lake.onFailure).toBe(0);
    const stats = s.rt.poller.stats();
    expect(stats.reduce((s, x) => s + x.failures, 0)).toBe(5);
    expect(stats.reduce((s, x) => s + x.records, 0)).toBe(1200);
  });

  function hourEvents(hours: string[]): string {
    return hours
      .map((h, i) =>
        JSON.stringify({
          trans_num: i.toString(16).padStart(32, '0'),
          cc_num: '4111111111111111',
          trans_date_trans_time: `2026-01-01 ${h}:00:00`,
          amt: i,
        }),
      )
      .join('\n');
  }

  it('keeps the records before the lowest failed one and re-delivers the rest (ReportBatchItemFailures)', async () => {
    s.dir = tempDir('partial');
    s.rt = await startTestRuntime(s.dir, {
      shardCount: 1,
      faults: { lakeWriter: { failPuts: 1, failPutsMatching: 'hour=11' } },
      mapping: { batchSize: 1000, maximumBatchingWindowInSeconds: 1.5 },
    });
    // 200 events of hour 10, then 200 of hour 11, in one request: one batch, two partitions in sequence order.
    const hours = [...Array(200).fill('10'), ...Array(200).fill('11')];
    const res = await post(s.rt, 'transactions', hourEvents(hours), { 'content-type': 'application/x-ndjson' });
    expect(res.json.accepted).toBe(400);
    const lake = await waitFor(
      () => readLake(s.rt!.config),
      (l) => l.rows.length >= 400,
      60_000,
    );
    expect(lake.rows.length).toBe(400);
    expect(duplicates(lake.rows.map((r) => r.id))).toEqual([]);
    // First invocation: hour 10 stored, hour 11 failed and reported; second invocation: hour 11 alone.
    const [stats] = s.rt.poller.stats();
    expect(stats).toMatchObject({ invocations: 2, failures: 1, records: 400 });
    expect(lake.keys.filter((k) => k.includes('/hour=10/'))).toHaveLength(1);
    expect(lake.keys.filter((k) => k.includes('/hour=11/'))).toHaveLength(1);
  });

  it('moves the re-delivery point down so an object spanning it is never written twice', async () => {
    s.dir = tempDir('interleaved');
    s.rt = await startTestRuntime(s.dir, {
      shardCount: 1,
      faults: { lakeWriter: { failPuts: 1, failPutsMatching: 'hour=11' } },
      mapping: { batchSize: 1000, maximumBatchingWindowInSeconds: 1.5 },
    });
    // Hours interleave, so the hour-10 object spans the first hour-11 record.
    const hours = Array.from({ length: 400 }, (_, i) => (i % 2 ? '11' : '10'));
    expect(
      (await post(s.rt, 'transactions', hourEvents(hours), { 'content-type': 'application/x-ndjson' })).json.accepted,
    ).toBe(400);
    const lake = await waitFor(
      () => readLake(s.rt!.config),
      (l) => l.rows.length >= 400,
      60_000,
    );
    expect(lake.rows.length).toBe(400);
    expect(duplicates(lake.rows.map((r) => r.id))).toEqual([]);
    expect(lake.rows.filter((r) => r.event_time.startsWith('2026-01-01T10:')).length).toBe(200);
    expect(s.rt.poller.stats()[0]!.failures).toBeGreaterThanOrEqual(1);
  });

  it('sends a batch that keeps failing to the S3 on-failure destination with its payload, then moves on', async () => {
    s.dir = tempDir('onfailure');
    s.rt = await startTestRuntime(s.dir, {
      faults: { lakeWriter: { failInvocations: 1000 } },
      mapping: { batchSize: 50, maximumRetryAttempts: 1, bisectBatchOnFunctionError: false },
      shardCount: 1,
    });
    await sendTransactions(s.rt, 30, 13);
    const lake = await waitFor(
      () => readLake(s.rt!.config),
      (l) => l.onFailure >= 1,
      30_000,
    );
    expect(lake.onFailure).toBe(1);
    expect(lake.rows).toEqual([]);
    const { s3 } = (await import('../../lib/aws/clients.ts')).awsClients(s.rt.config);
    const { listAll } = await import('../../lib/aws/s3.ts');
    const { GetObjectCommand } = await import('@aws-sdk/client-s3');
    const [obj] = await listAll(s3, 'quarantine', 'aws/lambda/');
    expect(obj!.Key).toMatch(
      /^aws\/lambda\/[0-9a-f-]{36}\/shardId-000000000000\/\d{4}\/\d{2}\/\d{2}\/\d{4}-\d{2}-\d{2}T\d{2}\.\d{2}\.\d{2}-[0-9a-f-]{36}$/,
    );
    const record = JSON.parse(
      await (await s3.send(new GetObjectCommand({ Bucket: 'quarantine', Key: obj!.Key! }))).Body!.transformToString(),
    );
    expect(record.requestContext.condition).toBe('RetryAttemptsExhausted');
    expect(record.requestContext.approximateInvokeCount).toBe(2);
    expect(record.KinesisBatchInfo.batchSize).toBe(30);
    expect(JSON.parse(record.payload).Records).toHaveLength(30);
  });
});
