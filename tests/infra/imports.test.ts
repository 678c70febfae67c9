/**
 * The `ci` stage's table imports (stacks/imports.ts, offline: tests/infra/harness.ts): the import job started by the
 * imports bucket's notifications and a one-minute sweep, the import applier's mapping, both functions' networks
 * (their own security groups; the Kinesis endpoint only the job may reach) and exact IAM, and their alarms.
 */
import { describe, expect, it } from 'vitest';
import { IMPORT_APPLIER_MAPPING } from '../../lib/stream/mappings.ts';
import {
  allow,
  BASIC_EXECUTION_ROLE,
  canonical,
  checkEgressOnly,
  checkFunctionPlatform,
  checkIngressOnly,
  checkNoWildcards,
  checkStatements,
  VPC_ACCESS_EXECUTION_ROLE,
} from './checks.ts';
import { deployed } from './deployed.ts';
import { networkOf } from './network.ts';
import type { Resource } from './harness.ts';

const infra = deployed('ci');
const { group, endpoint, ingressRules, egressRules } = networkOf(infra);
const job = () => infra.lambda(/^ImportJob$/);
const applier = () => infra.lambda(/^ImportApplier$/);
const bucketArn = (name: string) => String(infra.part('sst:aws:Bucket', name, 'aws:s3/bucket:Bucket').state.arn);
const bucketName = (name: string) => String(infra.part('sst:aws:Bucket', name, 'aws:s3/bucket:Bucket').state.bucket);
const streamArn = () => infra.part('sst:aws:KinesisStream', 'Events', 'aws:kinesis/stream:Stream').state.arn;
const secretArn = () => infra.part('sst:aws:Aurora', 'Database', 'aws:secretsmanager/secret:Secret').state.arn;
const envOf = (fn: Resource) => (fn.inputs.environment as { variables: Record<string, string> }).variables;

describe('the import job', () => {
  it('is built from functions/import-job, 15 minutes and 3008 MB on Node 22 arm64, DuckDB installed, tables shipped', () => {
    expect(job().inputs).toMatchObject({
      handler: 'functions/import-job/handler.handler',
      timeout: 900,
      memorySize: 3008,
    });
    expect(checkFunctionPlatform(job())).toEqual([]);
    const build = infra.build(/^ImportJob$/) as unknown as { properties: { install?: unknown } };
    expect(JSON.stringify(build.properties.install)).toContain('@duckdb/node-api');
    expect(infra.build(/^ImportJob$/).copyFiles?.map((c) => c.to)).toEqual(['schemas', 'tables']);
    expect(envOf(job())).toMatchObject({
      TRIBUTARY_TABLES_DIR: '/var/task/tables',
      TRIBUTARY_IMPORTS_BUCKET: bucketName('Imports'),
      TRIBUTARY_DB_SECRET_ARN: secretArn(),
    });
  });

  it('starts on every object created under exports/ and raw/ of the imports bucket, and nothing else', () => {
    const notification = infra
      .byType('aws:s3/bucketNotification:BucketNotification')
      .find((n) => n.inputs.bucket === bucketName('Imports'))!;
    const fns = notification.inputs.lambdaFunctions as {
      lambdaFunctionArn: string;
      events: string[];
      filterPrefix: string;
    }[];
    expect(fns.map((f) => [f.lambdaFunctionArn, f.events, f.filterPrefix])).toEqual([
      [job().state.arn, ['s3:ObjectCreated:*'], 'exports/'],
      [job().state.arn, ['s3:ObjectCreated:*'], 'raw/'],
    ]);
    expect(notification.inputs.topics ?? []).toEqual([]);
    // S3 may invoke it for this bucket only; EventBridge for the sweep's rule only.
    const permissions = infra
      .byType('aws:lambda/permission:Permission')
      .filter((p) => p.inputs.function === job().state.arn)
      .map((p) => [p.inputs.principal, p.inputs.sourceArn]);
    const rule = infra.one('aws:cloudwatch/eventRule:EventRule', /ImportSweep/);
    expect(permissions.sort()).toEqual(
      [
        ['events.amazonaws.com', rule.state.arn],
        ['s3.amazonaws.com', bucketArn('Imports')],
        ['s3.amazonaws.com', bucketArn('Imports')],
      ].sort(),
    );
  });

  it('is swept every minute with {"sweep": true}', () => {
    const rule = infra.one('aws:cloudwatch/eventRule:EventRule', /ImportSweep/);
    expect(rule.inputs.scheduleExpression).toBe('rate(1 minute)');
    const target = infra
      .byType('aws:cloudwatch/eventTarget:EventTarget')
      .find((t) => t.inputs.rule === rule.state.name)!;
    expect([target.inputs.arn, JSON.parse(String(target.inputs.input))]).toEqual([job().state.arn, { sweep: true }]);
  });

  it('may read drops and snapshots, write snapshots and quarantine rows, list the shards and put on the stream — nothing else', () => {
    const role = infra.roleOf(job());
    const statements = infra.statementsOf(role);
    const imports = bucketArn('Imports');
    const lake = bucketArn('Lake');
    expect(
      checkStatements('ImportJob', statements, [
        allow(['secretsmanager:GetSecretValue'], [secretArn()]),
        allow(['s3:GetObject'], [`${imports}/exports/*`, `${imports}/raw/*`]),
        allow(['s3:ListBucket'], [imports]),
        allow(['s3:GetObject', 's3:PutObject'], [`${lake}/imports/*/snapshots/*`]),
        allow(['s3:ListBucket'], [lake]),
        allow(['s3:PutObject'], [`${bucketArn('Quarantine')}/records/*`]),
        allow(['kinesis:ListShards', 'kinesis:PutRecords'], [streamArn()]),
      ]),
    ).toEqual([]);
    expect(checkNoWildcards('ImportJob', statements)).toEqual([]);
    expect(infra.managedPolicies(role)).toEqual([BASIC_EXECUTION_ROLE, VPC_ACCESS_EXECUTION_ROLE].sort());
  });

  it('admits nothing and may connect only to the database, Secrets Manager, S3 and the Kinesis endpoint', () => {
    const sg = group('ImportJobSecurityGroup');
    expect((job().inputs.vpcConfig as { securityGroupIds: string[] }).securityGroupIds).toEqual([sg.state.id]);
    expect(checkIngressOnly('ImportJobSecurityGroup', sg, ingressRules(), [])).toEqual([]);
    expect(
      checkEgressOnly('ImportJobSecurityGroup', sg, egressRules(), [
        { to: group('DatabaseSecurityGroup').state.id, port: 5432 },
        { to: group('SecretsManagerEndpointSecurityGroup').state.id, port: 443 },
        { to: endpoint('S3Endpoint').state.prefixListId, port: 443 },
        { to: group('KinesisEndpointSecurityGroup').state.id, port: 443 },
      ]),
    ).toEqual([]);
  });

  it('reaches Kinesis through an interface endpoint with private DNS in one subnet, which only it may use, only to list the stream’s shards and put on it', () => {
    const k = endpoint('KinesisEndpoint');
    expect(k.inputs).toMatchObject({
      vpcEndpointType: 'Interface',
      serviceName: 'com.amazonaws.us-east-1.kinesis-streams',
      privateDnsEnabled: true,
      securityGroupIds: [group('KinesisEndpointSecurityGroup').state.id],
    });
    expect(k.inputs.subnetIds).toHaveLength(1);
    expect(JSON.parse(String(k.inputs.policy))).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: '*',
          Action: ['kinesis:ListShards', 'kinesis:PutRecords'],
          Resource: streamArn(),
        },
      ],
    });
    expect(
      checkIngressOnly('KinesisEndpointSecurityGroup', group('KinesisEndpointSecurityGroup'), ingressRules(), [
        { from: group('ImportJobSecurityGroup').state.id, port: 443 },
      ]),
    ).toEqual([]);
  });
});

describe('the import applier', () => {
  it('reads the stream with exactly the mapping the local poller runs: the sink’s settings, operations only', () => {
    const mapping = infra.one('aws:lambda/eventSourceMapping:EventSourceMapping', /ImportApplier/);
    const { eventSourceArn, functionName, destinationConfig, ...settings } = mapping.inputs;
    expect([eventSourceArn, functionName, destinationConfig]).toEqual([
      streamArn(),
      applier().state.arn,
      { onFailure: { destinationArn: bucketArn('Quarantine') } },
    ]);
    expect(canonical(settings)).toBe(canonical(IMPORT_APPLIER_MAPPING));
    expect(mapping.inputs).toMatchObject({
      maximumRetryAttempts: -1,
      maximumRecordAgeInSeconds: -1,
      bisectBatchOnFunctionError: false,
      batchSize: 10,
      filterCriteria: { filters: [{ pattern: '{"data":{"type":[{"prefix":"import."}]}}' }] },
    });
  });

  it('is built from functions/import-applier (1 minute, 1024 MB), in the VPC with its own group: database, Secrets Manager, S3', () => {
    expect(applier().inputs).toMatchObject({
      handler: 'functions/import-applier/handler.handler',
      timeout: 60,
      memorySize: 1024,
    });
    expect(checkFunctionPlatform(applier())).toEqual([]);
    const sg = group('ImportApplierSecurityGroup');
    expect((applier().inputs.vpcConfig as { securityGroupIds: string[] }).securityGroupIds).toEqual([sg.state.id]);
    expect(checkIngressOnly('ImportApplierSecurityGroup', sg, ingressRules(), [])).toEqual([]);
    expect(
      checkEgressOnly('ImportApplierSecurityGroup', sg, egressRules(), [
        { to: group('DatabaseSecurityGroup').state.id, port: 5432 },
        { to: group('SecretsManagerEndpointSecurityGroup').state.id, port: 443 },
        { to: endpoint('S3Endpoint').state.prefixListId, port: 443 },
      ]),
    ).toEqual([]);
  });

  it('may read the stream, the database secret, and write quarantine records and on-failure batches — nothing else', () => {
    const role = infra.roleOf(applier());
    const statements = infra.statementsOf(role);
    const quarantine = bucketArn('Quarantine');
    expect(
      checkStatements('ImportApplier', statements, [
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
        allow(['secretsmanager:GetSecretValue'], [secretArn()]),
        allow(['s3:PutObject'], [`${quarantine}/records/*`]),
        allow(['s3:PutObject'], [`${quarantine}/aws/lambda/*`]),
        allow(['s3:ListBucket'], [quarantine]),
      ]),
    ).toEqual([]);
    expect(checkNoWildcards('ImportApplier', statements)).toEqual([]);
  });
});

describe('import alarms', () => {
  const alarm = (name: string): Resource => infra.one('aws:cloudwatch/metricAlarm:MetricAlarm', name);
  const topicArn = () => infra.part('sst:aws:SnsTopic', 'Alarms', 'aws:sns/topic:Topic').state.arn;
  const counted = (metricName: string) => ({
    namespace: 'Tributary',
    metricName,
    dimensions: { service: 'tributary' },
    statistic: 'Sum',
    period: 300,
    evaluationPeriods: 1,
    threshold: 0,
    comparisonOperator: 'GreaterThanThreshold',
    alarmActions: [topicArn()],
    okActions: [topicArn()],
    treatMissingData: 'notBreaching',
  });

  it('alarm on imports failed, refused or held for an operator, on either function failing, and on the applier falling behind', () => {
    expect(alarm('ImportsFailed').inputs).toMatchObject(counted('ImportsFailed'));
    expect(alarm('ImportsRefused').inputs).toMatchObject(counted('ImportsRefused'));
    expect(alarm('ImportsHeld').inputs).toMatchObject(counted('ImportsHeld'));
    for (const [name, fn] of [
      ['ImportJobErrors', job()],
      ['ImportApplierErrors', applier()],
    ] as const)
      expect(alarm(name).inputs, name).toMatchObject({
        namespace: 'AWS/Lambda',
        metricName: 'Errors',
        dimensions: { FunctionName: fn.state.name },
        threshold: 0,
        period: 300,
      });
    expect(alarm('ImportApplierIteratorAge').inputs).toMatchObject({
      namespace: 'AWS/Lambda',
      metricName: 'IteratorAge',
      dimensions: { FunctionName: applier().state.name },
      statistic: 'Maximum',
      period: 60,
      evaluationPeriods: 5,
    });
  });
});

describe('uploads from the Imports page', () => {
  it('the imports bucket answers CORS for the console’s origin only, PUT only (not SST’s any-origin default)', () => {
    const rules = infra
      .byType('aws:s3/bucketCorsConfiguration:BucketCorsConfiguration')
      .filter((c) => c.inputs.bucket === bucketName('Imports'));
    expect(rules.map((r) => r.name)).toEqual(['ImportsUploadCors']);
    const site = infra.one('aws:cloudfront/distribution:Distribution', /^ConsoleCdn/);
    expect(rules[0]!.inputs.corsRules).toEqual([
      {
        allowedOrigins: [`https://${String(site.state.domainName)}`],
        allowedMethods: ['PUT'],
        allowedHeaders: ['content-type'],
        exposeHeaders: ['ETag'],
        maxAgeSeconds: 600,
      },
    ]);
  });

  it('the console may put objects under exports/ and raw/ of the imports bucket (the presigned PUT), nothing else of it', () => {
    const onImports = infra
      .statementsOf(infra.roleOf(infra.lambda(/^ConsoleServer/)))
      .filter((s) => s.resources.some((r) => r.startsWith(bucketArn('Imports'))));
    expect(onImports.map((s) => canonical(s))).toEqual([
      canonical(allow(['s3:PutObject'], [`${bucketArn('Imports')}/exports/*`, `${bucketArn('Imports')}/raw/*`])),
    ]);
  });
});
