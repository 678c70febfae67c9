/**
 * The checkers fail when they should: each is run on a deliberately broken copy of the real (ci) resource inputs —
 * one wrong setting at a time — and must report exactly what is wrong.
 */
import { describe, expect, it } from 'vitest';
import {
  allow,
  checkDatabaseCluster,
  checkEgressOnly,
  checkFunctionPlatform,
  checkIngressOnly,
  checkInvokeOnly,
  checkLakeWriterMapping,
  checkNoWildcards,
  checkOltpSinkMapping,
  checkStatements,
  checkStream,
  policiesIn,
} from './checks.ts';
import { ACCESS, expectedStatements } from './access.ts';
import { deployed } from './deployed.ts';
import type { Resource, Statement } from './harness.ts';

// biome-ignore lint/suspicious/noExplicitAny: the tests reach into deep, untyped resource inputs and edit them in place.
type Editable = Record<string, any>;

const infra = deployed('ci');
const LAKE_WRITER = /^LakeWriter$/;
const stream = infra.part('sst:aws:KinesisStream', 'Events', 'aws:kinesis/stream:Stream');
const quarantine = infra.part('sst:aws:Bucket', 'Quarantine', 'aws:s3/bucket:Bucket');
const lake = infra.part('sst:aws:Bucket', 'Lake', 'aws:s3/bucket:Bucket');
const mapping = infra.one('aws:lambda/eventSourceMapping:EventSourceMapping', /LakeWriter/);
const wiring = {
  streamArn: stream.state.arn,
  functionArn: infra.lambda(LAKE_WRITER).state.arn,
  quarantineArn: quarantine.state.arn,
};

/** A deep copy of `resource` with its inputs changed by `edit`. */
function broken(resource: Resource, edit: (inputs: Editable) => void): Resource {
  const copy = structuredClone(resource);
  edit(copy.inputs);
  return copy;
}

/** The statements of a copy of `role` whose inline policy (SST's: permissions + link permissions) `edit` rewrote. */
function editedStatements(role: Resource, edit: (statements: Editable[]) => void): Statement[] {
  const copy = broken(role, (inputs) => {
    const doc = JSON.parse(inputs.inlinePolicies[0].policy);
    edit(doc.Statement);
    inputs.inlinePolicies[0].policy = JSON.stringify(doc);
  });
  return infra.statementsOf(copy);
}

describe('checkLakeWriterMapping', () => {
  it('accepts the deployed mapping', () => {
    expect(checkLakeWriterMapping(mapping, wiring)).toEqual([]);
  });

  it.each<[string, (i: Editable) => void, RegExp]>([
    [
      'dropping ReportBatchItemFailures',
      (i) => (i.functionResponseTypes = []),
      /functionResponseTypes: expected \["ReportBatchItemFailures"\], got \[\]/,
    ],
    [
      'removing functionResponseTypes',
      (i) => delete i.functionResponseTypes,
      /functionResponseTypes: expected \["ReportBatchItemFailures"\], got undefined/,
    ],
    [
      'turning bisect off',
      (i) => (i.bisectBatchOnFunctionError = false),
      /bisectBatchOnFunctionError: expected true, got false/,
    ],
    ['a bigger batch', (i) => (i.batchSize = 1000), /batchSize: expected 500, got 1000/],
    ['infinite retries', (i) => (i.maximumRetryAttempts = -1), /maximumRetryAttempts: expected 5, got -1/],
    [
      'starting at LATEST',
      (i) => (i.startingPosition = 'LATEST'),
      /startingPosition: expected "TRIM_HORIZON", got "LATEST"/,
    ],
    ['no on-failure destination', (i) => delete i.destinationConfig, /destinationConfig: expected \{"onFailure"/],
    [
      'failures to the lake bucket',
      (i) => (i.destinationConfig.onFailure.destinationArn = lake.state.arn),
      /destinationConfig: .*lakebucket/,
    ],
    [
      'reading another stream',
      (i) => (i.eventSourceArn = 'arn:aws:kinesis:us-east-1:123456789012:stream/other'),
      /eventSourceArn: expected/,
    ],
    [
      'a setting nobody asked for',
      (i) => (i.tumblingWindowInSeconds = 60),
      /tumblingWindowInSeconds: not expected, got 60/,
    ],
    [
      'more parallel batches per shard',
      (i) => (i.parallelizationFactor = 10),
      /parallelizationFactor: expected 1, got 10/,
    ],
  ])('rejects %s', (_what, edit, message) => {
    const problems = checkLakeWriterMapping(broken(mapping, edit), wiring);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });
});

describe('checkStatements / checkNoWildcards / policiesIn', () => {
  const role = infra.roleOf(infra.lambda(LAKE_WRITER));
  const expected = expectedStatements(infra, ACCESS.find((a) => a.label === 'LakeWriter')!);
  const key = (s: Statement) => JSON.stringify({ actions: s.actions, effect: s.effect, resources: s.resources });
  /** The lake writer's role with its inline policy rewritten by `edit`. */
  const withPolicy = (edit: (statements: Editable[]) => void): Statement[] => editedStatements(role, edit);

  it('accept the deployed role', () => {
    expect(checkStatements('LakeWriter', infra.statementsOf(role), expected)).toEqual([]);
    expect(checkNoWildcards('LakeWriter', infra.statementsOf(role))).toEqual([]);
  });

  it('reject an added s3:* on every resource', () => {
    const statements = withPolicy((s) => s.push({ Effect: 'Allow', Action: 's3:*', Resource: '*' }));
    expect(checkStatements('LakeWriter', statements, expected)).toEqual([
      'LakeWriter: unexpected statement {"actions":["s3:*"],"effect":"Allow","resources":["*"]}',
    ]);
    expect(checkNoWildcards('LakeWriter', statements)).toEqual([
      'LakeWriter: allows the wildcard action s3:* ({"actions":["s3:*"],"effect":"Allow","resources":["*"]})',
    ]);
  });

  it('reject a widened action (stream read → kinesis:*), even on its one stream', () => {
    const statements = withPolicy((s) => (s[0]!.Action = 'kinesis:*'));
    const read = expected.find((e) => e.actions.includes('kinesis:GetRecords'))!;
    expect(checkStatements('LakeWriter', statements, expected)).toEqual([
      `LakeWriter: missing statement ${key(read)}`,
      `LakeWriter: unexpected statement ${JSON.stringify({ actions: ['kinesis:*'], effect: 'Allow', resources: [stream.state.arn] })}`,
    ]);
    expect(checkNoWildcards('LakeWriter', statements)).toEqual([
      `LakeWriter: allows the wildcard action kinesis:* (${JSON.stringify({ actions: ['kinesis:*'], effect: 'Allow', resources: [stream.state.arn] })})`,
    ]);
  });

  it('reject a widened resource (the lake bucket → every bucket)', () => {
    const statements = withPolicy((s) => (s[1]!.Resource = ['arn:aws:s3:::*', 'arn:aws:s3:::*/*']));
    expect(checkStatements('LakeWriter', statements, expected)).toHaveLength(2);
  });

  it('reject a missing grant', () => {
    const statements = withPolicy((s) => s.splice(2, 1));
    expect(checkStatements('LakeWriter', statements, expected)).toHaveLength(1);
    expect(checkStatements('LakeWriter', statements, expected)[0]).toMatch(/^LakeWriter: missing statement /);
  });

  it.each<[string, Statement]>([
    ['"*"', allow(['*'], ['arn:aws:s3:::b'])],
    ['a service wildcard', allow(['dynamodb:*'], ['arn:aws:dynamodb:us-east-1:123456789012:table/t'])],
    ['a prefix wildcard', allow(['s3:Get*'], ['arn:aws:s3:::b/*'])],
    [
      'a one-character wildcard',
      allow(['kinesis:DescribeStrea?'], ['arn:aws:kinesis:us-east-1:123456789012:stream/s']),
    ],
    ['NotAction', { effect: 'Allow', actions: ['iam:PassRole'], resources: ['*'], notAction: true }],
    ['NotResource', { effect: 'Allow', actions: ['s3:GetObject'], resources: ['arn:aws:s3:::b/*'], notResource: true }],
  ])('reject %s as an allowed action on any resource', (_what, statement) => {
    expect(checkNoWildcards('x', [statement])).toHaveLength(1);
  });

  it('accept written-out actions on "*" and a Deny with a wildcard (it grants nothing)', () => {
    expect(
      checkNoWildcards('x', [
        allow(['cloudwatch:GetMetricData'], ['*']),
        { effect: 'Deny', actions: ['s3:*'], resources: ['*'] },
      ]),
    ).toEqual([]);
  });

  it('policiesIn finds policy documents wherever a resource carries one (strings, objects, nested) and Lambda permissions', () => {
    const doc = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] };
    const fake = (type: string, name: string, inputs: Record<string, unknown>) => ({
      ...structuredClone(role),
      type,
      name,
      inputs,
    });
    const found = policiesIn([
      fake('aws:kms/key:Key', 'Key', { policy: JSON.stringify(doc) }),
      fake('aws:iam/role:Role', 'Role', { inlinePolicies: [{ name: 'inline', policy: JSON.stringify(doc) }] }),
      fake('aws:custom:Thing', 'Thing', { deep: { config: [{ document: doc }] } }),
      fake('aws:lambda/permission:Permission', 'Perm', {
        action: 'lambda:*',
        function: 'arn:aws:lambda:us-east-1:123456789012:function:f',
      }),
      fake('aws:s3/bucket:Bucket', 'Plain', { bucket: 'b', tags: { Statement: 'not a policy' } }),
    ]);
    expect(found.map((p) => p.where)).toEqual([
      'Key.policy',
      'Role.inlinePolicies[0].policy',
      'Thing.deep.config[0].document',
      'Perm (Lambda permission)',
    ]);
    expect(found.flatMap((p) => checkNoWildcards(p.where, p.statements))).toHaveLength(4);
  });
});

describe('checkStream / checkFunctionPlatform', () => {
  it('reject ON_DEMAND, another shard count, a missing metric, no encryption', () => {
    expect(
      checkStream(
        broken(stream, (i) => (i.streamModeDetails = { streamMode: 'ON_DEMAND' })),
        { shards: 2, retentionHours: 24 },
      ),
    ).toEqual(['stream.streamModeDetails: expected {"streamMode":"PROVISIONED"}, got {"streamMode":"ON_DEMAND"}']);
    expect(
      checkStream(
        broken(stream, (i) => (i.shardCount = 1)),
        { shards: 2, retentionHours: 24 },
      ),
    ).toEqual(['stream.shardCount: expected 2, got 1']);
    expect(
      checkStream(
        broken(stream, (i) => i.shardLevelMetrics.pop()),
        { shards: 2, retentionHours: 24 },
      ),
    ).toHaveLength(1);
    expect(
      checkStream(
        broken(stream, (i) => delete i.encryptionType),
        { shards: 2, retentionHours: 24 },
      ),
    ).toEqual(['stream.encryptionType: expected "KMS", got undefined']);
  });

  it('reject another runtime or x86', () => {
    const fn = infra.lambda('Ingest');
    expect(checkFunctionPlatform(broken(fn, (i) => (i.runtime = 'nodejs20.x')))).toEqual([
      `${fn.name}.runtime: expected nodejs22.x, got "nodejs20.x"`,
    ]);
    expect(checkFunctionPlatform(broken(fn, (i) => (i.architectures = ['x86_64'])))).toEqual([
      `${fn.name}.architectures: expected ["arm64"], got ["x86_64"]`,
    ]);
  });
});

describe('checkOltpSinkMapping', () => {
  const sinkMapping = infra.one('aws:lambda/eventSourceMapping:EventSourceMapping', /OltpSink/);
  const sinkWiring = {
    streamArn: stream.state.arn,
    functionArn: infra.lambda(/^OltpSink$/).state.arn,
    quarantineArn: quarantine.state.arn,
  };

  it('accepts the deployed mapping', () => {
    expect(checkOltpSinkMapping(sinkMapping, sinkWiring)).toEqual([]);
  });

  it.each<[string, (i: Editable) => void, RegExp]>([
    [
      'dropping ReportBatchItemFailures',
      (i) => (i.functionResponseTypes = []),
      /functionResponseTypes: expected \["ReportBatchItemFailures"\], got \[\]/,
    ],
    [
      'removing functionResponseTypes',
      (i) => delete i.functionResponseTypes,
      /functionResponseTypes: expected \["ReportBatchItemFailures"\], got undefined/,
    ],
    [
      'a finite number of retries',
      (i) => (i.maximumRetryAttempts = 10_000),
      /maximumRetryAttempts: expected -1, got 10000/,
    ],
    [
      'the default retries (unset)',
      (i) => delete i.maximumRetryAttempts,
      /maximumRetryAttempts: expected -1, got undefined/,
    ],
    [
      'a maximum record age',
      (i) => (i.maximumRecordAgeInSeconds = 604_800),
      /maximumRecordAgeInSeconds: expected -1, got 604800/,
    ],
    [
      'bisecting on errors',
      (i) => (i.bisectBatchOnFunctionError = true),
      /bisectBatchOnFunctionError: expected false, got true/,
    ],
    ['a bigger batch', (i) => (i.batchSize = 1000), /batchSize: expected 500, got 1000/],
    [
      'no batching window',
      (i) => delete i.maximumBatchingWindowInSeconds,
      /maximumBatchingWindowInSeconds: expected 5, got undefined/,
    ],
    [
      'starting at LATEST',
      (i) => (i.startingPosition = 'LATEST'),
      /startingPosition: expected "TRIM_HORIZON", got "LATEST"/,
    ],
    [
      'no event filter (every type)',
      (i) => delete i.filterCriteria,
      /filterCriteria: expected .*transactions.*, got undefined/,
    ],
    [
      'another type in the filter',
      (i) => (i.filterCriteria.filters[0].pattern = '{"data":{"type":["taxi_trips"]}}'),
      /filterCriteria: expected .*transactions.*taxi_trips/,
    ],
    ['no on-failure destination', (i) => delete i.destinationConfig, /destinationConfig: expected \{"onFailure"/],
    [
      'more parallel batches per shard',
      (i) => (i.parallelizationFactor = 10),
      /parallelizationFactor: expected 1, got 10/,
    ],
    [
      'a setting nobody asked for',
      (i) => (i.tumblingWindowInSeconds = 60),
      /tumblingWindowInSeconds: not expected, got 60/,
    ],
  ])('rejects %s', (_what, edit, message) => {
    const problems = checkOltpSinkMapping(broken(sinkMapping, edit), sinkWiring);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it('the lake writer’s mapping does not pass as the sink’s (and vice versa)', () => {
    expect(checkOltpSinkMapping(mapping, sinkWiring).length).toBeGreaterThan(3);
    expect(checkLakeWriterMapping(sinkMapping, wiring).length).toBeGreaterThan(3);
  });
});

describe('checkDatabaseCluster', () => {
  const cluster = infra.part('sst:aws:Aurora', 'Database', 'aws:rds/cluster:Cluster');
  const expected = {
    maxAcu: 2,
    production: false,
    subnetGroup: infra.part('sst:aws:Aurora', 'Database', 'aws:rds/subnetGroup:SubnetGroup').state.name,
    securityGroup: infra.one('aws:ec2/securityGroup:SecurityGroup', 'DatabaseSecurityGroup').state.id,
  };

  it('accepts the deployed cluster', () => {
    expect(checkDatabaseCluster(cluster, expected)).toEqual([]);
  });

  it.each<[string, (i: Editable) => void, RegExp]>([
    [
      'a minimum of 0.5 ACU (never pauses)',
      (i) => (i.serverlessv2ScalingConfiguration.minCapacity = 0.5),
      /serverlessv2ScalingConfiguration: expected .*"minCapacity":0/,
    ],
    [
      'another maximum',
      (i) => (i.serverlessv2ScalingConfiguration.maxCapacity = 64),
      /serverlessv2ScalingConfiguration: expected .*"maxCapacity":2/,
    ],
    [
      'an engine version without auto-pause',
      (i) => (i.engineVersion = '16.2'),
      /engineVersion: expected "17.4", got "16.2"/,
    ],
    ['MySQL', (i) => (i.engine = 'aurora-mysql'), /engine: expected "aurora-postgresql"/],
    ['unencrypted storage', (i) => (i.storageEncrypted = false), /storageEncrypted: expected true, got false/],
    ['the Data API turned on', (i) => (i.enableHttpEndpoint = true), /enableHttpEndpoint: expected false, got true/],
    ['another database name', (i) => (i.databaseName = 'postgres'), /databaseName: expected "tributary"/],
    [
      'the VPC-wide default security group added',
      (i) => i.vpcSecurityGroupIds.push('sg-0default'),
      /vpcSecurityGroupIds: expected/,
    ],
    [
      'IAM authentication switched on unseen',
      (i) => (i.iamDatabaseAuthenticationEnabled = true),
      /iamDatabaseAuthenticationEnabled: not expected, got true/,
    ],
  ])('rejects %s', (_what, edit, message) => {
    const problems = checkDatabaseCluster(broken(cluster, edit), expected);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it('rejects a production cluster without deletion protection or a final snapshot', () => {
    const problems = checkDatabaseCluster(cluster, { ...expected, production: true });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/deletionProtection: expected true, got false/),
        expect.stringMatching(/skipFinalSnapshot: expected false, got true/),
        expect.stringMatching(/finalSnapshotIdentifier: expected "tributary-production-database-final", got undefined/),
        expect.stringMatching(/backupRetentionPeriod: expected 7, got 1/),
      ]),
    );
  });
});

describe('checkIngressOnly', () => {
  const db = infra.one('aws:ec2/securityGroup:SecurityGroup', 'DatabaseSecurityGroup');
  const sinkSg = infra.one('aws:ec2/securityGroup:SecurityGroup', 'OltpSinkSecurityGroup');
  const rule = infra.one('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule', 'DatabaseFromOltpSink');
  const others = infra.byType('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule').filter((r) => r !== rule);
  const allowed = [{ from: sinkSg.state.id, port: 5432 }];
  const extra = (
    name: string,
    inputs: Record<string, unknown>,
    type = 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule',
  ): Resource => ({ ...structuredClone(rule), name, type, inputs: { securityGroupId: db.state.id, ...inputs } });

  it('accepts the deployed rules (the sink, the console database function, the import functions), and refuses each one not expected', () => {
    const sg = (name: string) => ({
      from: infra.one('aws:ec2/securityGroup:SecurityGroup', `${name}SecurityGroup`).state.id,
      port: 5432,
    });
    const clients = ['ConsoleDb', 'ImportApplier', 'ImportJob'].map(sg);
    expect(checkIngressOnly('db', db, [rule, ...others], [...allowed, ...clients])).toEqual([]);
    expect(checkIngressOnly('db', db, [rule, ...others], [...allowed, ...clients.slice(1)])).toEqual([
      expect.stringMatching(/^db: unexpected ingress DatabaseFromConsoleDb /),
    ]);
    expect(checkIngressOnly('db', db, [rule, ...others], clients)).toEqual([
      expect.stringMatching(/^db: unexpected ingress DatabaseFromOltpSink /),
    ]);
  });

  it('rejects the database port open to the internet (or any address range)', () => {
    const open = extra('Open', { ipProtocol: 'tcp', fromPort: 5432, toPort: 5432, cidrIpv4: '0.0.0.0/0' });
    expect(checkIngressOnly('db', db, [rule, open], allowed)).toEqual([
      `db: unexpected ingress Open {"cidr":"0.0.0.0/0","fromPort":5432,"protocol":"tcp","toPort":5432}`,
    ]);
    const vpcWide = extra(
      'VpcWide',
      { type: 'ingress', protocol: '-1', fromPort: 0, toPort: 0, cidrBlocks: ['10.0.0.0/16'] },
      'aws:ec2/securityGroupRule:SecurityGroupRule',
    );
    expect(checkIngressOnly('db', db, [rule, vpcWide], allowed)).toHaveLength(1);
  });

  it('rejects every port from the sink, another source group, a missing rule and inline ingress', () => {
    const wide = broken(rule, (i) => {
      i.fromPort = 0;
      i.toPort = 65535;
    });
    expect(checkIngressOnly('db', db, [wide], allowed)).toEqual([
      expect.stringMatching(/^db: unexpected ingress DatabaseFromOltpSink .*"fromPort":0/),
      `db: missing ingress tcp 5432 from ${String(sinkSg.state.id)}`,
    ]);
    expect(
      checkIngressOnly(
        'db',
        db,
        [
          rule,
          extra('Other', { ipProtocol: 'tcp', fromPort: 5432, toPort: 5432, referencedSecurityGroupId: 'sg-0other' }),
        ],
        allowed,
      ),
    ).toHaveLength(1);
    expect(checkIngressOnly('db', db, [], allowed)).toEqual([
      `db: missing ingress tcp 5432 from ${String(sinkSg.state.id)}`,
    ]);
    const inline = broken(
      db,
      (i) => (i.ingress = [{ protocol: 'tcp', fromPort: 5432, toPort: 5432, cidrBlocks: ['0.0.0.0/0'] }]),
    );
    expect(checkIngressOnly('db', inline, [rule], allowed)).toEqual([
      expect.stringMatching(/^db: inline ingress rules /),
    ]);
  });
});

describe('checkEgressOnly', () => {
  const sg = (name: string) => infra.one('aws:ec2/securityGroup:SecurityGroup', name);
  const statusSg = sg('ConsoleDbSecurityGroup');
  const rules = [
    ...infra.byType('aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule'),
    ...infra.byType('aws:ec2/securityGroupRule:SecurityGroupRule'),
  ];
  const toDb = infra.one('aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule', 'ConsoleDbToDatabase');
  const allowed = [
    { to: sg('DatabaseSecurityGroup').state.id, port: 5432 },
    { to: sg('SecretsManagerEndpointSecurityGroup').state.id, port: 443 },
  ];
  const s3PrefixList = infra.one('aws:ec2/vpcEndpoint:VpcEndpoint', 'S3Endpoint').state.prefixListId;
  const extra = (
    name: string,
    inputs: Record<string, unknown>,
    type = 'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule',
  ): Resource => ({ ...structuredClone(toDb), name, type, inputs: { securityGroupId: statusSg.state.id, ...inputs } });

  it('accepts the deployed rules of the console database function and the sink', () => {
    expect(checkEgressOnly('status', statusSg, rules, allowed)).toEqual([]);
    expect(
      checkEgressOnly('sink', sg('OltpSinkSecurityGroup'), rules, [...allowed, { to: s3PrefixList, port: 443 }]),
    ).toEqual([]);
  });

  it('rejects the console database function reaching S3 (the sink’s path), the internet or every port of the database', () => {
    const s3 = extra('ConsoleDbToS3', { ipProtocol: 'tcp', fromPort: 443, toPort: 443, prefixListId: s3PrefixList });
    expect(checkEgressOnly('status', statusSg, [...rules, s3], allowed)).toEqual([
      `status: unexpected egress ConsoleDbToS3 {"fromPort":443,"protocol":"tcp","to":"${String(s3PrefixList)}","toPort":443}`,
    ]);
    const internet = extra('Anywhere', { ipProtocol: '-1', cidrIpv4: '0.0.0.0/0' });
    expect(checkEgressOnly('status', statusSg, [...rules, internet], allowed)).toEqual([
      expect.stringMatching(/^status: unexpected egress Anywhere .*"cidr":"0.0.0.0\/0"/),
    ]);
    const allPorts = broken(toDb, (i) => {
      i.fromPort = 0;
      i.toPort = 65535;
    });
    expect(checkEgressOnly('status', statusSg, [...rules.filter((r) => r !== toDb), allPorts], allowed)).toEqual([
      expect.stringMatching(/^status: unexpected egress ConsoleDbToDatabase .*"fromPort":0/),
      `status: missing egress tcp 5432 to ${String(sg('DatabaseSecurityGroup').state.id)}`,
    ]);
  });

  it('rejects AWS’s allow-all rule put back (inline, or as an aws:ec2 rule) and a missing rule', () => {
    const inline = broken(
      statusSg,
      (i) => (i.egress = [{ protocol: '-1', fromPort: 0, toPort: 0, cidrBlocks: ['0.0.0.0/0'] }]),
    );
    expect(checkEgressOnly('status', inline, rules, allowed)).toEqual([
      expect.stringMatching(/^status: inline egress rules /),
    ]);
    const legacy = extra(
      'AllOut',
      { type: 'egress', protocol: '-1', fromPort: 0, toPort: 0, cidrBlocks: ['0.0.0.0/0'] },
      'aws:ec2/securityGroupRule:SecurityGroupRule',
    );
    expect(checkEgressOnly('status', statusSg, [...rules, legacy], allowed)).toHaveLength(1);
    expect(
      checkEgressOnly(
        'status',
        statusSg,
        rules.filter((r) => r !== toDb),
        allowed,
      ),
    ).toEqual([`status: missing egress tcp 5432 to ${String(sg('DatabaseSecurityGroup').state.id)}`]);
  });
});

describe('the console database function’s and the console’s permissions', () => {
  const statusFn = infra.lambda(/^ConsoleDb$/);
  const statusRole = infra.roleOf(statusFn);
  const secretArn = infra.part('sst:aws:Aurora', 'Database', 'aws:secretsmanager/secret:Secret').state.arn;
  const readSecret = [allow(['secretsmanager:GetSecretValue'], [secretArn])];
  const consoleRole = infra.roleOf(infra.lambda(/^ConsoleServer/));
  const statusArn = String(statusFn.state.arn);
  const invokable = [statusArn, infra.lambda(/^RedriveWorker$/).state.arn];
  /** The console's role with the statement granting the console database function rewritten by `edit`. */
  const consoleWith = (edit: (statement: Editable, all: Editable[]) => void): Statement[] =>
    editedStatements(consoleRole, (all) => edit(all.find((st) => [st.Resource].flat().includes(statusArn))!, all));

  it('accept the deployed roles', () => {
    expect(checkStatements('ConsoleDb', infra.statementsOf(statusRole), readSecret)).toEqual([]);
    expect(checkInvokeOnly('console', infra.statementsOf(consoleRole), invokable)).toEqual([]);
  });

  it.each<[string, (s: Editable[]) => void]>([
    ['every secret', (s) => (s[0]!.Resource = '*')],
    [
      'every secret of the account by pattern',
      (s) => (s[0]!.Resource = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:*'),
    ],
    ['secretsmanager:*', (s) => (s[0]!.Action = 'secretsmanager:*')],
    [
      'an added S3 grant',
      (s) => s.push({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::tributary-ci-lakebucket/*' }),
    ],
  ])('reject the console database function’s secret grant widened to %s', (_what, edit) => {
    expect(checkStatements('ConsoleDb', editedStatements(statusRole, edit), readSecret).length).toBeGreaterThan(0);
  });

  it.each<[string, (st: Editable, all: Editable[]) => void, RegExp]>([
    [
      'every function of the account',
      (st) => (st.Resource = 'arn:aws:lambda:us-east-1:123456789012:function:*'),
      /^console: may invoke arn:aws:lambda:us-east-1:123456789012:function:\*$/,
    ],
    [
      'every function of the stage (name pattern)',
      (st) => (st.Resource = 'arn:aws:lambda:*:*:function:tributary-ci-*'),
      /^console: may invoke arn:aws:lambda:\*:\*:function:tributary-ci-\*$/,
    ],
    [
      'every version and alias (:*)',
      (st) => (st.Resource = [statusArn, `${statusArn}:*`]),
      /^console: may invoke .*ConsoleDbFunction-\w+:\*$/,
    ],
    [
      'lambda:* on the function',
      (st) => (st.Action = 'lambda:*'),
      /^console: Lambda actions other than lambda:InvokeFunction: lambda:\*/,
    ],
    [
      'lambda:Invoke* (async and URL invokes too)',
      (st) => (st.Action = 'lambda:Invoke*'),
      /^console: Lambda actions other than lambda:InvokeFunction: lambda:Invoke\*/,
    ],
    [
      'also changing its code',
      (st) => (st.Action = ['lambda:InvokeFunction', 'lambda:UpdateFunctionCode']),
      /^console: Lambda actions other than lambda:InvokeFunction: lambda:UpdateFunctionCode/,
    ],
    [
      'an extra "*" statement',
      (_st, all) => all.push({ Effect: 'Allow', Action: '*', Resource: '*' }),
      /^console: Lambda actions other than lambda:InvokeFunction: \*/,
    ],
    [
      'a NotAction statement',
      (_st, all) => all.push({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }),
      /^console: NotAction statement/,
    ],
  ])('reject the console’s invoke permission widened to %s', (_what, edit, message) => {
    const problems = checkInvokeOnly('console', consoleWith(edit), invokable);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
  });

  it('reject the console without its invoke permission on the console database function', () => {
    const statements = editedStatements(consoleRole, (all) =>
      all.splice(
        all.findIndex((st) => [st.Resource].flat().includes(statusArn)),
        1,
      ),
    );
    expect(checkInvokeOnly('console', statements, invokable)).toEqual([`console: may not invoke ${statusArn}`]);
  });
});
