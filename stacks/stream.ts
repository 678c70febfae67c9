/**
 * The `events` stream (design.md §3) and its consumer, the lake writer (design.md §4). PROVISIONED with a fixed shard
 * count (per stage, stacks/settings.ts) so its cost is known and its shard-level metrics feed the console's charts.
 */
import { lambdaDefaults, tributaryEnvironment } from './lambda.ts';
import { settings, SHARD_LEVEL_METRICS } from './settings.ts';
import { lake, quarantine } from './storage.ts';

export const events = new sst.aws.KinesisStream('Events', {
  transform: {
    stream: (args) => {
      args.streamModeDetails = { streamMode: 'PROVISIONED' };
      args.shardCount = settings.shards;
      args.retentionPeriod = settings.retentionHours;
      args.shardLevelMetrics = [...SHARD_LEVEL_METRICS];
      args.encryptionType = 'KMS';
      args.kmsKeyId = 'alias/aws/kinesis';
    },
  },
});

/**
 * Event-source-mapping settings of the lake writer. Without `ReportBatchItemFailures` Lambda ignores the partial
 * failures the handler reports and retries whole batches; with bisect, a poison record is isolated instead of blocking
 * its shard; after the retries (or a day) a batch goes to the S3 on-failure destination, never silently away.
 */
export const lakeWriterMapping = {
  batchSize: 500,
  maximumBatchingWindowInSeconds: 5,
  maximumRetryAttempts: 5,
  maximumRecordAgeInSeconds: 86_400,
  parallelizationFactor: 1,
  bisectBatchOnFunctionError: true,
  functionResponseTypes: ['ReportBatchItemFailures'],
  startingPosition: 'TRIM_HORIZON',
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
    // s3 access to the bucket, which covers the s3:PutObject + s3:ListBucket that Lambda needs.
    link: [lake, quarantine],
    environment: tributaryEnvironment(events.name),
  },
  {
    transform: {
      eventSourceMapping: {
        ...lakeWriterMapping,
        functionResponseTypes: [...lakeWriterMapping.functionResponseTypes],
        // Batches that exhaust their retries are written by Lambda under aws/lambda/<mapping-uuid>/<shard>/… in the
        // quarantine bucket (outside the records/ layout of design.md §5); monitoring alarms on every such object.
        destinationConfig: { onFailure: { destinationArn: quarantine.arn } },
      },
    },
  },
);
