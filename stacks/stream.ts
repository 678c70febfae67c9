/**
 * The `events` stream (design.md §3) and its consumer, the lake writer (design.md §4). PROVISIONED with a fixed shard
 * count (per stage, stacks/settings.ts) so its cost is known and its shard-level metrics feed the console's charts.
 */
import { LAKE_WRITER_MAPPING } from '../lib/stream/mappings.ts';
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
        // The one definition of the mapping (lib/stream/mappings.ts), which the local poller runs too.
        ...LAKE_WRITER_MAPPING,
        functionResponseTypes: [...LAKE_WRITER_MAPPING.functionResponseTypes],
        // Batches that exhaust their retries are written by Lambda under aws/lambda/<mapping-uuid>/<shard>/… in the
        // quarantine bucket (outside the records/ layout of design.md §5); monitoring alarms on every such object.
        destinationConfig: { onFailure: { destinationArn: quarantine.arn } },
      },
    },
  },
);
