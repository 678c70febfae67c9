/**
 * The checkers fail when they should: each is run on a deliberately broken copy of the real (ci) resource inputs —
 * one wrong setting at a time — and must report exactly what is wrong.
 */
import { describe, expect, it } from 'vitest';
import { allow, bucketLink, checkFunctionPlatform, checkLakeWriterMapping, checkNoWildcards, checkStatements, checkStream, streamLink, streamRead } from './checks.ts';
import { deployed } from './deployed.ts';
import type { Resource, Statement } from './harness.ts';

const infra = deployed('ci');
const LAKE_WRITER = /^EventsSubscriberLakeWriterFunction$/;
const stream = infra.part('sst:aws:KinesisStream', 'Events', 'aws:kinesis/stream:Stream');
const quarantine = infra.part('sst:aws:Bucket', 'Quarantine', 'aws:s3/bucket:Bucket');
const lake = infra.part('sst:aws:Bucket', 'Lake', 'aws:s3/bucket:Bucket');
const mapping = infra.one('aws:lambda/eventSourceMapping:EventSourceMapping', /LakeWriter/);
const wiring = { streamArn: stream.state.arn, functionArn: infra.lambda(LAKE_WRITER).state.arn, quarantineArn: quarantine.state.arn };

/** A deep copy of `resource` with its inputs changed by `edit`. */
function broken(resource: Resource, edit: (inputs: Record<string, any>) => void): Resource {
  const copy = structuredClone(resource);
  edit(copy.inputs);
  return copy;
}

describe('checkLakeWriterMapping', () => {
  it('accepts the deployed mapping', () => {
    expect(checkLakeWriterMapping(mapping, wiring)).toEqual([]);
  });

  it.each<[string, (i: Record<string, any>) => void, RegExp]>([
    ['dropping ReportBatchItemFailures', (i) => (i.functionResponseTypes = []), /functionResponseTypes: expected \["ReportBatchItemFailures"\], got \[\]/],
    ['removing functionResponseTypes', (i) => delete i.functionResponseTypes, /functionResponseTypes: expected \["ReportBatchItemFailures"\], got undefined/],
    ['turning bisect off', (i) => (i.bisectBatchOnFunctionError = false), /bisectBatchOnFunctionError: expected true, got false/],
    ['a bigger batch', (i) => (i.batchSize = 1000), /batchSize: expected 500, got 1000/],
    ['infinite retries', (i) => (i.maximumRetryAttempts = -1), /maximumRetryAttempts: expected 5, got -1/],
    ['starting at LATEST', (i) => (i.startingPosition = 'LATEST'), /startingPosition: expected "TRIM_HORIZON", got "LATEST"/],
    ['no on-failure destination', (i) => delete i.destinationConfig, /destinationConfig: expected \{"onFailure"/],
    ['failures to the lake bucket', (i) => (i.destinationConfig.onFailure.destinationArn = lake.state.arn), /destinationConfig: .*lakebucket/],
    ['reading another stream', (i) => (i.eventSourceArn = 'arn:aws:kinesis:us-east-1:123456789012:stream/other'), /eventSourceArn: expected/],
    ['a setting nobody asked for', (i) => (i.tumblingWindowInSeconds = 60), /tumblingWindowInSeconds: not expected, got 60/],
    ['more parallel batches per shard', (i) => (i.parallelizationFactor = 10), /parallelizationFactor: expected 1, got 10/],
  ])('rejects %s', (_what, edit, message) => {
    const problems = checkLakeWriterMapping(broken(mapping, edit), wiring);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });
});

describe('checkStatements / checkNoWildcards', () => {
  const role = infra.roleOf(infra.lambda(LAKE_WRITER));
  const expected = [streamRead(stream.state.arn), bucketLink(lake.state.arn), bucketLink(quarantine.state.arn)];
  /** The lake writer's role with its inline policy rewritten by `edit`. */
  function withPolicy(edit: (statements: Record<string, any>[]) => void): Statement[] {
    const copy = broken(role, (inputs) => {
      const doc = JSON.parse(inputs.inlinePolicies[0].policy);
      edit(doc.Statement);
      inputs.inlinePolicies[0].policy = JSON.stringify(doc);
    });
    return infra.statementsOf(copy);
  }

  it('accept the deployed role', () => {
    expect(checkStatements('LakeWriter', infra.statementsOf(role), expected)).toEqual([]);
    expect(checkNoWildcards('LakeWriter', infra.statementsOf(role))).toEqual([]);
  });

  it('reject an added s3:* on every resource', () => {
    const statements = withPolicy((s) => s.push({ Effect: 'Allow', Action: 's3:*', Resource: '*' }));
    expect(checkStatements('LakeWriter', statements, expected)).toEqual(['LakeWriter: unexpected statement {"actions":["s3:*"],"effect":"Allow","resources":["*"]}']);
    expect(checkNoWildcards('LakeWriter', statements)).toEqual(['LakeWriter: allows s3:* on every resource ({"actions":["s3:*"],"effect":"Allow","resources":["*"]})']);
  });

  it('reject a widened action (stream read → kinesis:*)', () => {
    const statements = withPolicy((s) => (s[0]!.Action = 'kinesis:*'));
    expect(checkStatements('LakeWriter', statements, expected)).toEqual([
      `LakeWriter: missing statement ${JSON.stringify({ actions: streamRead('').actions, effect: 'Allow', resources: [stream.state.arn] })}`,
      `LakeWriter: unexpected statement ${JSON.stringify({ actions: ['kinesis:*'], effect: 'Allow', resources: [stream.state.arn] })}`,
    ]);
  });

  it('reject a widened resource (the lake bucket → every bucket)', () => {
    const statements = withPolicy((s) => (s[1]!.Resource = ['arn:aws:s3:::*', 'arn:aws:s3:::*/*']));
    expect(checkStatements('LakeWriter', statements, expected)).toHaveLength(2);
  });

  it('reject a missing grant', () => {
    const statements = withPolicy((s) => s.splice(2, 1));
    expect(checkStatements('LakeWriter', statements, expected)).toEqual([`LakeWriter: missing statement ${JSON.stringify({ actions: ['s3:*'], effect: 'Allow', resources: [quarantine.state.arn, `${String(quarantine.state.arn)}/*`] })}`]);
  });

  it('reject "*" as an action anywhere', () => {
    expect(checkNoWildcards('x', [allow(['*'], ['arn:aws:s3:::b'])])).toHaveLength(1);
    expect(checkNoWildcards('x', [allow(['cloudwatch:GetMetricData'], ['*']), streamLink(stream.state.arn)])).toEqual([]);
  });
});

describe('checkStream / checkFunctionPlatform', () => {
  it('reject ON_DEMAND, another shard count, a missing metric, no encryption', () => {
    expect(checkStream(broken(stream, (i) => (i.streamModeDetails = { streamMode: 'ON_DEMAND' })), { shards: 2, retentionHours: 24 })).toEqual([
      'stream.streamModeDetails: expected {"streamMode":"PROVISIONED"}, got {"streamMode":"ON_DEMAND"}',
    ]);
    expect(checkStream(broken(stream, (i) => (i.shardCount = 1)), { shards: 2, retentionHours: 24 })).toEqual(['stream.shardCount: expected 2, got 1']);
    expect(checkStream(broken(stream, (i) => i.shardLevelMetrics.pop()), { shards: 2, retentionHours: 24 })).toHaveLength(1);
    expect(checkStream(broken(stream, (i) => delete i.encryptionType), { shards: 2, retentionHours: 24 })).toEqual(['stream.encryptionType: expected "KMS", got undefined']);
  });

  it('reject another runtime or x86', () => {
    const fn = infra.lambda('Ingest');
    expect(checkFunctionPlatform(broken(fn, (i) => (i.runtime = 'nodejs20.x')))).toEqual([`${fn.name}.runtime: expected nodejs22.x, got "nodejs20.x"`]);
    expect(checkFunctionPlatform(broken(fn, (i) => (i.architectures = ['x86_64'])))).toEqual([`${fn.name}.architectures: expected ["arm64"], got ["x86_64"]`]);
  });
});
