import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  COMPACTION_METRICS,
  CONSUMER_LAG_METRIC,
  IMPORT_METRICS,
  OLTP_METRICS,
  PIPELINE_NAMESPACE,
  PIPELINE_SERVICE,
} from './metrics/types.ts';
import type { KinesisStreamEvent } from 'aws-lambda';
import { batchLag } from './stream/lag.ts';

/**
 * Structured logs and CloudWatch metrics (EMF) through Powertools, shared by every function. The local runtime and the
 * CLI turn logs down (POWERTOOLS_LOG_LEVEL); metrics are off outside Lambda unless POWERTOOLS_METRICS_DISABLED=false.
 */
// Outside Lambda nothing collects EMF lines from stdout; they would only bury the CLI's and the runtime's output.
if (!process.env.AWS_LAMBDA_FUNCTION_NAME) process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

export const logger = new Logger({ serviceName: PIPELINE_SERVICE });
// The console's CloudWatch source searches these names (lib/metrics/cloudwatch.ts).
export const metrics = new Metrics({ namespace: PIPELINE_NAMESPACE, serviceName: PIPELINE_SERVICE });

/** Emits counters as one EMF metric set: each field of `counts` under the metric name `names` gives it. */
function emitCounts<K extends string>(
  counts: Record<K, number>,
  names: Record<K, string>,
  dimensions: Record<string, string> = {},
): void {
  const m = metrics.singleMetric();
  for (const [name, value] of Object.entries(dimensions)) m.addDimension(name, value);
  for (const key of Object.keys(names) as K[]) m.addMetric(names[key], MetricUnit.Count, counts[key]);
}

/** Per-request ingest counters, by event type (the invalid-rate alarm divides Rejected by the sum). */
export function recordIngest(type: string, counts: { accepted: number; rejected: number; failed: number }): void {
  emitCounts(counts, { accepted: 'EventsAccepted', rejected: 'EventsRejected', failed: 'EventsFailed' }, { type });
}

/** Per-batch lake-writer counters. */
export function recordLakeBatch(counts: {
  rows: number;
  quarantined: number;
  objects: number;
  failedObjects: number;
}): void {
  emitCounts(counts, {
    rows: 'LakeRowsWritten',
    quarantined: 'LakeRecordsQuarantined',
    objects: 'LakeObjectsWritten',
    failedObjects: 'LakeObjectWriteFailures',
  });
}

/** Per-batch OLTP sink counters (`failed` counts batches that stopped on an unavailable database). */
export function recordOltpBatch(counts: {
  applied: number;
  duplicates: number;
  rejected: number;
  failed: number;
}): void {
  emitCounts(counts, OLTP_METRICS);
}

/**
 * What one invocation of the import job finished: files published, held for an operator, refused (bad rows) and
 * failed. The alarms watch the last three.
 */
export function recordImports(counts: { published: number; held: number; refused: number; failed: number }): void {
  emitCounts(counts, IMPORT_METRICS);
}

/**
 * Per-run compactor counters. `CompactionPartitionsFailed` (partition-hours a run could not compact) and
 * `CompactionUnreadableObjects` (JSONL objects DuckDB cannot read, left in place until repaired) are what an alarm
 * watches; the handler also fails the invocation when either is non-zero.
 */
export function recordCompaction(counts: {
  partitions: number;
  rows: number;
  failed: number;
  unreadable: number;
}): void {
  emitCounts(counts, COMPACTION_METRICS);
}

/**
 * A consumer's lag per shard for the batch it was handed (lib/stream/lag.ts), one EMF metric per shard with the
 * `consumer` and `shard` dimensions the console's lag charts read (lib/metrics/cloudwatch.ts consumerLag).
 */
export function recordConsumerLag(consumer: string, event: KinesisStreamEvent, now = Date.now()): void {
  for (const [shard, ms] of batchLag(event, now)) {
    const m = metrics.singleMetric();
    m.addDimension('consumer', consumer);
    m.addDimension('shard', shard);
    m.addMetric(CONSUMER_LAG_METRIC, MetricUnit.Milliseconds, ms);
  }
}
