import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  type GetMetricDataCommandOutput,
} from '@aws-sdk/client-cloudwatch';
import { KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { CloudWatchMetricsSource, MAX_QUERIES_PER_CALL } from '../../lib/metrics/cloudwatch.ts';
import { MetricsError } from '../../lib/metrics/types.ts';

const NOW = new Date('2026-01-15T10:07:30.000Z');
const START = new Date('2026-01-15T09:53:00.000Z');
const END = new Date('2026-01-15T10:08:00.000Z');
const minute = (m: number) => new Date(START.getTime() + m * 60_000);

const shardId = (i: number) => `shardId-${String(i).padStart(12, '0')}`;

const kinesisMock = mockClient(KinesisClient);
const cloudwatchMock = mockClient(CloudWatchClient);

/** A Kinesis client (the SDK's, mocked at its contract) whose stream has `count` open shards. */
function kinesisWith(count: number): KinesisClient {
  kinesisMock.reset();
  kinesisMock.on(ListShardsCommand).resolves({
    Shards: Array.from({ length: count }, (_, i) => ({
      ShardId: shardId(i),
      HashKeyRange: { StartingHashKey: '0', EndingHashKey: '1' },
      SequenceNumberRange: { StartingSequenceNumber: '1' },
    })),
  });
  return new KinesisClient({ region: 'us-east-1' });
}

/** A CloudWatch client (the SDK's, mocked at its contract) answering GetMetricData from a script, keeping every request. */
function cloudwatchWith(
  answers: ((input: GetMetricDataCommandInput) => Partial<GetMetricDataCommandOutput> | Error)[],
) {
  const calls: GetMetricDataCommandInput[] = [];
  cloudwatchMock.reset();
  cloudwatchMock.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => {
    // A copy as sent: the SDK's paginator reuses the input object for the next page (and names MaxDatapoints unset).
    calls.push(
      structuredClone(
        Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)),
      ) as GetMetricDataCommandInput,
    );
    const next = answers.shift();
    if (!next) throw new Error('unexpected GetMetricData call');
    const out = next(input);
    if (out instanceof Error) throw out;
    return out;
  });
  return { client: new CloudWatchClient({ region: 'us-east-1' }), calls };
}

const shardQuery = (i: number, j: number, metric: string, stat: string) => ({
  Id: `s${i}_${j}`,
  MetricStat: {
    Metric: {
      Namespace: 'AWS/Kinesis',
      MetricName: metric,
      Dimensions: [
        { Name: 'StreamName', Value: 'events' },
        { Name: 'ShardId', Value: shardId(i) },
      ],
    },
    Period: 60,
    Stat: stat,
  },
  ReturnData: true,
});

const METRICS: [string, string][] = [
  ['IncomingRecords', 'Sum'],
  ['IncomingBytes', 'Sum'],
  ['OutgoingRecords', 'Sum'],
  ['WriteProvisionedThroughputExceeded', 'Sum'],
  ['IteratorAgeMilliseconds', 'Maximum'],
];

describe('CloudWatch metrics source', () => {
  it('asks GetMetricData for each shard × metric with StreamName + ShardId, follows NextToken and maps the points', async () => {
    const { client, calls } = cloudwatchWith([
      () => ({
        MetricDataResults: [
          { Id: 's0_0', Timestamps: [minute(3), minute(14)], Values: [10, 4], StatusCode: 'PartialData' },
          { Id: 's0_4', Timestamps: [minute(3)], Values: [1500], StatusCode: 'PartialData' },
        ],
        NextToken: 'page-2',
      }),
      () => ({
        MetricDataResults: [
          // The rest of s0_0's points come on the second page.
          { Id: 's0_0', Timestamps: [minute(5)], Values: [2], StatusCode: 'Complete' },
          { Id: 's0_1', Timestamps: [minute(3)], Values: [5000], StatusCode: 'Complete' },
          { Id: 's0_4', Timestamps: [minute(4)], Values: [800], StatusCode: 'Complete' },
          ...[2, 3].map((j) => ({ Id: `s0_${j}`, Timestamps: [], Values: [], StatusCode: 'Complete' as const })),
          // The second shard published nothing in the range.
          ...[0, 1, 2, 3, 4].map((j) => ({
            Id: `s1_${j}`,
            Timestamps: [],
            Values: [],
            StatusCode: 'Complete' as const,
          })),
        ],
      }),
    ]);
    const source = new CloudWatchMetricsSource({ cloudwatch: client, kinesis: kinesisWith(2), streamName: 'events' });
    const m = await source.shardMetrics({ range: '15m', now: NOW });

    const queries = [0, 1].flatMap((i) => METRICS.map(([name, stat], j) => shardQuery(i, j, name, stat)));
    expect(calls).toEqual([
      { MetricDataQueries: queries, StartTime: START, EndTime: END, ScanBy: 'TimestampAscending' },
      { MetricDataQueries: queries, StartTime: START, EndTime: END, ScanBy: 'TimestampAscending', NextToken: 'page-2' },
    ]);
    expect(m).toMatchObject({
      range: '15m',
      period: 60,
      start: START.getTime(),
      end: END.getTime(),
      at: NOW.getTime(),
    });
    expect(m.shards.map((s) => s.shardId)).toEqual([shardId(0)]);
    const v = (name: keyof (typeof m.shards)[number]['series']) => m.shards[0]!.series[name].map((p) => p.v);
    const zeros = () => Array<number | null>(15).fill(0);
    expect(v('IncomingRecords')).toEqual(Object.assign(zeros(), { 3: 10, 5: 2, 14: 4 }));
    expect(v('IncomingBytes')).toEqual(Object.assign(zeros(), { 3: 5000 }));
    expect(v('OutgoingRecords')).toEqual(zeros());
    expect(v('WriteProvisionedThroughputExceeded')).toEqual(zeros());
    expect(v('IteratorAgeMilliseconds')).toEqual(Object.assign(Array(15).fill(null), { 3: 1500, 4: 800 }));
    expect(m.shards[0]!.series.IncomingRecords.map((p) => p.t)).toEqual(
      Array.from({ length: 15 }, (_, i) => minute(i).getTime()),
    );
  });

  it("splits more than 500 queries into calls of at most 500, with the long ranges' periods", async () => {
    const answer = (input: GetMetricDataCommandInput) => ({
      MetricDataResults: input.MetricDataQueries!.map((q) => ({
        Id: q.Id,
        Timestamps: q.Id === 's100_0' ? [new Date('2026-01-15T09:00:00.000Z')] : [],
        Values: q.Id === 's100_0' ? [7] : [],
        StatusCode: 'Complete' as const,
      })),
    });
    const { client, calls } = cloudwatchWith([answer, answer]);
    const source = new CloudWatchMetricsSource({ cloudwatch: client, kinesis: kinesisWith(101), streamName: 'events' });
    const m = await source.shardMetrics({ range: '7d', now: NOW });
    expect(calls.map((c) => c.MetricDataQueries!.length)).toEqual([MAX_QUERIES_PER_CALL, 5]);
    expect(calls[1]!.MetricDataQueries!.map((q) => q.Id)).toEqual(['s100_0', 's100_1', 's100_2', 's100_3', 's100_4']);
    expect(calls.every((c) => c.MetricDataQueries!.every((q) => q.MetricStat!.Period === 3600))).toBe(true);
    expect(calls[0]!.StartTime).toEqual(new Date('2026-01-08T11:00:00.000Z'));
    expect(calls[0]!.EndTime).toEqual(new Date('2026-01-15T11:00:00.000Z'));
    expect(m.shards.map((s) => s.shardId)).toEqual([shardId(100)]);
    expect(m.shards[0]!.series.IncomingRecords.slice(-2).map((p) => p.v)).toEqual([7, 0]);
  });

  it('sums the ingest counters of every event type with a SEARCH expression', async () => {
    const { client, calls } = cloudwatchWith([
      () => ({
        MetricDataResults: [
          { Id: 'accepted', Timestamps: [minute(13), minute(14)], Values: [120, 30], StatusCode: 'Complete' },
          { Id: 'rejected', Timestamps: [minute(14)], Values: [3], StatusCode: 'Complete' },
        ],
      }),
    ]);
    const source = new CloudWatchMetricsSource({ cloudwatch: client, kinesis: kinesisWith(0), streamName: 'events' });
    const p = await source.pipelineMetrics({ range: '1h', now: NOW });
    expect(calls).toEqual([
      {
        MetricDataQueries: [
          {
            Id: 'accepted',
            Expression: `SUM(SEARCH('{Tributary,service,type} MetricName="EventsAccepted" service="tributary"', 'Sum', 60))`,
            Period: 60,
            ReturnData: true,
          },
          {
            Id: 'rejected',
            Expression: `SUM(SEARCH('{Tributary,service,type} MetricName="EventsRejected" service="tributary"', 'Sum', 60))`,
            Period: 60,
            ReturnData: true,
          },
        ],
        StartTime: new Date('2026-01-15T09:08:00.000Z'),
        EndTime: END,
        ScanBy: 'TimestampAscending',
      },
    ]);
    expect(p.accepted).toHaveLength(60);
    expect(p.accepted.slice(-3).map((x) => x.v)).toEqual([0, 120, 30]);
    expect(p.rejected.slice(-3).map((x) => x.v)).toEqual([0, 0, 3]);
  });

  it('says which permission is missing when CloudWatch refuses', async () => {
    const denied = Object.assign(new Error('User is not authorized to perform: cloudwatch:GetMetricData'), {
      name: 'AccessDenied',
    });
    const { client } = cloudwatchWith([
      () => denied,
      () => ({
        MetricDataResults: [
          {
            Id: 'accepted',
            StatusCode: 'Forbidden',
            Messages: [{ Code: 'Forbidden', Value: 'Insufficient permissions' }],
          },
        ],
      }),
    ]);
    const source = new CloudWatchMetricsSource({ cloudwatch: client, kinesis: kinesisWith(1), streamName: 'events' });
    const err = await source.shardMetrics({ range: '15m', now: NOW }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MetricsError);
    expect((err as MetricsError).code).toBe('metrics_unavailable');
    expect((err as MetricsError).message).toBe(
      "Cannot read CloudWatch metrics: User is not authorized to perform: cloudwatch:GetMetricData. The console's role needs cloudwatch:GetMetricData (and kinesis:ListShards).",
    );
    await expect(source.pipelineMetrics({ range: '15m', now: NOW })).rejects.toThrow(
      "CloudWatch could not answer query accepted: Insufficient permissions. Check the console role's cloudwatch:GetMetricData permission.",
    );
  });
});
