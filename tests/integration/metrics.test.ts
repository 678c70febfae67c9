import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GET as shardsRoute } from '../../app/api/metrics/shards/route.ts';
import { awsClients } from '../../lib/aws/clients.ts';
import { lakeFreshness } from '../../lib/metrics/freshness.ts';
import { metricsDir } from '../../lib/metrics/local-files.ts';
import { metricTotal, type ShardMetrics } from '../../lib/metrics/types.ts';
import { metricsSource } from '../../lib/composition.ts';
import { listShards, readShard } from '../../lib/stream/browse.ts';
import type { DevRuntime } from '../../local/dev.ts';
import { post, readLake, removeDir, sendTransactions, startTestRuntime, tempDir, waitFor } from './helpers.ts';

const N = 240;

describe('local metrics recorded by the runtime', () => {
  let rt: DevRuntime;
  let dir: string;
  /** What each shard holds, read back from the stream: records and bytes (data + partition key). */
  const onStream = new Map<string, { records: number; bytes: number }>();

  beforeAll(async () => {
    dir = tempDir('metrics');
    rt = await startTestRuntime(dir);
    await sendTransactions(rt, N, 17);
    const bad = [1, 2, 3].map((i) => ({
      trans_num: `${i}`.padStart(32, 'c'),
      cc_num: '4000000000000001',
      gender: 'X',
    }));
    expect((await post(rt, 'transactions', JSON.stringify(bad))).json.rejected).toBe(3);
    const { kinesis } = awsClients(rt.config);
    for (const s of await listShards(kinesis, rt.config.streamName)) {
      const recs = await readShard(kinesis, rt.config.streamName, s.id, {
        from: { timestamp: new Date(0) },
        limit: 10_000,
      });
      onStream.set(s.id, {
        records: recs.length,
        bytes: recs.reduce((sum, r) => sum + r.bytes + Buffer.byteLength(r.partitionKey), 0),
      });
    }
  }, 150_000);

  afterAll(async () => {
    await rt?.stop();
    removeDir(dir);
  });

  const read = () => metricsSource(rt.config).shardMetrics({ range: '15m', now: new Date() });

  it('flushes on its own every few seconds', async () => {
    const m = await waitFor(read, (x) => metricTotal(x, 'IncomingRecords') === N, 30_000);
    expect(metricTotal(m, 'IncomingRecords')).toBe(N);
    expect(existsSync(path.join(metricsDir(dir), `${new Date().toISOString().slice(0, 10)}.jsonl`))).toBe(true);
  });

  it('counts every record put and read, per shard, exactly', async () => {
    expect([...onStream.values()].reduce((s, x) => s + x.records, 0)).toBe(N);
    await waitFor(
      () => readLake(rt.config),
      (l) => l.rows.length >= N,
    );
    rt.metrics.flush();
    const m: ShardMetrics = await read();
    expect(m.period).toBe(60);
    const used = [...onStream].filter(([, x]) => x.records > 0).map(([id]) => id);
    expect(used.length).toBeGreaterThan(0);
    expect(m.shards.map((s) => s.shardId)).toEqual(expect.arrayContaining(used));
    for (const s of m.shards) {
      const sum = (
        name: 'IncomingRecords' | 'IncomingBytes' | 'OutgoingRecords' | 'WriteProvisionedThroughputExceeded',
      ) => s.series[name].reduce((t, p) => t + (p.v ?? 0), 0);
      const expected = onStream.get(s.shardId) ?? { records: 0, bytes: 0 };
      expect({
        shard: s.shardId,
        in: sum('IncomingRecords'),
        bytes: sum('IncomingBytes'),
        out: sum('OutgoingRecords'),
        throttled: sum('WriteProvisionedThroughputExceeded'),
      }).toEqual({
        shard: s.shardId,
        in: expected.records,
        bytes: expected.bytes,
        out: expected.records,
        throttled: 0,
      });
      // The poller reads every shard, so minutes since it started have an age.
      expect(s.series.IteratorAgeMilliseconds.some((p) => p.v !== null)).toBe(true);
    }
    expect(metricTotal(m, 'IncomingRecords')).toBe(N);
    expect(metricTotal(m, 'OutgoingRecords')).toBe(N);
    expect(metricTotal(m, 'IncomingBytes')).toBeGreaterThan(0);

    // The lake writer's lag per shard it was handed batches on (the runtime runs no OLTP sink here).
    const lag = await metricsSource(rt.config).consumerLag({ range: '15m', now: new Date() });
    expect(lag.consumers.map((c) => c.consumer)).toEqual(['lake-writer']);
    expect(lag.consumers[0]!.shards.map((s) => s.shardId)).toEqual(expect.arrayContaining(used));
    for (const s of lag.consumers[0]!.shards) expect(s.points.some((x) => x.v !== null && x.v >= 0)).toBe(true);

    const p = await metricsSource(rt.config).pipelineMetrics({ range: '15m', now: new Date() });
    expect(p.accepted.reduce((t, x) => t + (x.v ?? 0), 0)).toBe(N);
    expect(p.rejected.reduce((t, x) => t + (x.v ?? 0), 0)).toBe(3);
  });

  it('serves them over the console route and refuses an unknown range', async () => {
    const saved = { mode: process.env.TRIBUTARY_MODE, dir: process.env.TRIBUTARY_DATA_DIR };
    process.env.TRIBUTARY_MODE = 'local';
    process.env.TRIBUTARY_DATA_DIR = dir;
    try {
      const ok = await shardsRoute(new Request('http://console/api/metrics/shards?range=1h'));
      expect(ok.status).toBe(200);
      const body = (await ok.json()) as ShardMetrics;
      expect(body.range).toBe('1h');
      expect(body.shards[0]!.series.IncomingRecords).toHaveLength(60);
      expect(metricTotal(body, 'IncomingRecords')).toBe(N);
      const bad = await shardsRoute(new Request('http://console/api/metrics/shards?range=2h'));
      expect(bad.status).toBe(400);
      expect(await bad.json()).toEqual({
        error: 'range="2h" is not a metrics range; use one of 15m, 1h, 24h, 7d, 14d.',
        code: 'bad_range',
      });
    } finally {
      for (const [k, v] of [
        ['TRIBUTARY_MODE', saved.mode],
        ['TRIBUTARY_DATA_DIR', saved.dir],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('reports the lake as fresh', async () => {
    const f = await lakeFreshness(awsClients(rt.config).s3, rt.config.buckets.lake);
    expect(f.newestObjectAgeMs).not.toBeNull();
    expect(f.newestObjectAgeMs!).toBeLessThan(10 * 60_000);
    // Synthetic event times lie in a fixed past week: the age is measured against the time of the answer.
    expect(f.newestEventAgeMs).toBe(Date.parse(f.at) - Date.parse(f.newestEventTime!));
    const { rows } = await readLake(rt.config);
    expect(rows.some((r) => r.event_time === f.newestEventTime)).toBe(true);
  });
});
