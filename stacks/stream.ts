/**
 * The `events` stream (design.md §3) and its one consumer, the lake writer (design.md §4).
 * SST's KinesisStream defaults to ON_DEMAND capacity; the local runtime's 2 shards are a local default only.
 */
import { lambdaDefaults, tributaryEnvironment } from './lambda.ts';
import { lake, quarantine } from './storage.ts';

export const events = new sst.aws.KinesisStream('Events');

/** Event-source-mapping settings of the lake writer (starting points; tune with the infra issue). */
export const lakeWriterMapping = {
  batchSize: 500,
  maximumBatchingWindowInSeconds: 5,
  maximumRetryAttempts: 5,
  parallelizationFactor: 1,
} as const;

/**
 * Kinesis → lake writer. `subscribe` only exposes `filters` and `transform.eventSourceMapping`, so every mapping
 * setting (including the S3 on-failure destination and the starting position, which SST sets to LATEST) goes through
 * the transform, merged over SST's own arguments.
 */
export const lakeWriter = events.subscribe(
  'LakeWriter',
  {
    ...lambdaDefaults,
    handler: 'functions/lake-writer/handler.handler',
    timeout: '2 minutes',
    memory: '1024 MB',
    // The S3 on-failure destination is written with the function's execution role: the quarantine link grants
    // s3:* on the bucket, which covers the s3:PutObject + s3:ListBucket that Lambda needs.
    link: [lake, quarantine],
    environment: tributaryEnvironment(events.name),
  },
  {
    transform: {
      eventSourceMapping: {
        ...lakeWriterMapping,
        startingPosition: 'TRIM_HORIZON',
        bisectBatchOnFunctionError: true,
        functionResponseTypes: ['ReportBatchItemFailures'],
        // Batches that exhaust their retries are written by Lambda under aws/lambda/<mapping-uuid>/<shard>/… in the
        // quarantine bucket (outside the records/ layout of design.md §5).
        destinationConfig: { onFailure: { destinationArn: quarantine.arn } },
      },
    },
  },
);
