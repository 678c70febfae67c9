import { TributaryError } from '../errors.ts';

/** Failures of the metrics port: a range it does not know (400), or a metrics store it cannot read (502). */
export class MetricsError extends TributaryError {
  constructor(
    code: 'bad_range' | 'metrics_unavailable' | 'metrics_unreadable',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, { ...options, status: code === 'bad_range' ? 400 : 502 });
  }
}

/** Kinesis's shard-level metrics (CloudWatch namespace `AWS/Kinesis`), under the same names in both modes. */
export const SHARD_METRICS = [
  'IncomingRecords',
  'IncomingBytes',
  'OutgoingRecords',
  'WriteProvisionedThroughputExceeded',
  'IteratorAgeMilliseconds',
] as const;
export type ShardMetricName = (typeof SHARD_METRICS)[number];

/** The ingest API's counters (namespace `Tributary`, emitted by lib/observability.ts). */
export const PIPELINE_METRICS = ['EventsAccepted', 'EventsRejected'] as const;
export type PipelineMetricName = (typeof PIPELINE_METRICS)[number];
/**
 * Counters of the OLTP sink and the compactor (namespace `Tributary`, emitted by lib/observability.ts); the alarms in
 * stacks/monitoring.ts watch these names, so both read them from here.
 */
export const OLTP_METRICS = {
  applied: 'OltpEventsApplied',
  duplicates: 'OltpEventsDuplicate',
  rejected: 'OltpEventsRejected',
  failed: 'OltpBatchesFailed',
} as const;
export const COMPACTION_METRICS = {
  partitions: 'CompactionPartitions',
  rows: 'CompactionRows',
  failed: 'CompactionPartitionsFailed',
  unreadable: 'CompactionUnreadableObjects',
} as const;
/** What the import job's runs ended with (lib/imports/drops.ts): files by the status a run left them in. */
export const IMPORT_METRICS = {
  published: 'ImportsPublished',
  held: 'ImportsHeld',
  refused: 'ImportsRefused',
  failed: 'ImportsFailed',
} as const;
/** CloudWatch namespace and Powertools `service` dimension of Tributary's own metrics. */
export const PIPELINE_NAMESPACE = 'Tributary';
export const PIPELINE_SERVICE = 'tributary';

/**
 * How far behind the stream each consumer is, per shard: the age of the newest record it read (namespace `Tributary`,
 * dimensions `consumer` and `shard`), recorded by the local poller, and by the consumers themselves in AWS
 * (lib/stream/lag.ts).
 */
export const CONSUMER_LAG_METRIC = 'ConsumerLagMilliseconds';
export type ConsumerLagMetricName = typeof CONSUMER_LAG_METRIC;

export type MetricName = ShardMetricName | PipelineMetricName | ConsumerLagMetricName;

/** How values of one metric combine into a bucket: counts add up; an age is the worst one seen. */
export type MetricStatistic = 'Sum' | 'Maximum';

/** The statistic of each metric (the one CloudWatch is asked for, and the one the local recorder aggregates with). */
export const STATISTIC: Record<MetricName, MetricStatistic> = {
  IncomingRecords: 'Sum',
  IncomingBytes: 'Sum',
  OutgoingRecords: 'Sum',
  WriteProvisionedThroughputExceeded: 'Sum',
  IteratorAgeMilliseconds: 'Maximum',
  EventsAccepted: 'Sum',
  EventsRejected: 'Sum',
  ConsumerLagMilliseconds: 'Maximum',
};

/**
 * The chart ranges. Data is recorded per minute; long ranges are read in bigger buckets so a chart stays under ~300
 * points (24 h → 288 five-minute buckets, 7 d → 168 hours).
 */
export const RANGES = {
  '15m': { seconds: 15 * 60, period: 60, label: 'the last 15 minutes' },
  '1h': { seconds: 3600, period: 60, label: 'the last hour' },
  '24h': { seconds: 24 * 3600, period: 300, label: 'the last 24 hours' },
  '7d': { seconds: 7 * 24 * 3600, period: 3600, label: 'the last 7 days' },
  '14d': { seconds: 14 * 24 * 3600, period: 3600, label: 'the last 14 days' },
} as const;
/** `15m`, `1h`, `24h` or `7d`. */
export type MetricsRange = keyof typeof RANGES;
export const RANGE_NAMES = Object.keys(RANGES) as MetricsRange[];

/** Validates a range from a query string; absent means 15 minutes. */
export function parseRange(raw: string | null | undefined): MetricsRange {
  if (raw === null || raw === undefined || raw === '') return '15m';
  if (Object.hasOwn(RANGES, raw)) return raw as MetricsRange;
  throw new MetricsError(
    'bad_range',
    `range=${JSON.stringify(raw)} is not a metrics range; use one of ${RANGE_NAMES.join(', ')}.`,
  );
}

/** One bucket of a series: its start (epoch ms) and value; null where an age was never measured (nothing read). */
export interface Point {
  t: number;
  v: number | null;
}

/** The buckets of a range ending now: `times` are bucket starts, the last bucket holds now (it is still filling). */
export interface MetricsWindow {
  /** Seconds per bucket. */
  period: number;
  /** Start of the first bucket, epoch ms. */
  start: number;
  /** End of the last bucket (exclusive), epoch ms. */
  end: number;
  /** The instant the window was taken at (inside the last bucket), epoch ms. */
  at: number;
  times: number[];
}

/** The aligned buckets of `range` at `now`; both sources use it so their series line up point for point. */
export function metricsWindow(range: MetricsRange, now: Date): MetricsWindow {
  const { seconds, period } = RANGES[range];
  const step = period * 1000;
  const last = Math.floor(now.getTime() / step) * step;
  const n = seconds / period;
  const times = Array.from({ length: n }, (_, i) => last - (n - 1 - i) * step);
  return { period, start: times[0]!, end: last + step, at: now.getTime(), times };
}

/** The fields every metrics answer starts with: its range and window. */
export function windowFields(
  range: MetricsRange,
  w: MetricsWindow,
): { range: MetricsRange; period: number; start: number; end: number; at: number } {
  return { range, period: w.period, start: w.start, end: w.end, at: w.at };
}

/**
 * Puts samples (epoch ms, value) into the window's buckets with the metric's statistic. Empty buckets of a count are 0,
 * so lines stay continuous; an empty bucket of an age is null (a gap: nothing was reading then).
 */
export function fillSeries(
  window: MetricsWindow,
  samples: Iterable<readonly [number, number]>,
  stat: MetricStatistic,
): Point[] {
  const step = window.period * 1000;
  const values: (number | null)[] = window.times.map(() => null);
  for (const [t, v] of samples) {
    if (t < window.start || t >= window.end) continue;
    const i = Math.floor((t - window.start) / step);
    const cur = values[i];
    values[i] = cur === null || cur === undefined ? v : stat === 'Sum' ? cur + v : Math.max(cur, v);
  }
  return window.times.map((t, i) => ({ t, v: values[i] ?? (stat === 'Sum' ? 0 : null) }));
}

/** One shard's series, one per Kinesis metric, over the same buckets. */
export interface ShardSeries {
  shardId: string;
  series: Record<ShardMetricName, Point[]>;
}

/** Per-shard series of a range, one point per bucket. */
export interface ShardMetrics {
  range: MetricsRange;
  period: number;
  start: number;
  end: number;
  at: number;
  /** Shards with any data in the range, by id. */
  shards: ShardSeries[];
}

/** Accepted and rejected events per bucket, over every event type. */
export interface PipelineMetrics {
  range: MetricsRange;
  period: number;
  start: number;
  end: number;
  at: number;
  accepted: Point[];
  rejected: Point[];
}

/** Each consumer's lag per shard over a range: the worst age per bucket, null where it read nothing. */
export interface ConsumerLag {
  range: MetricsRange;
  period: number;
  start: number;
  end: number;
  at: number;
  consumers: { consumer: string; shards: { shardId: string; points: Point[] }[] }[];
}

/** The worst lag at the end of a range: the last measured age of every consumer and shard (null: none measured). */
export function worstLag(lag: ConsumerLag): { ms: number; consumer: string; shardId: string } | null {
  let worst: { ms: number; consumer: string; shardId: string } | null = null;
  for (const c of lag.consumers)
    for (const s of c.shards) {
      const last = [...s.points].reverse().find((p) => p.v !== null);
      if (last && (!worst || last.v! > worst.ms)) worst = { ms: last.v!, consumer: c.consumer, shardId: s.shardId };
    }
  return worst;
}

/** A range ending at `now`. */
export interface MetricsQuery {
  range: MetricsRange;
  now: Date;
}

/** Where the console's charts come from: CloudWatch in AWS, the local runtime's recordings offline. */
export interface MetricsSource {
  shardMetrics(q: MetricsQuery): Promise<ShardMetrics>;
  pipelineMetrics(q: MetricsQuery): Promise<PipelineMetrics>;
  consumerLag(q: MetricsQuery): Promise<ConsumerLag>;
}

/**
 * What the local runtime counts in place of Kinesis's and CloudWatch's own metrics. In AWS nothing records: the
 * services publish these themselves.
 */
export interface ShardMetricsRecorder {
  /** Records a PutRecords call's effect on one shard: entries stored, their bytes, entries refused as throttled. */
  recordPut(shardId: string, records: number, bytes: number, throttled: number): void;
  /** Records one GetRecords on a shard: records returned and how far behind the tip the reader was. */
  recordRead(shardId: string, records: number, iteratorAgeMs: number): void;
  /** Records one ingest request's accepted and rejected events. */
  recordIngest(type: string, accepted: number, rejected: number): void;
  /** Records how far behind a consumer is on a shard (the age of the newest record it read; 0 when caught up). */
  recordConsumerLag(consumer: string, shardId: string, ageMs: number): void;
}

const TRAFFIC: ShardMetricName[] = [
  'IncomingRecords',
  'IncomingBytes',
  'OutgoingRecords',
  'WriteProvisionedThroughputExceeded',
];

/** Whether anything moved in the range (an idle reader's zero iterator age is not traffic). */
export function hasTraffic(m: ShardMetrics): boolean {
  return m.shards.some((s) => TRAFFIC.some((name) => s.series[name].some((p) => (p.v ?? 0) > 0)));
}

/** A metric over every shard and bucket of the range: the total of a count, the worst of an age (null: none). */
export function metricTotal(m: ShardMetrics, metric: ShardMetricName): number | null {
  let out: number | null = null;
  for (const s of m.shards) {
    for (const p of s.series[metric]) {
      if (p.v === null) continue;
      out = out === null ? p.v : STATISTIC[metric] === 'Sum' ? out + p.v : Math.max(out, p.v);
    }
  }
  return out;
}

/** Rows for a chart of one metric: `{t, <shardId>: value, …}` per bucket. */
export function chartRows(m: ShardMetrics, metric: ShardMetricName): Record<string, number | null>[] {
  const first = m.shards[0]?.series[metric] ?? [];
  return first.map((p, i) => {
    const row: Record<string, number | null> = { t: p.t };
    for (const s of m.shards) row[s.shardId] = s.series[metric][i]?.v ?? null;
    return row;
  });
}

/**
 * Events per minute over the last `minutes` one-minute buckets of a series, the still-filling current one included and
 * weighted by how much of it has passed, so a tile moves as soon as events arrive.
 */
export function ratePerMinute(series: Point[], now: Date, minutes = 5): number {
  const first = Math.floor(now.getTime() / 60_000) * 60_000 - (minutes - 1) * 60_000;
  const sum = series.reduce((s, p) => (p.t >= first ? s + (p.v ?? 0) : s), 0);
  return (sum / Math.max(1, now.getTime() - first)) * 60_000;
}
