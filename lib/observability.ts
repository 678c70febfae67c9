import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { PIPELINE_NAMESPACE, PIPELINE_SERVICE } from './metrics/types.ts';

/**
 * Structured logs and CloudWatch metrics (EMF) through Powertools, shared by every function. The local runtime and the
 * CLI turn logs down (POWERTOOLS_LOG_LEVEL); metrics are off outside Lambda unless POWERTOOLS_METRICS_DISABLED=false.
 */
// Outside Lambda nothing collects EMF lines from stdout; they would only bury the CLI's and the runtime's output.
if (!process.env.AWS_LAMBDA_FUNCTION_NAME) process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

export const logger = new Logger({ serviceName: PIPELINE_SERVICE });
// The console's CloudWatch source searches these names (lib/metrics/cloudwatch.ts).
export const metrics = new Metrics({ namespace: PIPELINE_NAMESPACE, serviceName: PIPELINE_SERVICE });

/** Per-request ingest counters, by event type (the invalid-rate alarm divides Rejected by the sum). */
export function recordIngest(type: string, counts: { accepted: number; rejected: number; failed: number }): void {
  const m = metrics.singleMetric();
  m.addDimension('type', type);
  m.addMetric('EventsAccepted', MetricUnit.Count, counts.accepted);
  m.addMetric('EventsRejected', MetricUnit.Count, counts.rejected);
  m.addMetric('EventsFailed', MetricUnit.Count, counts.failed);
}

/** Per-batch lake-writer counters. */
export function recordLakeBatch(counts: {
  rows: number;
  quarantined: number;
  objects: number;
  failedObjects: number;
}): void {
  const m = metrics.singleMetric();
  m.addMetric('LakeRowsWritten', MetricUnit.Count, counts.rows);
  m.addMetric('LakeRecordsQuarantined', MetricUnit.Count, counts.quarantined);
  m.addMetric('LakeObjectsWritten', MetricUnit.Count, counts.objects);
  m.addMetric('LakeObjectWriteFailures', MetricUnit.Count, counts.failedObjects);
}

/** Per-batch OLTP sink counters (`failed` counts batches that stopped on an unavailable database). */
export function recordOltpBatch(counts: {
  applied: number;
  duplicates: number;
  rejected: number;
  failed: number;
}): void {
  const m = metrics.singleMetric();
  m.addMetric('OltpEventsApplied', MetricUnit.Count, counts.applied);
  m.addMetric('OltpEventsDuplicate', MetricUnit.Count, counts.duplicates);
  m.addMetric('OltpEventsRejected', MetricUnit.Count, counts.rejected);
  m.addMetric('OltpBatchesFailed', MetricUnit.Count, counts.failed);
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
  const m = metrics.singleMetric();
  m.addMetric('CompactionPartitions', MetricUnit.Count, counts.partitions);
  m.addMetric('CompactionRows', MetricUnit.Count, counts.rows);
  m.addMetric('CompactionPartitionsFailed', MetricUnit.Count, counts.failed);
  m.addMetric('CompactionUnreadableObjects', MetricUnit.Count, counts.unreadable);
}
