/**
 * The Lambda event-source mappings of the stream's consumers, once, in the field names of the Lambda API (as
 * `aws.lambda.EventSourceMapping` takes them). `stacks/` deploys them as they are; the local poller (`local/poller.ts`)
 * runs them with the local overrides `local/dev.ts` lists and the README explains.
 */
export interface KinesisMapping {
  batchSize: number;
  maximumBatchingWindowInSeconds: number;
  /** -1: retry until the records expire. */
  maximumRetryAttempts: number;
  /** -1: no limit. */
  maximumRecordAgeInSeconds: number;
  parallelizationFactor: number;
  bisectBatchOnFunctionError: boolean;
  functionResponseTypes: 'ReportBatchItemFailures'[];
  startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /** Lambda event filtering: only records matching one of the patterns reach the function. */
  filterCriteria?: { filters: { pattern: string }[] };
}

/**
 * The lake writer. Without `ReportBatchItemFailures` Lambda ignores the partial failures the handler reports and
 * retries whole batches; with bisect, a poison record is isolated instead of blocking its shard; after 5 retries (or a
 * day) a batch goes to the S3 on-failure destination, never silently away.
 */
export const LAKE_WRITER_MAPPING: KinesisMapping = {
  batchSize: 500,
  maximumBatchingWindowInSeconds: 5,
  maximumRetryAttempts: 5,
  maximumRecordAgeInSeconds: 86_400,
  parallelizationFactor: 1,
  bisectBatchOnFunctionError: true,
  functionResponseTypes: ['ReportBatchItemFailures'],
  startingPosition: 'TRIM_HORIZON',
};

/**
 * The OLTP sink never gives up on a batch: every failure the handler does not isolate itself (it quarantines events
 * the database refuses and reports the rest with `ReportBatchItemFailures`) means the database is unavailable, so the
 * shard waits and retries — no bisecting, no retry limit, no maximum record age — until it is back (the iterator-age
 * alarm says so meanwhile). Only `transactions` envelopes reach it (filtering on the decoded record; records that are
 * not JSON never match, the lake writer quarantines those).
 */
export const OLTP_SINK_MAPPING: KinesisMapping = {
  batchSize: 500,
  maximumBatchingWindowInSeconds: 5,
  maximumRetryAttempts: -1,
  maximumRecordAgeInSeconds: -1,
  parallelizationFactor: 1,
  bisectBatchOnFunctionError: false,
  functionResponseTypes: ['ReportBatchItemFailures'],
  startingPosition: 'TRIM_HORIZON',
  filterCriteria: { filters: [{ pattern: JSON.stringify({ data: { type: ['transactions'] } }) }] },
};

/**
 * The import applier (lib/imports/applier.ts) waits out a database outage like the OLTP sink, and gets only a table
 * import's operations: envelopes and aggregates of them (lib/stream/aggregate.ts) of types `import.<table>`
 * (lib/imports/ops.ts CHANGES_PREFIX, a dot no event type has). Lambda filters Kinesis records on `data` only. A batch
 * is at most 10 records: an aggregate holds up to 1,000 operations, and the batch must be applied inside the
 * function's minute even on a database just resumed.
 */
export const IMPORT_APPLIER_MAPPING: KinesisMapping = {
  ...OLTP_SINK_MAPPING,
  batchSize: 10,
  filterCriteria: { filters: [{ pattern: JSON.stringify({ data: { type: [{ prefix: 'import.' }] } }) }] },
};

/**
 * The stream's consumers by name (the local poller's and the lag metric's), mapped by LAKE_WRITER_MAPPING,
 * OLTP_SINK_MAPPING and IMPORT_APPLIER_MAPPING.
 */
export const STREAM_CONSUMERS = ['lake-writer', 'oltp-sink', 'import-applier'] as const;
export type StreamConsumer = (typeof STREAM_CONSUMERS)[number];
