/**
 * The infrastructure's requirements as checkers: each takes registered resource inputs (from tests/infra/harness.ts)
 * and returns the problems it finds, one readable line each (empty = fine). Tests assert `[]` on the real stacks and a
 * non-empty list on deliberately broken copies, which proves the checkers can fail.
 *
 * The expected values are written out here (the issue's and design.md's numbers), not read from stacks/.
 */
import type { Resource, Statement } from './harness.ts';

export type Problems = string[];
type Inputs = Record<string, unknown>;

/** Stable JSON (keys sorted) for comparisons and messages. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Inputs)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Inputs)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Every key of `expected` must equal the input, and the input may have no other keys (so nothing slips in unseen). */
export function checkExact(what: string, inputs: Inputs, expected: Inputs, ignore: string[] = []): Problems {
  const problems: Problems = [];
  const keys = new Set([...Object.keys(expected), ...Object.keys(inputs).filter((k) => inputs[k] !== undefined)]);
  for (const key of [...keys].sort()) {
    if (ignore.includes(key)) continue;
    if (!(key in expected)) problems.push(`${what}.${key}: not expected, got ${canonical(inputs[key])}`);
    else if (canonical(inputs[key]) !== canonical(expected[key])) problems.push(`${what}.${key}: expected ${canonical(expected[key])}, got ${canonical(inputs[key])}`);
  }
  return problems;
}

// ---- the events stream (design.md §3, stacks/settings.ts defaults) ----

export const SHARD_LEVEL_METRICS = [
  'IncomingBytes',
  'IncomingRecords',
  'OutgoingBytes',
  'OutgoingRecords',
  'WriteProvisionedThroughputExceeded',
  'ReadProvisionedThroughputExceeded',
  'IteratorAgeMilliseconds',
];

/** PROVISIONED, `shards` shards, all seven shard-level metrics (in any order), KMS with the AWS key, `retentionHours`. */
export function checkStream(stream: Resource, expected: { shards: number; retentionHours: number }): Problems {
  const { shardLevelMetrics, ...rest } = stream.inputs;
  const problems = checkExact(
    'stream',
    rest,
    { streamModeDetails: { streamMode: 'PROVISIONED' }, shardCount: expected.shards, retentionPeriod: expected.retentionHours, encryptionType: 'KMS', kmsKeyId: 'alias/aws/kinesis' },
    ['name'],
  );
  const metrics = [...((shardLevelMetrics ?? []) as string[])].sort();
  if (canonical(metrics) !== canonical([...SHARD_LEVEL_METRICS].sort())) problems.push(`stream.shardLevelMetrics: expected all of ${canonical(SHARD_LEVEL_METRICS)}, got ${canonical(shardLevelMetrics)}`);
  return problems;
}

// ---- the lake writer's event source mapping (design.md §4, issue 6) ----

export const LAKE_WRITER_MAPPING = {
  batchSize: 500,
  maximumBatchingWindowInSeconds: 5,
  maximumRetryAttempts: 5,
  maximumRecordAgeInSeconds: 86_400,
  parallelizationFactor: 1,
  bisectBatchOnFunctionError: true,
  functionResponseTypes: ['ReportBatchItemFailures'],
  startingPosition: 'TRIM_HORIZON',
} as const;

/**
 * Every setting of the mapping, exactly: partial batch responses on, bisect on, the batch/retry numbers above, reading
 * from TRIM_HORIZON of the events stream into the lake writer, failed batches to the quarantine bucket — and nothing
 * else set.
 */
export function checkLakeWriterMapping(mapping: Resource, wiring: { streamArn: unknown; functionArn: unknown; quarantineArn: unknown }): Problems {
  return checkExact('lakeWriterMapping', mapping.inputs, {
    ...LAKE_WRITER_MAPPING,
    eventSourceArn: wiring.streamArn,
    functionName: wiring.functionArn,
    destinationConfig: { onFailure: { destinationArn: wiring.quarantineArn } },
  });
}

// ---- Lambda functions ----

/** Node 22 on Graviton (stacks/lambda.ts `lambdaDefaults`). */
export function checkFunctionPlatform(fn: Resource, expected = { runtime: 'nodejs22.x', architecture: 'arm64' }): Problems {
  const problems: Problems = [];
  if (fn.inputs.runtime !== expected.runtime) problems.push(`${fn.name}.runtime: expected ${expected.runtime}, got ${canonical(fn.inputs.runtime)}`);
  if (canonical(fn.inputs.architectures) !== canonical([expected.architecture])) problems.push(`${fn.name}.architectures: expected ["${expected.architecture}"], got ${canonical(fn.inputs.architectures)}`);
  return problems;
}

// ---- IAM ----

const statementKey = (s: Statement) => canonical({ ...s, actions: [...s.actions].sort(), resources: [...s.resources].sort() });

/** The role grants exactly `expected` (as a multiset of statements; action and resource order do not matter). */
export function checkStatements(what: string, actual: Statement[], expected: Statement[]): Problems {
  const remaining = actual.map(statementKey);
  const problems: Problems = [];
  for (const e of expected) {
    const at = remaining.indexOf(statementKey(e));
    if (at === -1) problems.push(`${what}: missing statement ${statementKey(e)}`);
    else remaining.splice(at, 1);
  }
  for (const extra of remaining) problems.push(`${what}: unexpected statement ${extra}`);
  return problems;
}

/** No statement may allow every action, or every action of a service, on every resource. */
export function checkNoWildcards(what: string, statements: Statement[]): Problems {
  const problems: Problems = [];
  for (const s of statements) {
    if (s.effect !== 'Allow') continue;
    const broad = s.actions.filter((a) => a === '*' || a.endsWith(':*'));
    if (s.actions.includes('*')) problems.push(`${what}: allows every action (${statementKey(s)})`);
    else if (broad.length && s.resources.includes('*')) problems.push(`${what}: allows ${broad.join(', ')} on every resource (${statementKey(s)})`);
  }
  return problems;
}

export const allow = (actions: string[], resources: unknown[]): Statement => ({ effect: 'Allow', actions: [...actions].sort(), resources: resources.map(String).sort() });

/** What SST's Bucket link grants (platform/src/components/aws/bucket.ts getSSTLink): s3:* on the bucket and its objects. */
export const bucketLink = (bucketArn: unknown) => allow(['s3:*'], [bucketArn, `${String(bucketArn)}/*`]);
/** What SST's KinesisStream link grants (kinesis-stream.ts getSSTLink). */
export const streamLink = (streamArn: unknown) => allow(['kinesis:*'], [streamArn]);
/** What a KinesisStream subscriber's function gets to read the stream (kinesis-stream-lambda-subscriber.ts). */
export const streamRead = (streamArn: unknown) =>
  allow(['kinesis:DescribeStream', 'kinesis:DescribeStreamSummary', 'kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:ListShards', 'kinesis:ListStreams', 'kinesis:SubscribeToShard'], [streamArn]);

export const BASIC_EXECUTION_ROLE = 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole';
