/**
 * Table imports in AWS (lib/imports, README "Table imports"): the import job, which the imports bucket's notifications
 * of `exports/` and `raw/` start and a schedule sweeps every minute, and the import applier subscribed to the stream.
 * Both use the database (the registry and the imported tables), so they run in the private subnets like the OLTP sink,
 * each with a security group of its own.
 *
 * A resumable Lambda function, not a state machine: the job's state is already durable where it must be (the
 * registry and its lease in Postgres, the snapshot in the lake, the count of operations on the stream), each step is
 * repeatable, and the job stops a minute before its 15-minute timeout with its progress saved. What a Step Functions
 * workflow would add — retries, waiting for an operator, resuming — the registry, the sweep and the lease already do,
 * and a state machine would be a second description of the same steps to keep in step with the code.
 *
 * The job puts operations on the stream from inside the VPC, which has no NAT: a Kinesis interface endpoint (private
 * DNS, one AZ outside production, like the Secrets Manager endpoint) whose policy allows only PutRecords on the
 * stream. S3 goes through the gateway endpoint (stacks/database.ts).
 */
import { IMPORT_APPLIER_MAPPING } from '../lib/stream/mappings.ts';
import { eventSourceRead, objects, onFailureDestination } from './access.ts';
import { databaseClientNetwork, databaseFunctionArgs, s3Endpoint, vpc } from './database.ts';
import { settings } from './settings.ts';
import { imports, lake, quarantine } from './storage.ts';
import { events } from './stream.ts';

const region = aws.getRegionOutput().region;

/** HTTPS to S3 through the gateway endpoint's prefix list. */
const toS3 = (name: string, group: aws.ec2.SecurityGroup) =>
  new aws.vpc.SecurityGroupEgressRule(`${name}ToS3`, {
    securityGroupId: group.id,
    prefixListId: s3Endpoint.prefixListId,
    ipProtocol: 'tcp',
    fromPort: 443,
    toPort: 443,
    description: 'HTTPS to S3 through the gateway endpoint',
  });

/** The applier: no inbound rules; outbound only to the database, Secrets Manager and S3 (quarantine writes). */
export const applierNetwork = databaseClientNetwork(
  'ImportApplier',
  'import applier',
  'Tributary import applier Lambda: no inbound; out to the database, Secrets Manager, S3',
);
export const applierToS3 = toS3('ImportApplier', applierNetwork.group);

/** The job: no inbound rules; outbound only to the database, Secrets Manager, S3 and the Kinesis endpoint. */
export const jobNetwork = databaseClientNetwork(
  'ImportJob',
  'import job',
  'Tributary import job Lambda: no inbound; out to the database, Secrets Manager, S3, the Kinesis endpoint',
);
export const jobToS3 = toS3('ImportJob', jobNetwork.group);

export const kinesisEndpointSecurityGroup = new aws.ec2.SecurityGroup('KinesisEndpointSecurityGroup', {
  vpcId: vpc.id,
  description: 'Kinesis endpoint: HTTPS from the import job only',
});

export const kinesisEndpointFromJob = new aws.vpc.SecurityGroupIngressRule('KinesisEndpointFromImportJob', {
  securityGroupId: kinesisEndpointSecurityGroup.id,
  referencedSecurityGroupId: jobNetwork.group.id,
  ipProtocol: 'tcp',
  fromPort: 443,
  toPort: 443,
  description: 'HTTPS from the import job',
});

export const jobToKinesis = new aws.vpc.SecurityGroupEgressRule('ImportJobToKinesis', {
  securityGroupId: jobNetwork.group.id,
  referencedSecurityGroupId: kinesisEndpointSecurityGroup.id,
  ipProtocol: 'tcp',
  fromPort: 443,
  toPort: 443,
  description: 'HTTPS to the Kinesis endpoint',
});

export const kinesisEndpoint = new aws.ec2.VpcEndpoint('KinesisEndpoint', {
  vpcId: vpc.id,
  serviceName: $interpolate`com.amazonaws.${region}.kinesis-streams`,
  vpcEndpointType: 'Interface',
  // The SDK's default endpoint (kinesis.<region>.amazonaws.com) resolves to the endpoint's ENIs.
  privateDnsEnabled: true,
  subnetIds: vpc.privateSubnets.apply((subnets) => subnets.slice(0, settings.database.secretsEndpointZones)),
  securityGroupIds: [kinesisEndpointSecurityGroup.id],
  // Any principal (IAM decides who), but only to list the shards of this stage's stream and put records on it.
  policy: $jsonStringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: '*', Action: ['kinesis:ListShards', 'kinesis:PutRecords'], Resource: events.arn },
    ],
  }),
});

/** Kinesis → import applier → the imported tables; operations the database refuses go to the quarantine. */
export const importApplierFunction = new sst.aws.Function('ImportApplier', {
  ...databaseFunctionArgs(
    applierNetwork,
    eventSourceRead(events),
    {
      actions: ['s3:PutObject'],
      resources: objects(quarantine, 'records/'),
      why: 'operations the database refuses are quarantined (lib/imports/applier.ts)',
    },
    ...onFailureDestination(quarantine),
  ),
  handler: 'functions/import-applier/handler.handler',
  timeout: '1 minute',
  memory: '1024 MB',
});

export const importApplier = events.subscribe('ImportApplier', importApplierFunction.arn, {
  transform: {
    eventSourceMapping: {
      // The one definition of the mapping, its `import.` prefix filter included (lib/stream/mappings.ts), which the
      // local poller runs too.
      ...IMPORT_APPLIER_MAPPING,
      functionResponseTypes: [...IMPORT_APPLIER_MAPPING.functionResponseTypes],
      filterCriteria: { filters: (IMPORT_APPLIER_MAPPING.filterCriteria?.filters ?? []).map((f) => ({ ...f })) },
      destinationConfig: { onFailure: { destinationArn: quarantine.arn } },
    },
  },
});

/** The import job (functions/import-job): dropped exports → delta → snapshot → operations on the stream. */
export const importJobFunction = new sst.aws.Function('ImportJob', {
  ...databaseFunctionArgs(
    jobNetwork,
    {
      actions: ['s3:GetObject'],
      resources: objects(imports, 'exports/', 'raw/'),
      why: 'reads the dropped exports and raw event files (lib/imports/job.ts, drops.ts)',
    },
    {
      actions: ['s3:ListBucket'],
      resources: [imports.arn],
      why: 'a file deleted before its import answers 404 only with ListBucket, else 403 (lib/imports/job.ts)',
    },
    {
      actions: ['s3:GetObject', 's3:PutObject'],
      resources: objects(lake, 'imports/*/snapshots/'),
      why: "writes each published export's Parquet snapshot, reads the last one as the next delta's base",
    },
    {
      actions: ['s3:ListBucket'],
      resources: [lake.arn],
      why: 'a missing snapshot answers 404 only with ListBucket, else 403 (the import then waits, saying so)',
    },
    {
      actions: ['s3:PutObject'],
      resources: objects(quarantine, 'records/'),
      why: 'quarantines the rows of a refused export (lib/imports/job.ts)',
    },
    {
      actions: ['kinesis:ListShards', 'kinesis:PutRecords'],
      resources: [events.arn],
      why: 'puts the operations of an export on the stream, aggregated by the shard their keys hash into (lib/imports/job.ts)',
    },
  ),
  handler: 'functions/import-job/handler.handler',
  // The job stops a minute before this with its progress saved; the sweep goes on from there.
  timeout: '15 minutes',
  // DuckDB's delta of a million-row export, in memory and in /tmp.
  memory: '3008 MB',
  // DuckDB is native: installed for the function's platform, as for the compactor.
  nodejs: { install: { '@duckdb/node-api': '1.5.6-r.1' } },
});

/** New exports and raw files start the job at once (S3 delivers at least once; the registry keeps one file once). */
export const importNotifications = imports.notify({
  notifications: [
    { name: 'Exports', function: importJobFunction.arn, events: ['s3:ObjectCreated:*'], filterPrefix: 'exports/' },
    { name: 'RawFiles', function: importJobFunction.arn, events: ['s3:ObjectCreated:*'], filterPrefix: 'raw/' },
  ],
});

/**
 * Every minute, the job runs the tables with work left: an import that stopped at its deadline, one whose job died,
 * a held one an operator approved, a notification that never came.
 */
export const importSweep = new sst.aws.Cron('ImportSweep', {
  schedule: 'rate(1 minute)',
  function: importJobFunction.arn,
  event: { sweep: true },
});
