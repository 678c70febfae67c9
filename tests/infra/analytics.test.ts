/**
 * The `ci` stage's analytics, monitoring and console resources (offline: tests/infra/harness.ts): Glue tables equal to
 * what lib/catalog generates, the Athena workgroup's guard rails, named queries from queries/, the compactor, the
 * alarms and their thresholds, and the console's and re-drive worker's IAM.
 */
import { describe, expect, it } from 'vitest';
import { TableRegistry } from '../../lib/imports/tables.ts';
import { Catalog } from '../../lib/catalog/catalog.ts';
import { CLIENT_ADDRESS_HEADER, CLIENT_ADDRESS_INJECTION } from '../../lib/console/auth.ts';
import { glueTables } from '../../lib/catalog/glue.ts';
import { loadSavedQueries, savedSql } from '../../lib/query/saved.ts';
import { defaultRegistry } from '../../lib/registry/registry.ts';
import { allows, checkExact, checkInvokeOnly } from './checks.ts';
import { deployed } from './deployed.ts';

const infra = deployed('ci');
const bucket = (name: string) => infra.part('sst:aws:Bucket', name, 'aws:s3/bucket:Bucket');
const streamArn = () => infra.part('sst:aws:KinesisStream', 'Events', 'aws:kinesis/stream:Stream').state.arn;
const GiB = 1024 ** 3;

describe('Glue tables', () => {
  it('are exactly the catalog’s tables (raw, compacted, views), with the real bucket names and partition projection', () => {
    const names = { lake: String(bucket('Lake').state.bucket), quarantine: String(bucket('Quarantine').state.bucket) };
    const expected = glueTables(
      new Catalog(defaultRegistry(), new TableRegistry()),
      'tributary_ci',
      (role) => names[role],
    );
    const actual = infra.byType('aws:glue/catalogTable:CatalogTable');
    expect(actual.map((t) => t.inputs.name).sort()).toEqual(expected.map((t) => t.name).sort());
    for (const want of expected) {
      const got = actual.find((t) => t.inputs.name === want.name)!;
      expect(got.inputs, want.name).toMatchObject(JSON.parse(JSON.stringify(want)) as Record<string, unknown>);
    }
    // One case spelled out: transactions' raw table projects dt as a date range and hour as 00–23.
    const raw = actual.find((t) => t.inputs.name === 'transactions_raw')!;
    expect((raw.inputs.parameters as Record<string, string>)['projection.dt.range']).toBe('1970-01-01,NOW+1DAYS');
    expect((raw.inputs.parameters as Record<string, string>)['projection.hour.range']).toBe('0,23');
    expect((raw.inputs.storageDescriptor as { location: string }).location).toBe(
      `s3://${names.lake}/events/transactions/`,
    );
    expect(infra.one('aws:glue/catalogDatabase:CatalogDatabase', 'LakeDatabase').inputs.name).toBe('tributary_ci');
  });
});

describe('Athena', () => {
  it('the workgroup enforces its result location, publishes metrics and cuts queries off at 10 GiB scanned', () => {
    const wg = infra.one('aws:athena/workgroup:Workgroup', 'Workgroup');
    expect(wg.inputs).toMatchObject({
      name: 'tributary-ci',
      configuration: {
        enforceWorkgroupConfiguration: true,
        publishCloudwatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: 10 * GiB,
        resultConfiguration: {
          outputLocation: `s3://${String(bucket('AthenaResults').state.bucket)}/athena-results/`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });
  });

  it('every saved query is a named query with its Athena SQL', () => {
    const saved = loadSavedQueries();
    const named = infra.byType('aws:athena/namedQuery:NamedQuery');
    expect(named.map((q) => q.inputs.name).sort()).toEqual(saved.map((q) => q.name).sort());
    for (const q of saved) {
      const got = named.find((n) => n.inputs.name === q.name)!;
      expect(got.inputs).toMatchObject({
        query: savedSql(q, 'athena'),
        database: 'tributary_ci',
        workgroup: 'tributary-ci',
      });
    }
  });
});

describe('compactor', () => {
  it('runs every hour from functions/compactor with DuckDB installed for its platform, and may use only the lake', () => {
    expect(infra.one('aws:cloudwatch/eventRule:EventRule', /Compactor/).inputs.scheduleExpression).toBe('rate(1 hour)');
    const fn = infra.lambda(/^CompactorHandler$|^Compactor.*Function$/);
    expect(fn.inputs).toMatchObject({
      timeout: 900,
      memorySize: 3008,
      architectures: ['arm64'],
      runtime: 'nodejs22.x',
    });
    const build = infra.build(/Compactor/);
    expect(build.handler).toBe('functions/compactor/handler.handler');
    expect(JSON.stringify(build)).toContain('@duckdb/node-api');
    // Its role statement by statement: access.test.ts. Taken over, it could rewrite the lake, nothing else.
    const can = (action: string, resource: string) => allows(infra.statementsOf(infra.roleOf(fn)), action, resource);
    const lake = String(bucket('Lake').state.arn);
    expect(can('s3:PutObject', `${lake}/compacted/transactions/dt=2026-01-01/hour=00/part-x.parquet`)).toBe(true);
    expect(can('s3:DeleteObject', `${lake}/compacted/transactions/dt=2026-01-01/hour=00/part-x.parquet`)).toBe(false);
    expect(can('s3:GetObject', `${String(bucket('Quarantine').state.arn)}/records/x`)).toBe(false);
    expect(can('kinesis:PutRecords', String(streamArn()))).toBe(false);
  });
});

describe('monitoring', () => {
  const alarm = (name: string | RegExp) => infra.one('aws:cloudwatch/metricAlarm:MetricAlarm', name);
  const topicArn = () => infra.part('sst:aws:SnsTopic', 'Alarms', 'aws:sns/topic:Topic').state.arn;

  it('alarms when the lake writer is 5 minutes behind for 5 minutes, or fails', () => {
    expect(alarm('LakeWriterIteratorAge').inputs).toMatchObject({
      namespace: 'AWS/Lambda',
      metricName: 'IteratorAge',
      statistic: 'Maximum',
      period: 60,
      evaluationPeriods: 5,
      threshold: 300_000,
      comparisonOperator: 'GreaterThanThreshold',
    });
    expect(alarm('LakeWriterErrors').inputs).toMatchObject({
      namespace: 'AWS/Lambda',
      metricName: 'Errors',
      statistic: 'Sum',
      period: 300,
      threshold: 0,
      comparisonOperator: 'GreaterThanThreshold',
    });
    const fnName = infra.lambda(/^LakeWriter$/).state.name;
    expect((alarm('LakeWriterIteratorAge').inputs.dimensions as Record<string, string>).FunctionName).toBe(fnName);
  });

  it('alarms on any write throttle of the stream', () => {
    const streamName = infra.part('sst:aws:KinesisStream', 'Events', 'aws:kinesis/stream:Stream').state.name;
    expect(alarm('StreamWriteThrottles').inputs).toMatchObject({
      namespace: 'AWS/Kinesis',
      metricName: 'WriteProvisionedThroughputExceeded',
      dimensions: { StreamName: streamName },
      statistic: 'Sum',
      threshold: 0,
    });
  });

  it('alarms per event type when more than 5 % of at least 100 events in 5 minutes were rejected', () => {
    for (const type of defaultRegistry().names()) {
      const a = alarm(`InvalidRate_${type}`).inputs as {
        threshold: number;
        metricQueries: {
          id: string;
          expression?: string;
          metric?: { metricName: string; namespace: string; dimensions: Record<string, string>; period: number };
        }[];
      };
      expect(a.threshold).toBe(0.05);
      expect(a.metricQueries.map((q) => q.id)).toEqual(['accepted', 'rejected', 'rate']);
      expect(a.metricQueries[0]!.metric).toMatchObject({
        namespace: 'Tributary',
        metricName: 'EventsAccepted',
        dimensions: { service: 'tributary', type },
        period: 300,
      });
      expect(a.metricQueries[1]!.metric).toMatchObject({
        metricName: 'EventsRejected',
        dimensions: { service: 'tributary', type },
      });
      expect(a.metricQueries[2]!.expression).toBe(
        'IF((accepted + rejected) >= 100, rejected / (accepted + rejected), 0)',
      );
    }
  });

  it('every alarm notifies the alarms topic, and so does every on-failure batch object', () => {
    const alarms = infra.byType('aws:cloudwatch/metricAlarm:MetricAlarm');
    // Lake writer ×2, stream throttles, OLTP sink ×3 (tests/infra/database.test.ts), API 5xx, ingest, authorizer,
    // compactor ×3, re-drive worker, imports ×6 (tests/infra/imports.test.ts), one invalid-rate alarm per type.
    expect(alarms.length).toBe(19 + defaultRegistry().names().length);
    for (const a of alarms)
      expect(a.inputs, a.name).toMatchObject({ alarmActions: [topicArn()], okActions: [topicArn()] });
    // Missing data is no failure for counts of failures; only the compactor's silence is one.
    expect(
      alarms
        .filter((a) => a.inputs.treatMissingData !== 'notBreaching')
        .map((a) => [a.name, a.inputs.treatMissingData]),
    ).toEqual([['CompactorNotRunning', 'breaching']]);
    const notification = infra
      .byType('aws:s3/bucketNotification:BucketNotification')
      .find((n) => n.inputs.bucket === bucket('Quarantine').state.bucket)!;
    expect(notification.inputs.topics).toEqual([
      expect.objectContaining({ topicArn: topicArn(), events: ['s3:ObjectCreated:*'], filterPrefix: 'aws/lambda/' }),
    ]);
  });

  /** Every input of an alarm but its description: the metric, its dimensions, the threshold and the actions. */
  const expectAlarm = (name: string, want: Record<string, unknown>) =>
    expect(
      checkExact(
        name,
        alarm(name).inputs,
        { alarmActions: [topicArn()], okActions: [topicArn()], treatMissingData: 'notBreaching', ...want },
        ['alarmDescription', 'name'],
      ),
    ).toEqual([]);
  /** Any failed invocation of the function in `period` seconds. */
  const lambdaErrors = (fn: string | RegExp, period = 300) => ({
    namespace: 'AWS/Lambda',
    metricName: 'Errors',
    dimensions: { FunctionName: infra.lambda(fn).state.name },
    statistic: 'Sum',
    period,
    evaluationPeriods: 1,
    threshold: 0,
    comparisonOperator: 'GreaterThanThreshold',
  });

  it('alarms on any 5xx answer of the ingest API in 5 minutes (its HTTP API id, default stage)', () => {
    expectAlarm('Api5xx', {
      namespace: 'AWS/ApiGateway',
      metricName: '5xx',
      dimensions: {
        ApiId: infra.part('sst:aws:ApiGatewayV2', 'Api', 'aws:apigatewayv2/api:Api').id,
        Stage: '$default',
      },
      statistic: 'Sum',
      period: 300,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: 'GreaterThanThreshold',
    });
    expect(infra.one('aws:apigatewayv2/stage:Stage', /^Api/).inputs.name).toBe('$default');
  });

  it('alarms on any failed invocation of the ingest function, the authorizer or the re-drive worker in 5 minutes', () => {
    expectAlarm('IngestErrors', lambdaErrors('Ingest'));
    expectAlarm('IngestAuthorizerErrors', lambdaErrors('IngestAuthorizer'));
    expectAlarm('RedriveWorkerErrors', lambdaErrors(/^RedriveWorker$/));
  });

  it('alarms on a failed compaction run, on partitions a run skipped, and when it has not run for two hours', () => {
    const compactor = infra.lambda(/^CompactorHandler$/).state.name;
    expectAlarm('CompactorErrors', lambdaErrors(/^CompactorHandler$/, 3600));
    expectAlarm('CompactionFailedPartitions', {
      namespace: 'Tributary',
      metricName: 'CompactionPartitionsFailed',
      dimensions: { service: 'tributary' },
      statistic: 'Sum',
      period: 3600,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: 'GreaterThanThreshold',
    });
    expectAlarm('CompactorNotRunning', {
      namespace: 'AWS/Lambda',
      metricName: 'Invocations',
      dimensions: { FunctionName: compactor },
      statistic: 'Sum',
      period: 3600,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      threshold: 1,
      comparisonOperator: 'LessThanThreshold',
      treatMissingData: 'breaching',
    });
  });
});

describe('console and re-drive worker', () => {
  it('the worker (its name fixed, so its role can name it) may invoke only itself, and cannot delete anything', () => {
    const fn = infra.lambda(/^RedriveWorker$/);
    expect(fn.inputs).toMatchObject({
      name: 'tributary-ci-RedriveWorker',
      timeout: 900,
      runtime: 'nodejs22.x',
      architectures: ['arm64'],
    });
    const statements = infra.statementsOf(infra.roleOf(fn));
    expect(checkInvokeOnly('RedriveWorker', statements, [fn.state.arn])).toEqual([]);
    expect(fn.state.arn).toBe('arn:aws:lambda:us-east-1:123456789012:function:tributary-ci-RedriveWorker');
    const q = String(bucket('Quarantine').state.arn);
    for (const [action, resource] of [
      ['s3:DeleteObject', `${q}/records/x`],
      ['s3:DeleteObject', `${q}/ledger/x`],
      ['kinesis:DeleteStream', String(streamArn())],
    ] as const) {
      expect(allows(statements, action, resource), `${action} ${resource}`).toBe(false);
    }
  });

  it('the console server waits 45 s, long enough for Aurora to resume from 0 ACU behind the console database function', () => {
    expect(infra.lambda(/^ConsoleServer/).inputs).toMatchObject({ timeout: 45, architectures: ['arm64'] });
  });

  it('the console server gets its workgroup, database, worker and console database function in its environment, and is linked to nothing', () => {
    const server = infra.lambda(/^ConsoleServer/);
    const env = (server.inputs.environment as { variables: Record<string, string> }).variables;
    expect(env).toMatchObject({
      TRIBUTARY_MODE: 'aws',
      TRIBUTARY_ATHENA_WORKGROUP: 'tributary-ci',
      TRIBUTARY_GLUE_DATABASE: 'tributary_ci',
      TRIBUTARY_REDRIVE_FUNCTION: infra.lambda(/^RedriveWorker$/).state.name,
      TRIBUTARY_STAGE: 'ci',
    });
    expect(env.TRIBUTARY_CONSOLE_PASSWORD).toBe('infra-test-password');
    expect(Object.keys(env).filter((k) => k.startsWith('SST_RESOURCE_'))).toEqual(['SST_RESOURCE_App']);
  });

  it("CloudFront stamps every console request with the viewer's address, overwriting the client's (the sign-in throttle counts by it)", () => {
    const fn = infra.one('aws:cloudfront/function:Function', 'ConsoleCloudfrontFunctionRequest');
    const code = String(fn.inputs.code);
    expect(code.indexOf(CLIENT_ADDRESS_INJECTION)).toBeGreaterThan(code.indexOf('async function handler(event)'));
    expect(code.indexOf(CLIENT_ADDRESS_INJECTION)).toBeLessThan(code.indexOf('routeSite('));
    // The injection itself, run on a request that claims an address of its own.
    const event = {
      viewer: { ip: '203.0.113.9' },
      request: { headers: { [CLIENT_ADDRESS_HEADER]: { value: '10.0.0.1' }, host: { value: 'console.example' } } },
    };
    new Function('event', CLIENT_ADDRESS_INJECTION)(event);
    expect(event.request.headers[CLIENT_ADDRESS_HEADER]).toEqual({ value: '203.0.113.9' });
  });

  it('the console, taken over, could not delete data, put events on the stream, or change the glue catalog', () => {
    const statements = infra.statementsOf(infra.roleOf(infra.lambda(/^ConsoleServer/)));
    const q = String(bucket('Quarantine').state.arn);
    const l = String(bucket('Lake').state.arn);
    expect(allows(statements, 's3:GetObject', `${l}/events/transactions/dt=2026-01-01/hour=00/x.jsonl.gz`)).toBe(true);
    for (const [action, resource] of [
      ['s3:DeleteObject', `${l}/events/x`],
      ['s3:PutObject', `${l}/events/x`],
      ['s3:DeleteObject', `${q}/records/x`],
      ['s3:PutObject', `${q}/records/x`],
      ['kinesis:PutRecords', String(streamArn())],
      ['kinesis:DeleteStream', String(streamArn())],
      ['glue:DeleteTable', 'arn:aws:glue:us-east-1:123456789012:table/tributary_ci/transactions'],
      ['athena:DeleteWorkGroup', String(infra.one('aws:athena/workgroup:Workgroup', 'Workgroup').state.arn)],
    ] as const) {
      expect(allows(statements, action, resource), `${action} ${resource}`).toBe(false);
    }
  });
});

describe('native dependencies', () => {
  type Lock = {
    packages: Record<
      string,
      { version: string; os?: string[]; cpu?: string[]; optionalDependencies?: Record<string, string> }
    >;
  };
  const lock = async () =>
    JSON.parse(
      (await import('node:fs')).readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8'),
    ) as Lock;
  /** The locked DuckDB version, after checking that its binding for linux-<arch> is in the lock (npm skips a missing one silently). */
  const lockedFor = async (arch: string) => {
    const { packages } = await lock();
    const locked = packages['node_modules/@duckdb/node-api']!.version;
    const bindings = packages['node_modules/@duckdb/node-bindings']!;
    expect(bindings.version).toBe(locked);
    expect(bindings.optionalDependencies?.[`@duckdb/node-bindings-linux-${arch}`]).toBe(locked);
    expect(packages[`node_modules/@duckdb/node-bindings-linux-${arch}`]).toMatchObject({
      version: locked,
      os: ['linux'],
      cpu: [arch],
    });
    return locked;
  };

  it('DuckDB is installed for the compactor at the locked version, whose linux-arm64 binding exists', async () => {
    const build = infra.build(/Compactor/) as unknown as {
      properties?: { architecture?: string; install?: Record<string, string> };
    };
    const arch = build.properties?.architecture === 'arm64' ? 'arm64' : 'x64';
    expect(build.properties?.install).toEqual({ '@duckdb/node-api': await lockedFor(arch) });
  });

  it('the console server gets DuckDB for its platform too (its query guard parses with DuckDB in AWS): OpenNext installs the locked version', async () => {
    const { default: openNext } = await import('../../open-next.config.ts');
    const arch = (infra.lambda(/^ConsoleServer/).inputs.architectures as string[])[0];
    expect(arch).toBe('arm64');
    expect(openNext.default.install).toEqual({
      packages: [`@duckdb/node-api@${await lockedFor(arch!)}`],
      arch,
      additionalArgs: `--cpu=${arch}`,
    });
  });
});

describe('function roles', () => {
  it('every function role, the components’ own included, may be assumed by Lambda only (not the account root)', () => {
    const lambdas = infra.byType('aws:lambda/function:Function');
    expect(lambdas.length).toBeGreaterThanOrEqual(7);
    for (const fn of lambdas) {
      const policy = JSON.parse(String(infra.roleOf(fn).inputs.assumeRolePolicy)) as {
        Statement: { Effect: string; Principal: { Service?: string | string[]; AWS?: unknown }; Action: string }[];
      };
      // The console's Lambda@Edge signer also runs at the edge, so edgelambda may assume its role too.
      const services =
        fn.name === 'ConsoleEdgeFunction'
          ? ['edgelambda.amazonaws.com', 'lambda.amazonaws.com']
          : ['lambda.amazonaws.com'];
      expect(policy.Statement.length, fn.name).toBe(1);
      const [st] = policy.Statement;
      expect([st!.Effect, st!.Action, st!.Principal.AWS], fn.name).toEqual(['Allow', 'sts:AssumeRole', undefined]);
      expect([st!.Principal.Service].flat().sort(), fn.name).toEqual(services);
    }
  });
});
