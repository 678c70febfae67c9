/**
 * The `events` stream and its consumer, the lake writer (architecture.md §5, §6). PROVISIONED with a fixed shard
 * count (per stage, stacks/settings.ts) so its cost is known and its shard-level metrics feed the console's charts.
 */
import { LAKE_WRITER_MAPPING } from '../lib/stream/mappings.ts';
import { eventSourceRead, grants, objects, onFailureDestination } from './access.ts';
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
 * The lake writer: Kinesis batches → partitioned objects in the lake, undecodable records → quarantine
 * (lib/lake/writer.ts). Its own function, subscribed below by ARN, so its role is exactly these grants (stacks/access.ts).
 */
export const lakeWriterFunction = new sst.aws.Function('LakeWriter', {
  ...lambdaDefaults,
  handler: 'functions/lake-writer/handler.handler',
  timeout: '2 minutes',
  memory: '1024 MB',
  environment: tributaryEnvironment(events.name),
  permissions: grants(
    eventSourceRead(events),
    {
      actions: ['s3:GetObject', 's3:PutObject'],
      resources: objects(lake, '_tributary/journal/'),
      why: 'the per-shard journal of objects written by attempts not yet checkpointed (commitPlan)',
    },
    {
      actions: ['s3:PutObject', 's3:DeleteObject'],
      resources: objects(lake, 'events/'),
      why: 'the JSONL objects of a batch; a retried batch first deletes what an earlier attempt wrote (commitPlan)',
    },
    {
      actions: ['s3:PutObject', 's3:DeleteObject'],
      resources: objects(lake, 'imports/*/changes/'),
      why: "a table import's operations, with their table's changes; a retried batch first deletes what an earlier attempt wrote",
    },
    {
      actions: ['s3:ListBucket'],
      resources: [lake.arn],
      why: 'the first batch of a shard reads a journal that does not exist yet: S3 answers 404 only with ListBucket (403 without)',
    },
    {
      actions: ['s3:PutObject', 's3:DeleteObject'],
      resources: objects(quarantine, 'records/'),
      why: 'undecodable records are quarantined; a retried batch first deletes what an earlier attempt wrote',
    },
    ...onFailureDestination(quarantine),
  ),
});

/**
 * Kinesis → lake writer. `subscribe` only exposes `filters` and `transform.eventSourceMapping`, so every mapping
 * setting (including the S3 on-failure destination and the starting position, which SST sets to LATEST) goes through
 * the transform, merged over SST's own arguments.
 */
export const lakeWriter = events.subscribe('LakeWriter', lakeWriterFunction.arn, {
  transform: {
    eventSourceMapping: {
      // The one definition of the mapping (lib/stream/mappings.ts), which the local poller runs too.
      ...LAKE_WRITER_MAPPING,
      functionResponseTypes: [...LAKE_WRITER_MAPPING.functionResponseTypes],
      // Batches that exhaust their retries are written by Lambda under aws/lambda/<mapping-uuid>/<shard>/… in the
      // quarantine bucket (outside the records/ layout of architecture.md §7); monitoring alarms on every such object.
      destinationConfig: { onFailure: { destinationArn: quarantine.arn } },
    },
  },
});
