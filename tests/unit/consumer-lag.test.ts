import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import type { KinesisStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { CloudWatchMetricsSource } from '../../lib/metrics/cloudwatch.ts';
import { LocalMetricsRecorder } from '../../lib/metrics/local-recorder.ts';
import { LocalMetricsSource } from '../../lib/metrics/local-source.ts';
import { worstLag } from '../../lib/metrics/types.ts';
import { batchLag } from '../../lib/stream/lag.ts';

const T0 = Date.parse('2026-01-15T10:07:30.000Z');
const record = (shard: string, arrivedMs: number) => ({
  eventID: `${shard}:4960${arrivedMs}`,
  kinesis: { approximateArrivalTimestamp: arrivedMs / 1000 },
});

describe('consumer lag', () => {
  const cloudwatch = mockClient(CloudWatchClient);
  const kinesis = mockClient(KinesisClient);
  afterEach(() => {
    cloudwatch.reset();
    kinesis.reset();
  });

  it('is, per shard, the age of the newest record of the batch a consumer is handed', () => {
    const event = {
      Records: [
        record('shardId-000000000000', T0 - 9_000),
        record('shardId-000000000000', T0 - 4_000),
        record('shardId-000000000001', T0 - 250),
      ],
    } as unknown as KinesisStreamEvent;
    expect(Object.fromEntries(batchLag(event, T0))).toEqual({
      'shardId-000000000000': 4_000,
      'shardId-000000000001': 250,
    });
    expect(batchLag({ Records: [] }, T0).size).toBe(0);
  });

  it('is recorded per consumer and shard locally and read back as a series per consumer, with the worst at the end', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'tributary-lag-'));
    try {
      const clock = { now: T0 };
      const recorder = new LocalMetricsRecorder(root, { now: () => clock.now, flushEveryMs: 3_600_000 });
      recorder.recordConsumerLag('lake-writer', 'shardId-000000000000', 1_200);
      recorder.recordConsumerLag('lake-writer', 'shardId-000000000000', 800);
      recorder.recordConsumerLag('oltp-sink', 'shardId-000000000001', 45_000);
      recorder.flush();
      clock.now += 60_000;
      recorder.recordConsumerLag('oltp-sink', 'shardId-000000000001', 0);
      recorder.flush();
      recorder.stop();
      expect(readFileSync(path.join(root, '2026-01-15.jsonl'), 'utf8').split('\n')[0]).toBe(
        '{"t":"2026-01-15T10:07:00.000Z","consumer":"lake-writer/shardId-000000000000","m":{"ConsumerLagMilliseconds":1200}}',
      );
      return new LocalMetricsSource(root).consumerLag({ range: '15m', now: new Date(clock.now) }).then((lag) => {
        expect(
          lag.consumers.map((c) => [c.consumer, c.shards.map((s) => [s.shardId, s.points.slice(-2).map((p) => p.v)])]),
        ).toEqual([
          ['lake-writer', [['shardId-000000000000', [1_200, null]]]],
          ['oltp-sink', [['shardId-000000000001', [45_000, 0]]]],
        ]);
        expect(lag.period).toBe(60);
        // The worst lag now is each series' last measured value: the sink has caught up (0), the writer's 1.2 s stands.
        expect(worstLag(lag)).toEqual({ ms: 1_200, consumer: 'lake-writer', shardId: 'shardId-000000000000' });
      });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('is read from CloudWatch per consumer and shard, over 14 days in hours', async () => {
    const shard = (id: string) => ({
      ShardId: id,
      HashKeyRange: { StartingHashKey: '0', EndingHashKey: '1' },
      SequenceNumberRange: { StartingSequenceNumber: '1' },
    });
    kinesis.on(ListShardsCommand).resolves({ Shards: [shard('shardId-000000000000'), shard('shardId-000000000001')] });
    cloudwatch.on(GetMetricDataCommand).callsFake((input: { MetricDataQueries: { Id: string }[] }) => ({
      MetricDataResults: input.MetricDataQueries.map((q, i) => ({
        Id: q.Id,
        StatusCode: 'Complete',
        Timestamps: i === 1 ? [new Date(T0 - 3_600_000)] : [],
        Values: i === 1 ? [7_000] : [],
      })),
    }));
    const source = new CloudWatchMetricsSource({
      cloudwatch: new CloudWatchClient({ region: 'us-east-1' }),
      kinesis: new KinesisClient({ region: 'us-east-1' }),
      streamName: 'events',
    });
    const lag = await source.consumerLag({ range: '14d', now: new Date(T0) });
    const sent = cloudwatch.commandCalls(GetMetricDataCommand)[0]!.args[0].input.MetricDataQueries!;
    expect(sent.map((q) => q.MetricStat!.Metric!.Dimensions!.map((d) => d.Value).join(' '))).toEqual([
      'tributary lake-writer shardId-000000000000',
      'tributary lake-writer shardId-000000000001',
      'tributary oltp-sink shardId-000000000000',
      'tributary oltp-sink shardId-000000000001',
      'tributary import-applier shardId-000000000000',
      'tributary import-applier shardId-000000000001',
    ]);
    expect(
      sent.every(
        (q) =>
          q.MetricStat!.Metric!.MetricName === 'ConsumerLagMilliseconds' &&
          q.MetricStat!.Stat === 'Maximum' &&
          q.MetricStat!.Period === 3600,
      ),
    ).toBe(true);
    // Only what published anything in the range: the lake writer on shard 1.
    expect(lag.consumers.map((c) => [c.consumer, c.shards.map((s) => s.shardId)])).toEqual([
      ['lake-writer', ['shardId-000000000001']],
    ]);
    expect(lag.consumers[0]!.shards[0]!.points).toHaveLength(336);
  });
});
