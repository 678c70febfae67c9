/**
 * The `ci` stage's OLTP database, sink and console database function (stacks/database.ts, offline: tests/infra/harness.ts):
 * Aurora Serverless v2 PostgreSQL in a private VPC without NAT, the endpoints that replace NAT, security groups that let
 * only the sink and the console database function reach the database, the sink's event source mapping, both functions'
 * environment, VPC placement and exact IAM, the sink's alarms, and the console's access to the console database function.
 * Per-stage differences (production retention, endpoint AZs, capacity, the opt-in bastion) are in stages.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  allow,
  BASIC_EXECUTION_ROLE,
  canonical,
  checkDatabaseCluster,
  checkEgressOnly,
  checkFunctionPlatform,
  checkIngressOnly,
  checkInvokeOnly,
  checkNoWildcards,
  checkOltpSinkMapping,
  checkStatements,
  VPC_ACCESS_EXECUTION_ROLE,
} from './checks.ts';
import { OLTP_SINK_MAPPING as OLTP_SINK_MAPPING_DEFINITION } from '../../lib/stream/mappings.ts';
import { deployed } from './deployed.ts';
import { networkOf } from './network.ts';
import { parseStatements, type Resource } from './harness.ts';

const infra = deployed('ci');
const { group, endpoint, ingressRules, egressRules } = networkOf(infra);
const OLTP_SINK = /^OltpSink$/;
const CONSOLE_DB = /^ConsoleDb$/;

const aurora = (type: string) => infra.part('sst:aws:Aurora', 'Database', type);
const cluster = () => aurora('aws:rds/cluster:Cluster');
const secret = () => aurora('aws:secretsmanager/secret:Secret');
const password = () => String(aurora('random:index/randomPassword:RandomPassword').state.result);
const quarantineArn = () => String(infra.part('sst:aws:Bucket', 'Quarantine', 'aws:s3/bucket:Bucket').state.arn);
const streamArn = () => infra.part('sst:aws:KinesisStream', 'Events', 'aws:kinesis/stream:Stream').state.arn;
const vpcParts = (type: string) => infra.descendants(infra.one('sst:aws:Vpc', 'Vpc')).filter((r) => r.type === type);
const privateSubnetIds = () =>
  vpcParts('aws:ec2/subnet:Subnet')
    .filter((s) => /PrivateSubnet/.test(s.name))
    .map((s) => s.state.id)
    .sort();
const sink = () => infra.lambda(OLTP_SINK);
const status = () => infra.lambda(CONSOLE_DB);
const envOf = (fn: Resource) => (fn.inputs.environment as { variables: Record<string, string> }).variables;
/** What both database functions get to find the database: its endpoint, the secret's ARN, the RDS CA bundle. */
const databaseEnv = () => ({
  TRIBUTARY_DB_HOST: cluster().state.endpoint,
  TRIBUTARY_DB_PORT: '5432',
  TRIBUTARY_DB_NAME: 'tributary',
  TRIBUTARY_DB_USER: 'postgres',
  TRIBUTARY_DB_SECRET_ARN: secret().state.arn,
  NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
});

describe('Aurora cluster', () => {
  it('is Aurora PostgreSQL 17.4 Serverless v2 from 0 ACU (paused after 5 min) to 2 ACU, database tributary, encrypted, no Data API', () => {
    expect(
      checkDatabaseCluster(cluster(), {
        maxAcu: 2,
        production: false,
        subnetGroup: aurora('aws:rds/subnetGroup:SubnetGroup').state.name,
        securityGroup: group('DatabaseSecurityGroup').state.id,
      }),
    ).toEqual([]);
    // The values behind the checker, spelled out.
    expect(cluster().inputs).toMatchObject({
      engine: 'aurora-postgresql',
      engineVersion: '17.4',
      serverlessv2ScalingConfiguration: { minCapacity: 0, maxCapacity: 2, secondsUntilAutoPause: 300 },
      storageEncrypted: true,
      databaseName: 'tributary',
    });
  });

  it('has one db.serverless writer that is not publicly accessible, in the private subnets only', () => {
    const instances = infra.byType('aws:rds/clusterInstance:ClusterInstance');
    expect(instances).toHaveLength(1);
    expect(instances[0]!.inputs).toMatchObject({
      clusterIdentifier: cluster().state.id,
      instanceClass: 'db.serverless',
      engine: 'aurora-postgresql',
      engineVersion: '17.4',
      publiclyAccessible: false,
    });
    expect([...(aurora('aws:rds/subnetGroup:SubnetGroup').inputs.subnetIds as string[])].sort()).toEqual(
      privateSubnetIds(),
    );
  });

  it('refuses plaintext connections (rds.force_ssl) in its cluster parameter group, of the Postgres 17 family', () => {
    const params = aurora('aws:rds/clusterParameterGroup:ClusterParameterGroup');
    expect(params.inputs).toMatchObject({
      family: 'aurora-postgresql17',
      parameters: [{ name: 'rds.force_ssl', value: '1' }],
    });
    expect(cluster().inputs.dbClusterParameterGroupName).toBe(params.state.name);
  });

  it('keeps its password in a Secrets Manager secret as JSON with a password field', () => {
    const version = aurora('aws:secretsmanager/secretVersion:SecretVersion');
    expect(version.inputs.secretId).toBe(secret().state.id);
    expect(JSON.parse(String(version.inputs.secretString))).toEqual({ username: 'postgres', password: password() });
    expect(cluster().inputs.masterPassword).toBe(password());
  });
});

describe('network', () => {
  it('has no NAT: no NAT gateway or instance, no Elastic IP, and the private subnets have no route out', () => {
    expect(infra.byType('aws:ec2/natGateway:NatGateway')).toEqual([]);
    expect(infra.byType('aws:ec2/eip:Eip')).toEqual([]);
    expect(infra.byType('aws:ec2/instance:Instance')).toEqual([]);
    const privateTables = vpcParts('aws:ec2/routeTable:RouteTable').filter((t) => /PrivateRouteTable/.test(t.name));
    expect(privateTables).toHaveLength(2);
    for (const t of privateTables) expect(t.inputs.routes, t.name).toEqual([]);
  });

  it('only the sink, the console database function and the import functions reach the database port: TCP 5432 from their groups, nothing from an address range', () => {
    const db = group('DatabaseSecurityGroup');
    expect(
      checkIngressOnly('DatabaseSecurityGroup', db, ingressRules(), [
        { from: group('OltpSinkSecurityGroup').state.id, port: 5432 },
        { from: group('ConsoleDbSecurityGroup').state.id, port: 5432 },
        { from: group('ImportApplierSecurityGroup').state.id, port: 5432 },
        { from: group('ImportJobSecurityGroup').state.id, port: 5432 },
      ]),
    ).toEqual([]);
    // Spelled out.
    const rule = (name: string) => infra.one('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule', name).inputs;
    expect(rule('DatabaseFromOltpSink')).toEqual({
      securityGroupId: db.state.id,
      referencedSecurityGroupId: group('OltpSinkSecurityGroup').state.id,
      ipProtocol: 'tcp',
      fromPort: 5432,
      toPort: 5432,
      description: 'Postgres from the OLTP sink',
    });
    expect(rule('DatabaseFromConsoleDb')).toEqual({
      securityGroupId: db.state.id,
      referencedSecurityGroupId: group('ConsoleDbSecurityGroup').state.id,
      ipProtocol: 'tcp',
      fromPort: 5432,
      toPort: 5432,
      description: 'Postgres from the console database function',
    });
    expect(cluster().inputs.vpcSecurityGroupIds).toEqual([db.state.id]);
  });

  it('no security group of the app admits anything from an address range, and the VPC default group is emptied', () => {
    for (const sg of infra.byType('aws:ec2/securityGroup:SecurityGroup'))
      expect(sg.inputs.ingress ?? [], sg.name).toEqual([]);
    for (const rule of ingressRules())
      expect(
        [rule.inputs.cidrIpv4, rule.inputs.cidrIpv6, rule.inputs.cidrBlocks, rule.inputs.prefixListId],
        rule.name,
      ).toEqual([undefined, undefined, undefined, undefined]);
    expect(vpcParts('aws:ec2/defaultSecurityGroup:DefaultSecurityGroup')[0]!.inputs).toMatchObject({
      ingress: [],
      egress: [],
    });
  });

  it('the sink admits nothing and may connect only to the database, the Secrets Manager endpoint and S3', () => {
    const sinkSg = group('OltpSinkSecurityGroup');
    expect(checkIngressOnly('OltpSinkSecurityGroup', sinkSg, ingressRules(), [])).toEqual([]);
    expect(sinkSg.inputs.egress).toBeUndefined();
    expect(
      checkEgressOnly('OltpSinkSecurityGroup', sinkSg, egressRules(), [
        { to: group('DatabaseSecurityGroup').state.id, port: 5432 },
        { to: group('SecretsManagerEndpointSecurityGroup').state.id, port: 443 },
        { to: endpoint('S3Endpoint').state.prefixListId, port: 443 },
      ]),
    ).toEqual([]);
  });

  it('the console database function admits nothing and may connect only to the database and the Secrets Manager endpoint (no S3)', () => {
    const statusSg = group('ConsoleDbSecurityGroup');
    expect(statusSg.inputs).toMatchObject({ vpcId: infra.part('sst:aws:Vpc', 'Vpc', 'aws:ec2/vpc:Vpc').state.id });
    expect(checkIngressOnly('ConsoleDbSecurityGroup', statusSg, ingressRules(), [])).toEqual([]);
    expect(statusSg.inputs.egress).toBeUndefined();
    expect(
      checkEgressOnly('ConsoleDbSecurityGroup', statusSg, egressRules(), [
        { to: group('DatabaseSecurityGroup').state.id, port: 5432 },
        { to: group('SecretsManagerEndpointSecurityGroup').state.id, port: 443 },
      ]),
    ).toEqual([]);
    // Its group is not the sink's: the sink's S3 path is not shared.
    expect(statusSg.state.id).not.toBe(group('OltpSinkSecurityGroup').state.id);
  });

  it('the Secrets Manager endpoint admits HTTPS from the database clients only', () => {
    expect(
      checkIngressOnly(
        'SecretsManagerEndpointSecurityGroup',
        group('SecretsManagerEndpointSecurityGroup'),
        ingressRules(),
        [
          { from: group('OltpSinkSecurityGroup').state.id, port: 443 },
          { from: group('ConsoleDbSecurityGroup').state.id, port: 443 },
          { from: group('ImportApplierSecurityGroup').state.id, port: 443 },
          { from: group('ImportJobSecurityGroup').state.id, port: 443 },
        ],
      ),
    ).toEqual([]);
  });

  it('an S3 gateway endpoint on both private route tables allows only quarantine writes and the import job’s reads and snapshots', () => {
    const s3 = endpoint('S3Endpoint');
    const tables = vpcParts('aws:ec2/routeTable:RouteTable')
      .filter((t) => /PrivateRouteTable/.test(t.name))
      .map((t) => t.state.id)
      .sort();
    expect(s3.inputs).toMatchObject({
      vpcId: infra.part('sst:aws:Vpc', 'Vpc', 'aws:ec2/vpc:Vpc').state.id,
      vpcEndpointType: 'Gateway',
      serviceName: 'com.amazonaws.us-east-1.s3',
    });
    expect([...(s3.inputs.routeTableIds as string[])].sort()).toEqual(tables);
    const importsArn = String(infra.part('sst:aws:Bucket', 'Imports', 'aws:s3/bucket:Bucket').state.arn);
    const lakeArn = String(infra.part('sst:aws:Bucket', 'Lake', 'aws:s3/bucket:Bucket').state.arn);
    expect(parseStatements(String(s3.inputs.policy))).toEqual([
      allow(['s3:PutObject'], [`${quarantineArn()}/records/*`]),
      allow(['s3:GetObject'], [`${importsArn}/exports/*`, `${importsArn}/raw/*`]),
      allow(['s3:GetObject', 's3:PutObject'], [`${lakeArn}/imports/*/snapshots/*`]),
      allow(['s3:ListBucket'], [importsArn, lakeArn]),
    ]);
  });

  it('a Secrets Manager interface endpoint with private DNS in one private subnet allows only reading the database secret', () => {
    const sm = endpoint('SecretsManagerEndpoint');
    expect(sm.inputs).toMatchObject({
      vpcEndpointType: 'Interface',
      serviceName: 'com.amazonaws.us-east-1.secretsmanager',
      privateDnsEnabled: true,
      securityGroupIds: [group('SecretsManagerEndpointSecurityGroup').state.id],
    });
    expect(sm.inputs.subnetIds).toHaveLength(1);
    expect(privateSubnetIds()).toContain((sm.inputs.subnetIds as string[])[0]);
    expect(parseStatements(String(sm.inputs.policy))).toEqual([
      allow(['secretsmanager:GetSecretValue'], [secret().state.arn]),
    ]);
    // Any principal, so both functions' roles (their IAM decides who may read the secret), and no Deny that excludes one.
    expect(
      (JSON.parse(String(sm.inputs.policy)) as { Statement: { Principal: unknown }[] }).Statement.map(
        (st) => st.Principal,
      ),
    ).toEqual(['*']);
  });

  it('these are the only VPC endpoints (Kinesis only for the import job’s puts: Lambda polls the stream itself)', () => {
    expect(
      infra
        .byType('aws:ec2/vpcEndpoint:VpcEndpoint')
        .map((e) => e.name)
        .sort(),
    ).toEqual(['KinesisEndpoint', 'S3Endpoint', 'SecretsManagerEndpoint']);
  });
});

describe('OLTP sink', () => {
  it('reads the stream through an event source mapping with every setting as specified', () => {
    const mapping = infra.one('aws:lambda/eventSourceMapping:EventSourceMapping', /OltpSink/);
    expect(
      checkOltpSinkMapping(mapping, {
        streamArn: streamArn(),
        functionArn: sink().state.arn,
        quarantineArn: quarantineArn(),
      }),
    ).toEqual([]);
    // The values behind the checker, spelled out: it never gives up, never bisects, only gets transactions.
    expect(mapping.inputs).toMatchObject({
      functionResponseTypes: ['ReportBatchItemFailures'],
      maximumRetryAttempts: -1,
      maximumRecordAgeInSeconds: -1,
      bisectBatchOnFunctionError: false,
      batchSize: 500,
      maximumBatchingWindowInSeconds: 5,
      startingPosition: 'TRIM_HORIZON',
      filterCriteria: { filters: [{ pattern: '{"data":{"type":["transactions"]}}' }] },
      destinationConfig: { onFailure: { destinationArn: quarantineArn() } },
    });
  });

  it('deploys exactly the mapping the local poller runs (lib/stream/mappings.ts), its filter included', () => {
    const mapping = infra.one('aws:lambda/eventSourceMapping:EventSourceMapping', /OltpSink/);
    const { eventSourceArn: _s, functionName: _f, destinationConfig: _d, ...settings } = mapping.inputs;
    expect(canonical(settings)).toBe(canonical(OLTP_SINK_MAPPING_DEFINITION));
  });

  it('is built from functions/oltp-sink with 1 minute and 1024 MB on Node 22 arm64, shipping the schemas', () => {
    const fn = sink();
    expect(fn.inputs).toMatchObject({ handler: 'functions/oltp-sink/handler.handler', timeout: 60, memorySize: 1024 });
    expect(checkFunctionPlatform(fn)).toEqual([]);
    expect(infra.build(OLTP_SINK)).toMatchObject({
      handler: 'functions/oltp-sink/handler.handler',
      runtime: 'nodejs22.x',
      properties: { architecture: 'arm64' },
    });
  });

  it('runs in both private subnets with its own security group', () => {
    const vpcConfig = sink().inputs.vpcConfig as { securityGroupIds: string[]; subnetIds: string[] };
    expect(vpcConfig.securityGroupIds).toEqual([group('OltpSinkSecurityGroup').state.id]);
    expect([...vpcConfig.subnetIds].sort()).toEqual(privateSubnetIds());
  });

  it('gets the database endpoint, the secret ARN and the RDS CA bundle in its environment, never the password', () => {
    const env = envOf(sink());
    expect(env).toMatchObject({
      TRIBUTARY_MODE: 'aws',
      TRIBUTARY_STREAM_NAME: infra.part('sst:aws:KinesisStream', 'Events', 'aws:kinesis/stream:Stream').state.name,
      TRIBUTARY_QUARANTINE_BUCKET: infra.part('sst:aws:Bucket', 'Quarantine', 'aws:s3/bucket:Bucket').state.bucket,
      TRIBUTARY_SCHEMAS_DIR: '/var/task/schemas',
      ...databaseEnv(),
    });
    expect(String(env.TRIBUTARY_DB_HOST)).toMatch(
      /^tributary-ci-databasecluster-[a-z]{8}\.cluster-\w+\.us-east-1\.rds\.amazonaws\.com$/,
    );
    expect(JSON.stringify(env)).not.toContain(password());
    // Not linked to the database (the link would put the password into SST_RESOURCE_Database).
    expect(Object.keys(env).filter((k) => k.startsWith('SST_RESOURCE_'))).toEqual(['SST_RESOURCE_App']);
  });

  it('may read the stream, the database secret only, and write its quarantine objects and on-failure batches — nothing else', () => {
    const role = infra.roleOf(sink());
    const statements = infra.statementsOf(role);
    expect(
      checkStatements('OltpSink', statements, [
        allow(
          [
            'kinesis:DescribeStream',
            'kinesis:DescribeStreamSummary',
            'kinesis:GetRecords',
            'kinesis:GetShardIterator',
            'kinesis:ListShards',
          ],
          [streamArn()],
        ),
        allow(['secretsmanager:GetSecretValue'], [secret().state.arn]),
        allow(['s3:PutObject'], [`${quarantineArn()}/records/*`]),
        allow(['s3:PutObject'], [`${quarantineArn()}/aws/lambda/*`]),
        allow(['s3:ListBucket'], [quarantineArn()]),
      ]),
    ).toEqual([]);
    expect(checkNoWildcards('OltpSink', statements)).toEqual([]);
    // The ENI permissions of a VPC function come from the AWS-managed policy SST attaches.
    expect(infra.managedPolicies(role)).toEqual([BASIC_EXECUTION_ROLE, VPC_ACCESS_EXECUTION_ROLE].sort());
  });
});

describe('console database function', () => {
  it('is built from functions/console-db with 30 s (Aurora resumes in ~15 s) and 512 MB on Node 22 arm64, shipping the schemas', () => {
    const fn = status();
    expect(fn.inputs).toMatchObject({ handler: 'functions/console-db/handler.handler', timeout: 30, memorySize: 512 });
    expect(checkFunctionPlatform(fn)).toEqual([]);
    expect(infra.build(CONSOLE_DB)).toMatchObject({
      handler: 'functions/console-db/handler.handler',
      runtime: 'nodejs22.x',
      properties: { architecture: 'arm64' },
    });
    expect(infra.build(CONSOLE_DB).copyFiles?.map((c) => c.to)).toEqual(['schemas', 'tables']);
  });

  it('runs in both private subnets with its own security group', () => {
    const vpcConfig = status().inputs.vpcConfig as { securityGroupIds: string[]; subnetIds: string[] };
    expect(vpcConfig.securityGroupIds).toEqual([group('ConsoleDbSecurityGroup').state.id]);
    expect([...vpcConfig.subnetIds].sort()).toEqual(privateSubnetIds());
  });

  it('gets the same database environment as the sink, never the password, and is linked to nothing', () => {
    const env = envOf(status());
    expect(env).toMatchObject({ TRIBUTARY_MODE: 'aws', TRIBUTARY_SCHEMAS_DIR: '/var/task/schemas', ...databaseEnv() });
    // Exactly the sink's environment (one shared definition), so lib/config and lib/oltp/db.ts load the same way.
    expect(env).toEqual(envOf(sink()));
    expect(JSON.stringify(env)).not.toContain(password());
    expect(JSON.stringify(status().inputs)).not.toContain(password());
    expect(Object.keys(env).filter((k) => k.startsWith('SST_RESOURCE_'))).toEqual(['SST_RESOURCE_App']);
    expect(Object.keys(infra.build(CONSOLE_DB).links ?? {})).toEqual([]);
  });

  it('may read the database secret only — no stream, no S3, nothing else', () => {
    const role = infra.roleOf(status());
    const statements = infra.statementsOf(role);
    expect(
      checkStatements('ConsoleDb', statements, [allow(['secretsmanager:GetSecretValue'], [secret().state.arn])]),
    ).toEqual([]);
    expect(checkNoWildcards('ConsoleDb', statements)).toEqual([]);
    expect(infra.managedPolicies(role)).toEqual([BASIC_EXECUTION_ROLE, VPC_ACCESS_EXECUTION_ROLE].sort());
    // Its own role, not the sink's.
    expect(role.state.arn).not.toBe(infra.roleOf(sink()).state.arn);
  });

  it('is invoked by nothing but IAM principals: no event source, no resource policy, no URL', () => {
    const fn = status();
    const refersToIt = (v: unknown) => v === fn.state.arn || v === fn.state.name;
    expect(
      infra.byType('aws:lambda/eventSourceMapping:EventSourceMapping').filter((m) => refersToIt(m.inputs.functionName)),
    ).toEqual([]);
    expect(infra.byType('aws:lambda/permission:Permission').filter((p) => refersToIt(p.inputs.function))).toEqual([]);
    expect(infra.byType('aws:lambda/functionUrl:FunctionUrl').filter((u) => refersToIt(u.inputs.functionName))).toEqual(
      [],
    );
  });
});

describe('console → OLTP status', () => {
  const server = () => infra.lambda(/^ConsoleServer/);

  it('the console server gets the console database function’s name in TRIBUTARY_CONSOLE_DB_FUNCTION', () => {
    expect(envOf(server()).TRIBUTARY_CONSOLE_DB_FUNCTION).toBe(status().state.name);
    expect(String(status().state.name)).toMatch(/^tributary-ci-ConsoleDb/);
  });

  it('may invoke exactly the console database function and the re-drive worker (their ARNs), nothing else of Lambda', () => {
    const statements = infra.statementsOf(infra.roleOf(server()));
    expect(
      checkInvokeOnly('console', statements, [status().state.arn, infra.lambda(/^RedriveWorker$/).state.arn]),
    ).toEqual([]);
    // Spelled out: one statement per linked function.
    expect(statements.filter((s) => s.actions.some((a) => a.startsWith('lambda:')))).toEqual(
      expect.arrayContaining([
        allow(['lambda:InvokeFunction'], [status().state.arn]),
        allow(['lambda:InvokeFunction'], [infra.lambda(/^RedriveWorker$/).state.arn]),
      ]),
    );
    expect(statements.filter((s) => s.actions.some((a) => a.startsWith('lambda:')))).toHaveLength(2);
  });

  it('the console gets no database access of its own: no secret, no database in its environment', () => {
    const statements = infra.statementsOf(infra.roleOf(server()));
    expect(statements.filter((s) => s.actions.some((a) => /^(secretsmanager|rds|rds-data|rds-db):/.test(a)))).toEqual(
      [],
    );
    expect(JSON.stringify(statements)).not.toContain(String(secret().state.arn));
    const env = envOf(server());
    expect(Object.keys(env).filter((k) => k.startsWith('TRIBUTARY_DB_'))).toEqual([]);
    expect(JSON.stringify(env)).not.toContain(password());
  });
});

describe('OLTP alarms', () => {
  const alarm = (name: string): Resource => infra.one('aws:cloudwatch/metricAlarm:MetricAlarm', name);
  const topicArn = () => infra.part('sst:aws:SnsTopic', 'Alarms', 'aws:sns/topic:Topic').state.arn;

  it('alarm when the sink is 5 minutes behind for 5 minutes, or fails an invocation', () => {
    const fnName = sink().state.name;
    expect(alarm('OltpSinkIteratorAge').inputs).toMatchObject({
      namespace: 'AWS/Lambda',
      metricName: 'IteratorAge',
      dimensions: { FunctionName: fnName },
      statistic: 'Maximum',
      period: 60,
      evaluationPeriods: 5,
      threshold: 300_000,
      comparisonOperator: 'GreaterThanThreshold',
    });
    expect(alarm('OltpSinkErrors').inputs).toMatchObject({
      namespace: 'AWS/Lambda',
      metricName: 'Errors',
      dimensions: { FunctionName: fnName },
      statistic: 'Sum',
      period: 300,
      threshold: 0,
      comparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('alarm on any batch the sink stopped on an unavailable database (its EMF metric, Tributary namespace and service)', () => {
    expect(alarm('OltpBatchesFailed').inputs).toMatchObject({
      namespace: 'Tributary',
      metricName: 'OltpBatchesFailed',
      dimensions: { service: 'tributary' },
      statistic: 'Sum',
      period: 300,
      threshold: 0,
      comparisonOperator: 'GreaterThanThreshold',
    });
    for (const name of ['OltpSinkIteratorAge', 'OltpSinkErrors', 'OltpBatchesFailed']) {
      expect(alarm(name).inputs, name).toMatchObject({
        alarmActions: [topicArn()],
        okActions: [topicArn()],
        treatMissingData: 'notBreaching',
      });
    }
  });
});

describe('outputs', () => {
  it('name the database endpoint and its secret, never the password', () => {
    expect(infra.outputs).toMatchObject({
      databaseHost: cluster().state.endpoint,
      databasePort: 5432,
      databaseName: 'tributary',
      databaseUser: 'postgres',
      databaseSecretArn: secret().state.arn,
      oltpSink: sink().state.name,
    });
    expect(password()).toMatch(/^\w{32}$/);
    expect(JSON.stringify(infra.outputs)).not.toContain(password());
  });
});
