/**
 * The OLTP database and its clients: Aurora Serverless v2 PostgreSQL in a private VPC, the OLTP sink that loads
 * `transactions` events from the `events` stream into it (functions/oltp-sink, lib/oltp), and the console database
 * function that answers the console's requests of the database from inside the VPC (functions/console-db; the
 * console is not in the VPC). The
 * table-import functions are database clients too (stacks/imports.ts, with `databaseClientNetwork`).
 *
 * Network (no NAT gateway, so nothing here costs per hour except the Secrets Manager endpoint):
 * - `Vpc`: two AZs, a public and a private subnet in each (SST's layout). The database and both functions live in the
 *   private subnets, which have no route to the internet. The VPC's default security group is emptied (nothing uses it).
 * - Security groups: the database admits Postgres (5432) only from the groups of its client functions (the sink, the
 *   console database function, the import functions) and from the bastion's when one is enabled; no function admits
 *   anything. Each may open connections to the database and to the Secrets Manager endpoint; the sink also to S3
 *   (through the gateway endpoint's prefix list).
 * - S3 gateway endpoint (free) on the private route tables: the sink's quarantine writes. Its policy allows only
 *   s3:PutObject under records/ of the quarantine bucket, so the VPC cannot be used to copy data anywhere else.
 * - Secrets Manager interface endpoint: lib/oltp/db.ts reads the Aurora password at run time from the secret whose ARN
 *   it gets (TRIBUTARY_DB_SECRET_ARN), so the password is never in a function's configuration and a rotated one is
 *   picked up within minutes. Without NAT, an interface endpoint is the only way the functions can reach Secrets
 *   Manager; the alternatives were worse: a NAT gateway costs ~4.5x as much per AZ-hour plus data, and putting the
 *   password in the environment exposes it to anyone with lambda:GetFunctionConfiguration. The endpoint bills per
 *   AZ-hour, so it gets an ENI in one AZ outside production (the functions reach it across AZs) and in both on production.
 * - Kinesis needs no endpoint: the Lambda service polls the stream and invokes the sink.
 *
 * On production the cluster is protected from deletion and kept (with its instance, its password secret and the
 * security groups it depends on) when the stage is removed, like the data buckets.
 */
import { OLTP_SINK_MAPPING } from '../lib/stream/mappings.ts';
import { eventSourceRead, grants, objects, onFailureDestination, type Grant } from './access.ts';
import { lambdaDefaults, tributaryEnvironment } from './lambda.ts';
import { settings } from './settings.ts';
import { imports, lake, quarantine } from './storage.ts';
import { events } from './stream.ts';

export const DB_PORT = 5432;
export const DB_NAME = 'tributary';
/**
 * Aurora PostgreSQL 17.4: every Aurora PostgreSQL 17 release supports a 0 ACU minimum (auto-pause); in older majors it
 * needs 16.3+, 15.7+, 14.12+ or 13.15+. Pinned so the parameter-group family and the engine are reviewed changes.
 */
export const DB_ENGINE_VERSION = '17.4';
/** The RDS certificate authorities the Lambda Node.js runtime ships; Node 20+ does not load them unless told to. */
export const RDS_CA_BUNDLE = '/var/runtime/ca-cert.pem';

const keep = settings.production;

// The Aurora component has no transform for its password secret: keep it (and its value) with a retained cluster, or
// the password of a production database would be deleted with the stage. Registered before the cluster is created.
$transform(aws.secretsmanager.Secret, (_args, opts, name) => {
  if (name === 'DatabaseProxySecret') opts.retainOnDelete = keep;
});
$transform(aws.secretsmanager.SecretVersion, (_args, opts, name) => {
  if (name === 'DatabaseProxySecretVersion') opts.retainOnDelete = keep;
});

export const vpc = new sst.aws.Vpc('Vpc', {
  az: 2,
  bastion: settings.database.bastion,
  transform: {
    // SST's default security group allows everything from inside the VPC. Nothing here uses it; emptied, it cannot
    // open a path to the database by accident (AWS Security Hub EC2.2).
    securityGroup: (args) => {
      args.ingress = [];
      args.egress = [];
    },
  },
});

const region = aws.getRegionOutput().region;

/** The database admits Postgres from its clients (below) and the bastion (when enabled), and nothing else. */
export const databaseSecurityGroup = new aws.ec2.SecurityGroup(
  'DatabaseSecurityGroup',
  { vpcId: vpc.id, description: 'Tributary Aurora: Postgres from the OLTP sink and status functions only' },
  { retainOnDelete: keep },
);

export const secretsEndpointSecurityGroup = new aws.ec2.SecurityGroup('SecretsManagerEndpointSecurityGroup', {
  vpcId: vpc.id,
  description: 'Secrets Manager endpoint: HTTPS from the OLTP sink and status functions only',
});

/** The security group of a function that uses the database, and the rules that connect it. */
export interface DatabaseClientNetwork {
  group: aws.ec2.SecurityGroup;
  databaseFrom: aws.vpc.SecurityGroupIngressRule;
  toDatabase: aws.vpc.SecurityGroupEgressRule;
  toSecretsManager: aws.vpc.SecurityGroupEgressRule;
  secretsEndpointFrom: aws.vpc.SecurityGroupIngressRule;
}

/**
 * The network identity of a Lambda function that connects to the database: a security group of its own that admits
 * nothing and may open connections to the database port and to the Secrets Manager endpoint (where it reads the
 * password), and the matching ingress rules on the database's and the endpoint's groups. Resources are named after
 * `name` (`<name>SecurityGroup`, `DatabaseFrom<name>`, `<name>ToDatabase`, `<name>ToSecretsManager`,
 * `SecretsManagerEndpointFrom<name>`); anything else the function may reach is added by its caller.
 *
 * Rules as separate resources: the groups refer to each other, which inline rules cannot express without a cycle. The
 * group and its database rules are kept with a retained database (its group cannot be deleted while they refer to it).
 */
export function databaseClientNetwork(name: string, label: string, description: string): DatabaseClientNetwork {
  const group = new aws.ec2.SecurityGroup(
    `${name}SecurityGroup`,
    { vpcId: vpc.id, description },
    { retainOnDelete: keep },
  );
  return {
    group,
    databaseFrom: new aws.vpc.SecurityGroupIngressRule(
      `DatabaseFrom${name}`,
      {
        securityGroupId: databaseSecurityGroup.id,
        referencedSecurityGroupId: group.id,
        ipProtocol: 'tcp',
        fromPort: DB_PORT,
        toPort: DB_PORT,
        description: `Postgres from the ${label}`,
      },
      { retainOnDelete: keep },
    ),
    toDatabase: new aws.vpc.SecurityGroupEgressRule(
      `${name}ToDatabase`,
      {
        securityGroupId: group.id,
        referencedSecurityGroupId: databaseSecurityGroup.id,
        ipProtocol: 'tcp',
        fromPort: DB_PORT,
        toPort: DB_PORT,
        description: 'Postgres to Aurora',
      },
      { retainOnDelete: keep },
    ),
    toSecretsManager: new aws.vpc.SecurityGroupEgressRule(`${name}ToSecretsManager`, {
      securityGroupId: group.id,
      referencedSecurityGroupId: secretsEndpointSecurityGroup.id,
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      description: 'HTTPS to the Secrets Manager endpoint',
    }),
    secretsEndpointFrom: new aws.vpc.SecurityGroupIngressRule(`SecretsManagerEndpointFrom${name}`, {
      securityGroupId: secretsEndpointSecurityGroup.id,
      referencedSecurityGroupId: group.id,
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      description: `HTTPS from the ${label}`,
    }),
  };
}

/** The sink: no inbound rules; outbound only to the database, Secrets Manager and S3 (`sinkToS3` below). */
export const sinkNetwork = databaseClientNetwork(
  'OltpSink',
  'OLTP sink',
  'Tributary OLTP sink Lambda: no inbound; out to the database, Secrets Manager, S3',
);
export const sinkSecurityGroup = sinkNetwork.group;

/** The console database function: no inbound rules; outbound only to the database and Secrets Manager. */
export const consoleDbNetwork = databaseClientNetwork(
  'ConsoleDb',
  'console database function',
  'Tributary console database Lambda: no inbound; out to the database, Secrets Manager',
);

export const databaseFromBastion = settings.database.bastion
  ? new aws.vpc.SecurityGroupIngressRule('DatabaseFromBastion', {
      securityGroupId: databaseSecurityGroup.id,
      referencedSecurityGroupId: vpc.nodes.bastionSecurityGroup.apply((sg) => {
        if (!sg) throw new Error('TRIBUTARY_DB_BASTION is set but the Vpc created no bastion security group');
        return sg.id;
      }),
      ipProtocol: 'tcp',
      fromPort: DB_PORT,
      toPort: DB_PORT,
      description: 'Postgres from the bastion (sst tunnel)',
    })
  : undefined;

/**
 * What the VPC may ask of S3, whoever asks (IAM then decides per function): quarantine writes (the sink, the import
 * applier, the import job), and the import job's reads of dropped files and its snapshots in the lake (with the
 * listings that turn a missing object into a 404). Nothing else, so the VPC cannot be used to copy data anywhere.
 */
export const s3Endpoint = new aws.ec2.VpcEndpoint('S3Endpoint', {
  vpcId: vpc.id,
  serviceName: $interpolate`com.amazonaws.${region}.s3`,
  vpcEndpointType: 'Gateway',
  routeTableIds: vpc.nodes.privateRouteTables.apply((tables) => tables.map((t) => t.id)),
  policy: $jsonStringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: '*', Action: 's3:PutObject', Resource: $interpolate`${quarantine.arn}/records/*` },
      {
        Effect: 'Allow',
        Principal: '*',
        Action: 's3:GetObject',
        Resource: [$interpolate`${imports.arn}/exports/*`, $interpolate`${imports.arn}/raw/*`],
      },
      {
        Effect: 'Allow',
        Principal: '*',
        Action: ['s3:GetObject', 's3:PutObject'],
        Resource: $interpolate`${lake.arn}/imports/*/snapshots/*`,
      },
      { Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: [imports.arn, lake.arn] },
    ],
  }),
});

export const sinkToS3 = new aws.vpc.SecurityGroupEgressRule('OltpSinkToS3', {
  securityGroupId: sinkSecurityGroup.id,
  prefixListId: s3Endpoint.prefixListId,
  ipProtocol: 'tcp',
  fromPort: 443,
  toPort: 443,
  description: 'HTTPS to S3 through the gateway endpoint',
});

export const database = new sst.aws.Aurora('Database', {
  engine: 'postgres',
  version: DB_ENGINE_VERSION,
  database: DB_NAME,
  scaling: {
    min: '0 ACU',
    max: `${settings.database.maxAcu} ACU`,
    pauseAfter: `${settings.database.pauseAfterMinutes} minutes`,
  },
  // Not the Vpc component itself: that would put the cluster in the VPC's default security group.
  vpc: { subnets: vpc.privateSubnets, securityGroups: [databaseSecurityGroup.id] },
  transform: {
    cluster: (args, opts) => {
      args.deletionProtection = keep;
      args.skipFinalSnapshot = !keep;
      if (keep) args.finalSnapshotIdentifier = `tributary-${$app.stage}-database-final`;
      args.backupRetentionPeriod = settings.database.backupRetentionDays;
      args.copyTagsToSnapshot = true;
      opts.retainOnDelete = keep;
    },
    instance: (args, opts) => {
      args.publiclyAccessible = false;
      opts.retainOnDelete = keep;
    },
    // Plaintext connections are refused; the sink verifies the server certificate (lib/oltp/db.ts).
    clusterParameterGroup: (args) => {
      args.parameters = [{ name: 'rds.force_ssl', value: '1' }];
    },
  },
});

export const secretsManagerEndpoint = new aws.ec2.VpcEndpoint('SecretsManagerEndpoint', {
  vpcId: vpc.id,
  serviceName: $interpolate`com.amazonaws.${region}.secretsmanager`,
  vpcEndpointType: 'Interface',
  // The SDK's default endpoint (secretsmanager.<region>.amazonaws.com) resolves to the endpoint's ENIs.
  privateDnsEnabled: true,
  subnetIds: vpc.privateSubnets.apply((subnets) => subnets.slice(0, settings.database.secretsEndpointZones)),
  securityGroupIds: [secretsEndpointSecurityGroup.id],
  // Any principal (the database functions' roles: IAM decides who), but only to read the database secret.
  policy: $jsonStringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: '*', Action: 'secretsmanager:GetSecretValue', Resource: database.secretArn },
    ],
  }),
});

/**
 * What every function that connects to the database shares (the sink, the console database function, the import
 * functions): the defaults of every Tributary function, the private subnets with its own security group
 * (`databaseClientNetwork`), the database's endpoint, the ARN of the secret holding its password (read at run time, lib/oltp/db.ts) and the RDS CA bundle in the
 * environment — never the password —, and reading that secret. Not linked: the Aurora link would add the password to
 * the function's environment and Data API permissions.
 */
export function databaseFunctionArgs(network: DatabaseClientNetwork, ...more: Grant[]) {
  return {
    ...lambdaDefaults,
    vpc: { privateSubnets: vpc.privateSubnets, securityGroups: [network.group.id] },
    environment: {
      ...tributaryEnvironment(events.name),
      TRIBUTARY_DB_HOST: database.host,
      TRIBUTARY_DB_PORT: $interpolate`${database.port}`,
      TRIBUTARY_DB_NAME: database.database,
      TRIBUTARY_DB_USER: database.username,
      TRIBUTARY_DB_SECRET_ARN: database.secretArn,
      NODE_EXTRA_CA_CERTS: RDS_CA_BUNDLE,
    },
    permissions: grants(
      {
        actions: ['secretsmanager:GetSecretValue'],
        resources: [database.secretArn],
        why: 'the database password, read at run time (lib/oltp/db.ts)',
      },
      ...more,
    ),
  } satisfies Partial<sst.aws.FunctionArgs>;
}

/** Kinesis → OLTP sink → Aurora; events the database refuses go to the quarantine bucket. Subscribed below by ARN. */
export const oltpSinkFunction = new sst.aws.Function('OltpSink', {
  ...databaseFunctionArgs(
    sinkNetwork,
    eventSourceRead(events),
    {
      actions: ['s3:PutObject'],
      resources: objects(quarantine, 'records/'),
      why: 'events the database refuses are quarantined (lib/oltp/sink.ts)',
    },
    ...onFailureDestination(quarantine),
  ),
  handler: 'functions/oltp-sink/handler.handler',
  timeout: '1 minute',
  memory: '1024 MB',
});

export const oltpSink = events.subscribe('OltpSink', oltpSinkFunction.arn, {
  transform: {
    eventSourceMapping: {
      // The one definition of the mapping, its `transactions` filter included (lib/stream/mappings.ts), which the
      // local poller runs too.
      ...OLTP_SINK_MAPPING,
      functionResponseTypes: [...OLTP_SINK_MAPPING.functionResponseTypes],
      filterCriteria: { filters: (OLTP_SINK_MAPPING.filterCriteria?.filters ?? []).map((f) => ({ ...f })) },
      // With unlimited retries Lambda sends nothing here in practice; kept so a batch is never dropped silently
      // if the retry settings are ever relaxed (monitoring announces every object under aws/lambda/).
      destinationConfig: { onFailure: { destinationArn: quarantine.arn } },
    },
  },
});

/**
 * The console's requests of the database, from inside the VPC its server function is not in: the OLTP page's status,
 * the Imports page's tables and imports, and operators' decisions on held imports (lib/console/database.ts; only the
 * console may invoke it, and it refuses a decision whose actor, as the console names it, is not an operator). Invoked synchronously, it connects (a pool per
 * invocation, closed before it returns, so Aurora can still pause) and answers `{ok, value}` or `{ok: false, error}`.
 * 30 s covers Aurora resuming from 0 ACU (~15 s) on the first look after a pause. It reads and writes the database
 * and reads the password secret only: no S3, no stream (uploads go from the browser straight to the imports bucket).
 */
export const consoleDb = new sst.aws.Function('ConsoleDb', {
  ...databaseFunctionArgs(consoleDbNetwork),
  handler: 'functions/console-db/handler.handler',
  timeout: '30 seconds',
  memory: '512 MB',
});
