import { paginateGetMetricData, type CloudWatchClient, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { errorMessage } from '../errors.ts';
import { listAllShards } from '../aws/kinesis.ts';
import { STREAM_CONSUMERS } from '../stream/mappings.ts';
import {
  CONSUMER_LAG_METRIC,
  type ConsumerLag,
  fillSeries,
  metricsWindow,
  MetricsError,
  PIPELINE_NAMESPACE,
  PIPELINE_SERVICE,
  SHARD_METRICS,
  STATISTIC,
  type MetricsQuery,
  type MetricsSource,
  type MetricsWindow,
  type PipelineMetricName,
  type PipelineMetrics,
  type ShardMetrics,
  type ShardSeries,
  windowFields,
} from './types.ts';

/** GetMetricData takes at most 500 queries per call. */
export const MAX_QUERIES_PER_CALL = 500;

/** The clients of the CloudWatch source: metrics from CloudWatch, the shard list from Kinesis. */
export interface CloudWatchSourceDeps {
  cloudwatch: CloudWatchClient;
  kinesis: KinesisClient;
  streamName: string;
}

type Samples = Map<string, [number, number][]>;

/**
 * Runs metric queries over a window: at most 500 per call, every page of each call (a query's points may be split
 * across pages), points collected per query id as (epoch ms, value).
 */
async function getMetricData(
  cloudwatch: CloudWatchClient,
  queries: MetricDataQuery[],
  window: MetricsWindow,
): Promise<Samples> {
  const out: Samples = new Map();
  for (let i = 0; i < queries.length; i += MAX_QUERIES_PER_CALL) {
    const batch = queries.slice(i, i + MAX_QUERIES_PER_CALL);
    const pages = paginateGetMetricData(
      { client: cloudwatch },
      {
        MetricDataQueries: batch,
        StartTime: new Date(window.start),
        EndTime: new Date(window.end),
        ScanBy: 'TimestampAscending',
      },
    );
    try {
      for await (const res of pages) {
        for (const r of res.MetricDataResults ?? []) {
          if (r.StatusCode === 'Forbidden' || r.StatusCode === 'InternalError') {
            const why = (r.Messages ?? []).map((m) => m.Value).join('; ') || r.StatusCode;
            throw new MetricsError(
              'metrics_unavailable',
              `CloudWatch could not answer query ${r.Id}: ${why}. Check the console role's cloudwatch:GetMetricData permission.`,
            );
          }
          const list = out.get(r.Id!) ?? [];
          (r.Timestamps ?? []).forEach((ts, k) => {
            const v = r.Values?.[k];
            if (v !== undefined) list.push([ts.getTime(), v]);
          });
          out.set(r.Id!, list);
        }
      }
    } catch (err) {
      if (err instanceof MetricsError) throw err;
      throw new MetricsError(
        'metrics_unavailable',
        `Cannot read CloudWatch metrics: ${errorMessage(err)}. The console's role needs cloudwatch:GetMetricData (and kinesis:ListShards).`,
        { cause: err },
      );
    }
  }
  return out;
}

/**
 * Kinesis's shard-level metrics (`AWS/Kinesis`, dimensions StreamName + ShardId; the stream has shard-level metrics
 * enabled) and the ingest API's counters from CloudWatch.
 */
export class CloudWatchMetricsSource implements MetricsSource {
  constructor(readonly deps: CloudWatchSourceDeps) {}

  async shardMetrics({ range, now }: MetricsQuery): Promise<ShardMetrics> {
    const window = metricsWindow(range, now);
    const shardIds = (await listAllShards(this.deps.kinesis, this.deps.streamName)).map((s) => s.ShardId!);
    const queries: MetricDataQuery[] = shardIds.flatMap((shardId, i) =>
      SHARD_METRICS.map((name, j) => ({
        Id: `s${i}_${j}`,
        MetricStat: {
          Metric: {
            Namespace: 'AWS/Kinesis',
            MetricName: name,
            Dimensions: [
              { Name: 'StreamName', Value: this.deps.streamName },
              { Name: 'ShardId', Value: shardId },
            ],
          },
          Period: window.period,
          Stat: STATISTIC[name],
        },
        ReturnData: true,
      })),
    );
    const samples = queries.length
      ? await getMetricData(this.deps.cloudwatch, queries, window)
      : new Map<string, [number, number][]>();
    const shards: ShardSeries[] = [];
    shardIds.forEach((shardId, i) => {
      const of = SHARD_METRICS.map((_, j) => samples.get(`s${i}_${j}`) ?? []);
      // Like the local source, a shard that published nothing in the range (e.g. closed long ago) is left out.
      if (of.every((s) => s.length === 0)) return;
      const series = Object.fromEntries(
        SHARD_METRICS.map((name, j) => [name, fillSeries(window, of[j]!, STATISTIC[name])]),
      ) as ShardSeries['series'];
      shards.push({ shardId, series });
    });
    shards.sort((a, b) => a.shardId.localeCompare(b.shardId));
    return { ...windowFields(range, window), shards };
  }

  /**
   * Each consumer's lag per shard, as the consumers publish it (lib/stream/lag.ts): one query per consumer and shard
   * of the stream, the worst age per bucket.
   */
  async consumerLag({ range, now }: MetricsQuery): Promise<ConsumerLag> {
    const window = metricsWindow(range, now);
    const shardIds = (await listAllShards(this.deps.kinesis, this.deps.streamName)).map((s) => s.ShardId!);
    const pairs = STREAM_CONSUMERS.flatMap((consumer) => shardIds.map((shardId) => ({ consumer, shardId })));
    const queries: MetricDataQuery[] = pairs.map((p, i) => ({
      Id: `l${i}`,
      MetricStat: {
        Metric: {
          Namespace: PIPELINE_NAMESPACE,
          MetricName: CONSUMER_LAG_METRIC,
          Dimensions: [
            { Name: 'service', Value: PIPELINE_SERVICE },
            { Name: 'consumer', Value: p.consumer },
            { Name: 'shard', Value: p.shardId },
          ],
        },
        Period: window.period,
        Stat: 'Maximum',
      },
      ReturnData: true,
    }));
    const samples = queries.length ? await getMetricData(this.deps.cloudwatch, queries, window) : new Map();
    const consumers = STREAM_CONSUMERS.map((consumer) => ({
      consumer,
      shards: pairs
        .map((p, i) => ({ ...p, got: (samples.get(`l${i}`) ?? []) as [number, number][] }))
        .filter((p) => p.consumer === consumer && p.got.length)
        .map((p) => ({ shardId: p.shardId, points: fillSeries(window, p.got, 'Maximum') })),
    })).filter((c) => c.shards.length);
    return { ...windowFields(range, window), consumers };
  }

  /**
   * The ingest counters are published per event type (Powertools adds its `service` dimension), so each is a SEARCH
   * over every type, summed: new types show up without a change here.
   */
  async pipelineMetrics({ range, now }: MetricsQuery): Promise<PipelineMetrics> {
    const window = metricsWindow(range, now);
    const search = (name: PipelineMetricName): MetricDataQuery => ({
      Id: name === 'EventsAccepted' ? 'accepted' : 'rejected',
      Expression: `SUM(SEARCH('{${PIPELINE_NAMESPACE},service,type} MetricName="${name}" service="${PIPELINE_SERVICE}"', 'Sum', ${window.period}))`,
      Period: window.period,
      ReturnData: true,
    });
    const samples = await getMetricData(
      this.deps.cloudwatch,
      [search('EventsAccepted'), search('EventsRejected')],
      window,
    );
    return {
      ...windowFields(range, window),
      accepted: fillSeries(window, samples.get('accepted') ?? [], 'Sum'),
      rejected: fillSeries(window, samples.get('rejected') ?? [], 'Sum'),
    };
  }
}
