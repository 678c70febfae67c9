/**
 * The `ci` stage's resources as `sst deploy` would create them (offline: tests/infra/harness.ts): the events stream,
 * the lake writer's event source mapping, the functions' platform and IAM, the buckets and the ingest API.
 */
import { describe, expect, it } from 'vitest';
import { allows, canonical, checkFunctionPlatform, checkLakeWriterMapping, checkStream } from './checks.ts';
import { LAKE_WRITER_MAPPING as LAKE_WRITER_MAPPING_DEFINITION } from '../../lib/stream/mappings.ts';
import { deployed } from './deployed.ts';

const infra = deployed('ci');

const bucket = (name: string) => infra.part('sst:aws:Bucket', name, 'aws:s3/bucket:Bucket');
const stream = () => infra.part('sst:aws:KinesisStream', 'Events', 'aws:kinesis/stream:Stream');
const LAKE_WRITER = /^LakeWriter$/;

describe('events stream', () => {
  it('is PROVISIONED with 2 shards, all seven shard-level metrics, KMS and 24 h retention', () => {
    expect(checkStream(stream(), { shards: 2, retentionHours: 24 })).toEqual([]);
    expect(stream().state.name).toMatch(/^tributary-ci-EventsStream-[a-z]{8}$/);
  });
});

describe('lake writer', () => {
  it('reads the stream through an event source mapping with every setting as specified', () => {
    const mapping = infra.one('aws:lambda/eventSourceMapping:EventSourceMapping', /LakeWriter/);
    const problems = checkLakeWriterMapping(mapping, {
      streamArn: stream().state.arn,
      functionArn: infra.lambda(LAKE_WRITER).state.arn,
      quarantineArn: bucket('Quarantine').state.arn,
    });
    expect(problems).toEqual([]);
    // The values behind the checker, spelled out.
    expect(mapping.inputs).toMatchObject({
      functionResponseTypes: ['ReportBatchItemFailures'],
      bisectBatchOnFunctionError: true,
      batchSize: 500,
      maximumRetryAttempts: 5,
      startingPosition: 'TRIM_HORIZON',
      destinationConfig: {
        onFailure: { destinationArn: expect.stringMatching(/^arn:aws:s3:::tributary-ci-quarantinebucket-[a-z]{8}$/) },
      },
    });
  });

  it('deploys exactly the mapping the local poller runs (lib/stream/mappings.ts), with no override in stacks/', () => {
    const mapping = infra.one('aws:lambda/eventSourceMapping:EventSourceMapping', /LakeWriter/);
    const { eventSourceArn: _s, functionName: _f, destinationConfig: _d, ...settings } = mapping.inputs;
    expect(canonical(settings)).toBe(canonical(LAKE_WRITER_MAPPING_DEFINITION));
  });

  it('is built from functions/lake-writer with 2 minutes and 1024 MB', () => {
    const fn = infra.lambda(LAKE_WRITER);
    expect(fn.inputs).toMatchObject({
      handler: 'functions/lake-writer/handler.handler',
      timeout: 120,
      memorySize: 1024,
    });
    expect(infra.build(LAKE_WRITER)).toMatchObject({
      handler: 'functions/lake-writer/handler.handler',
      runtime: 'nodejs22.x',
      properties: { architecture: 'arm64' },
    });
  });
});

describe('functions', () => {
  it.each([['Ingest'], ['IngestAuthorizer'], [LAKE_WRITER]])('%s runs Node 22 on arm64', (name) => {
    expect(checkFunctionPlatform(infra.lambda(name))).toEqual([]);
  });

  it('every function built from functions/ runs Node 22 on arm64 and ships the schemas and table definitions (where lib/config reads them)', () => {
    const own = infra.builds.filter((b) => b.handler.startsWith('functions/'));
    expect(own.map((b) => b.functionID).sort()).toEqual(
      expect.arrayContaining(['Ingest', 'IngestAuthorizer', 'LakeWriter']),
    );
    for (const build of own) {
      expect(checkFunctionPlatform(infra.lambda(build.functionID)), build.functionID).toEqual([]);
      expect(
        build.copyFiles?.map((c) => ({ to: c.to, isDir: c.isDir })),
        build.functionID,
      ).toEqual([
        { to: 'schemas', isDir: true },
        { to: 'tables', isDir: true },
      ]);
      const env = (infra.lambda(build.functionID).inputs.environment as { variables: Record<string, string> })
        .variables;
      // A function that loads the configuration (TRIBUTARY_MODE set) reads the schemas from where its bundle has
      // them; one that does not (the authorizer) is given no schema directory at all.
      expect(env.TRIBUTARY_SCHEMAS_DIR ?? null, build.functionID).toBe(env.TRIBUTARY_MODE ? '/var/task/schemas' : null);
      expect(env.TRIBUTARY_TABLES_DIR ?? null, build.functionID).toBe(env.TRIBUTARY_MODE ? '/var/task/tables' : null);
    }
  });

  it("every function bundles with the CLI's esbuild settings; DuckDB is left out (or installed, for the compactor and the import job)", () => {
    // The harness's Runtime.Build runs esbuild like pkg/runtime/node/build.go: a bundle error fails the deploy itself.
    const own = infra.builds.filter((b) => b.handler.startsWith('functions/'));
    expect(own.map((b) => b.handler.split('/')[1]).sort()).toEqual([
      'authorizer',
      'compactor',
      'console-db',
      'import-applier',
      'import-job',
      'ingest',
      'lake-writer',
      'oltp-sink',
      'redrive',
    ]);
    for (const build of own) {
      const props = build.properties as { install?: unknown; esbuild?: { external?: string[] } };
      const left = /Compactor|ImportJob/.test(build.functionID)
        ? JSON.stringify(props.install)
        : JSON.stringify(props.esbuild?.external);
      expect(left, build.functionID).toContain('@duckdb/node-api');
    }
  });

  it('ingest: 10 s, 512 MB, the stream and bucket names in its environment, the API key as a secret', () => {
    const fn = infra.lambda('Ingest');
    expect(fn.inputs).toMatchObject({ handler: 'functions/ingest/handler.handler', timeout: 10, memorySize: 512 });
    const env = (fn.inputs.environment as { variables: Record<string, string> }).variables;
    expect(env).toMatchObject({
      TRIBUTARY_MODE: 'aws',
      TRIBUTARY_STREAM_NAME: stream().state.name,
      TRIBUTARY_LAKE_BUCKET: bucket('Lake').state.bucket,
      TRIBUTARY_QUARANTINE_BUCKET: bucket('Quarantine').state.bucket,
      TRIBUTARY_ATHENA_RESULTS_BUCKET: bucket('AthenaResults').state.bucket,
      TRIBUTARY_IMPORTS_BUCKET: bucket('Imports').state.bucket,
      TRIBUTARY_API_KEY: 'infra-test-key',
    });
    expect(fn.secrets).toContain('environment');
  });
});

// Every role statement by statement, and the wildcard check over every policy: access.test.ts. Here, what a function
// taken over could do to the data it touches.
describe('IAM: what each function could do if taken over', () => {
  const q = () => String(bucket('Quarantine').state.arn);
  const l = () => String(bucket('Lake').state.arn);
  const can = (fn: string | RegExp, action: string, resource: string) =>
    allows(infra.functionStatements(fn), action, resource);

  it('ingest puts events and quarantines records; it cannot delete or reshape the stream, nor read or delete the quarantine', () => {
    const streamArn = String(stream().state.arn);
    expect(can('Ingest', 'kinesis:PutRecords', streamArn)).toBe(true);
    expect(can('Ingest', 's3:PutObject', `${q()}/records/dt=2026-01-01/reason=malformed_json/ingest-x.jsonl.gz`)).toBe(
      true,
    );
    for (const action of [
      'kinesis:DeleteStream',
      'kinesis:UpdateShardCount',
      'kinesis:DecreaseStreamRetentionPeriod',
      'kinesis:GetRecords',
      'kinesis:StopStreamEncryption',
    ]) {
      expect(can('Ingest', action, streamArn), action).toBe(false);
    }
    for (const [action, resource] of [
      ['s3:DeleteObject', `${q()}/records/x`],
      ['s3:GetObject', `${q()}/records/x`],
      ['s3:PutObject', `${q()}/ledger/x`],
      ['s3:PutObject', `${q()}/audit/x`],
      ['s3:DeleteBucket', q()],
      ['s3:PutBucketPolicy', q()],
      ['s3:PutObject', `${l()}/events/x`],
    ] as const) {
      expect(can('Ingest', action, resource), `${action} ${resource}`).toBe(false);
    }
  });

  it('the lake writer writes raw events and quarantine records; it cannot touch compacted data, the ledger, or the buckets', () => {
    expect(can(LAKE_WRITER, 's3:PutObject', `${l()}/events/transactions/dt=2026-01-01/hour=00/x.jsonl.gz`)).toBe(true);
    for (const [action, resource] of [
      ['s3:DeleteObject', `${l()}/compacted/transactions/dt=2026-01-01/hour=00/part-x.parquet`],
      ['s3:PutObject', `${l()}/compacted/x`],
      ['s3:DeleteObject', `${l()}/_tributary/compaction/x.json`],
      ['s3:PutObject', `${q()}/ledger/x`],
      ['s3:DeleteObject', `${q()}/ledger/x`],
      ['s3:DeleteBucket', l()],
      ['kinesis:PutRecords', String(stream().state.arn)],
    ] as const) {
      expect(can(LAKE_WRITER, action, resource), `${action} ${resource}`).toBe(false);
    }
  });
});

describe('buckets', () => {
  const DATA = ['Lake', 'Quarantine', 'AthenaResults', 'Imports'];

  it('the four data buckets exist, named per app and stage', () => {
    for (const name of DATA)
      expect(bucket(name).state.bucket).toMatch(new RegExp(`^tributary-ci-${name.toLowerCase()}bucket-[a-z]{8}$`));
  });

  it('each is SSE-S3 with bucket keys, blocks public access and aborts incomplete uploads after 7 days', () => {
    for (const name of DATA) {
      const physical = bucket(name).state.bucket;
      expect(
        infra.one(
          'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration',
          `${name}Encryption`,
        ).inputs,
      ).toEqual({
        bucket: physical,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' }, bucketKeyEnabled: true }],
      });
      expect(
        infra.part('sst:aws:Bucket', name, 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock').inputs,
      ).toEqual({
        bucket: physical,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      });
      const lifecycle = infra.one(
        'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration',
        `${name}Lifecycle`,
      );
      expect(lifecycle.inputs.bucket).toBe(physical);
      expect((lifecycle.inputs.rules as unknown[])[0]).toEqual({
        id: 'abort-incomplete-uploads',
        status: 'Enabled',
        filter: {},
        abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
      });
    }
  });

  it('query results, local CSVs and query records expire after 7 days, the history after 90', () => {
    const rules = infra.one(
      'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration',
      'AthenaResultsLifecycle',
    ).inputs.rules as Record<string, unknown>[];
    expect(rules.slice(1)).toEqual([
      { id: 'expire-results', status: 'Enabled', filter: { prefix: 'athena-results/' }, expiration: { days: 7 } },
      { id: 'expire-csv', status: 'Enabled', filter: { prefix: 'query-results/' }, expiration: { days: 7 } },
      { id: 'expire-records', status: 'Enabled', filter: { prefix: 'queries/' }, expiration: { days: 7 } },
      { id: 'expire-history', status: 'Enabled', filter: { prefix: 'history/' }, expiration: { days: 90 } },
      { id: 'expire-console-state', status: 'Enabled', filter: { prefix: 'console/' }, expiration: { days: 2 } },
    ]);
  });

  it('quarantined records move to IA after 30 days and Glacier IR after 180, and are never expired', () => {
    const rules = infra.one('aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration', 'QuarantineLifecycle')
      .inputs.rules as Record<string, unknown>[];
    expect(rules.slice(1)).toEqual([
      {
        id: 'records-to-colder-storage',
        status: 'Enabled',
        filter: { prefix: 'records/' },
        transitions: [
          { days: 30, storageClass: 'STANDARD_IA' },
          { days: 180, storageClass: 'GLACIER_IR' },
        ],
      },
    ]);
    expect(rules.some((r) => 'expiration' in r)).toBe(false);
  });
});

describe('ingest API', () => {
  it('POST /v1/events/{type} goes through the API-key authorizer, GET /health does not', () => {
    const authorizer = infra.one('aws:apigatewayv2/authorizer:Authorizer', /ApiKey/);
    expect(authorizer.inputs).toMatchObject({
      authorizerType: 'REQUEST',
      authorizerPayloadFormatVersion: '2.0',
      enableSimpleResponses: true,
      identitySources: ['$request.header.x-api-key'],
      authorizerResultTtlInSeconds: 300,
      authorizerUri: `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${String(infra.lambda('IngestAuthorizer').state.arn)}/invocations`,
    });
    const routes = Object.fromEntries(
      infra.byType('aws:apigatewayv2/route:Route').map((r) => [r.inputs.routeKey, r.inputs]),
    );
    expect(Object.keys(routes).sort()).toEqual(['GET /health', 'POST /v1/events/{type}']);
    expect(routes['POST /v1/events/{type}']).toMatchObject({
      authorizationType: 'CUSTOM',
      authorizerId: authorizer.id,
    });
    expect(routes['GET /health']).toMatchObject({ authorizationType: 'NONE' });
    expect(routes['GET /health']?.authorizerId).toBeUndefined();
  });

  it('both routes invoke the one ingest function', () => {
    const integrations = infra.byType('aws:apigatewayv2/integration:Integration');
    expect(integrations.map((i) => i.inputs.integrationUri)).toEqual([
      infra.lambda('Ingest').state.arn,
      infra.lambda('Ingest').state.arn,
    ]);
  });

  it('the stage throttles at 500 rps (burst 1000) and keeps JSON access logs for a month', () => {
    const stage = infra.one('aws:apigatewayv2/stage:Stage', /^Api/);
    expect(stage.inputs.defaultRouteSettings).toEqual({ throttlingRateLimit: 500, throttlingBurstLimit: 1000 });
    const logGroup = infra.byArn((stage.inputs.accessLogSettings as { destinationArn: string }).destinationArn);
    expect(logGroup.inputs.retentionInDays).toBe(30);
    expect(() => JSON.parse((stage.inputs.accessLogSettings as { format: string }).format)).not.toThrow();
  });
});

describe('the offline deploy itself', () => {
  it('used only the CLI RPC methods and provider functions the harness fakes', () => {
    expect(infra.result.unknownRpc).toEqual([]);
    expect(infra.result.unknownInvokes).toEqual([]);
    expect([...new Set(infra.result.rpc.map((r) => r.method))].sort()).toEqual([
      'Provider.Aws.Bootstrap',
      'Runtime.Build',
    ]);
  });

  it('returns the stack outputs of sst.config.ts', () => {
    expect(infra.outputs).toMatchObject({
      api: expect.stringMatching(/^https:\/\/\w+\.execute-api\.us-east-1\.amazonaws\.com$/),
      lakeBucket: bucket('Lake').state.bucket,
      quarantineBucket: bucket('Quarantine').state.bucket,
      athenaResultsBucket: bucket('AthenaResults').state.bucket,
      importsBucket: bucket('Imports').state.bucket,
      stream: stream().state.name,
      _protect: false,
    });
  });
});
