/**
 * The infrastructure's requirements as checkers: each takes registered resource inputs (from tests/infra/harness.ts)
 * and returns the problems it finds, one readable line each (empty = fine). Tests assert `[]` on the real stacks and a
 * non-empty list on deliberately broken copies, which proves the checkers can fail.
 *
 * The expected values are written out here (the issues' and docs/architecture.md's numbers), not read from stacks/.
 */
import { parseStatements, type Resource, type Statement } from './harness.ts';

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
    else if (canonical(inputs[key]) !== canonical(expected[key]))
      problems.push(`${what}.${key}: expected ${canonical(expected[key])}, got ${canonical(inputs[key])}`);
  }
  return problems;
}

// ---- the events stream (architecture.md §5, stacks/settings.ts defaults) ----

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
    {
      streamModeDetails: { streamMode: 'PROVISIONED' },
      shardCount: expected.shards,
      retentionPeriod: expected.retentionHours,
      encryptionType: 'KMS',
      kmsKeyId: 'alias/aws/kinesis',
    },
    ['name'],
  );
  const metrics = [...((shardLevelMetrics ?? []) as string[])].sort();
  if (canonical(metrics) !== canonical([...SHARD_LEVEL_METRICS].sort()))
    problems.push(
      `stream.shardLevelMetrics: expected all of ${canonical(SHARD_LEVEL_METRICS)}, got ${canonical(shardLevelMetrics)}`,
    );
  return problems;
}

// ---- the lake writer's event source mapping (architecture.md §5, issue 6) ----

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
export function checkLakeWriterMapping(
  mapping: Resource,
  wiring: { streamArn: unknown; functionArn: unknown; quarantineArn: unknown },
): Problems {
  return checkExact('lakeWriterMapping', mapping.inputs, {
    ...LAKE_WRITER_MAPPING,
    eventSourceArn: wiring.streamArn,
    functionName: wiring.functionArn,
    destinationConfig: { onFailure: { destinationArn: wiring.quarantineArn } },
  });
}

// ---- the OLTP sink's event source mapping (stacks/database.ts, the OLTP sink issue) ----

/**
 * The OLTP sink never gives up and never skips: partial batch responses on (the handler quarantines the events the
 * database refuses), no bisecting (a function error always means the database is down), unlimited retries and record
 * age, so an outage blocks its shard until the database is back.
 */
export const OLTP_SINK_MAPPING = {
  batchSize: 500,
  maximumBatchingWindowInSeconds: 5,
  maximumRetryAttempts: -1,
  maximumRecordAgeInSeconds: -1,
  parallelizationFactor: 1,
  bisectBatchOnFunctionError: false,
  functionResponseTypes: ['ReportBatchItemFailures'],
  startingPosition: 'TRIM_HORIZON',
} as const;

/** Lambda event filtering: only envelopes whose `type` is `transactions` (the record data, decoded from JSON). */
export const OLTP_SINK_FILTER = { filters: [{ pattern: JSON.stringify({ data: { type: ['transactions'] } }) }] };

/** Every setting of the sink's mapping, exactly (the filter and the on-failure destination included). */
export function checkOltpSinkMapping(
  mapping: Resource,
  wiring: { streamArn: unknown; functionArn: unknown; quarantineArn: unknown },
): Problems {
  return checkExact('oltpSinkMapping', mapping.inputs, {
    ...OLTP_SINK_MAPPING,
    eventSourceArn: wiring.streamArn,
    functionName: wiring.functionArn,
    filterCriteria: OLTP_SINK_FILTER,
    destinationConfig: { onFailure: { destinationArn: wiring.quarantineArn } },
  });
}

// ---- the OLTP database (Aurora Serverless v2 PostgreSQL) ----

/**
 * The cluster, exactly: Aurora PostgreSQL 17.4 (a version that scales to 0 ACU) on Serverless v2 from 0 ACU (paused
 * after 5 idle minutes) to `maxAcu`, database `tributary`, encrypted storage, no Data API, in the given subnet group
 * and security group only; on production deletion protection, a final snapshot and 7 days of backups, elsewhere
 * neither and 1 day. Names generated per stage and the password are not compared.
 */
export function checkDatabaseCluster(
  cluster: Resource,
  expected: { maxAcu: number; production: boolean; subnetGroup: unknown; securityGroup: unknown },
): Problems {
  return checkExact(
    'databaseCluster',
    cluster.inputs,
    {
      engine: 'aurora-postgresql',
      engineMode: 'provisioned',
      engineVersion: '17.4',
      databaseName: 'tributary',
      masterUsername: 'postgres',
      serverlessv2ScalingConfiguration: { minCapacity: 0, maxCapacity: expected.maxAcu, secondsUntilAutoPause: 300 },
      storageEncrypted: true,
      enableHttpEndpoint: false,
      deletionProtection: expected.production,
      skipFinalSnapshot: !expected.production,
      ...(expected.production ? { finalSnapshotIdentifier: 'tributary-production-database-final' } : {}),
      backupRetentionPeriod: expected.production ? 7 : 1,
      copyTagsToSnapshot: true,
      applyImmediately: true,
      allowMajorVersionUpgrade: true,
      dbSubnetGroupName: expected.subnetGroup,
      vpcSecurityGroupIds: [expected.securityGroup],
    },
    ['clusterIdentifier', 'masterPassword', 'tags', 'dbClusterParameterGroupName', 'dbInstanceParameterGroupName'],
  );
}

/** One allowed inbound path into a security group: TCP on `port` from the security group `from`. */
export interface AllowedIngress {
  from: unknown;
  port: number;
}

/**
 * The security group `group` admits exactly `allowed` and nothing else: no inline ingress rules, no rule from a CIDR
 * or prefix list, no other protocol or port range, no other source group — whichever resource type the rule is
 * declared with (`aws:vpc/securityGroupIngressRule`, `aws:ec2/securityGroupRule`).
 */
export function checkIngressOnly(
  what: string,
  group: Resource,
  rules: Resource[],
  allowed: AllowedIngress[],
): Problems {
  const problems: Problems = [];
  const inline = group.inputs.ingress as unknown[] | undefined;
  if (inline?.length) problems.push(`${what}: inline ingress rules ${canonical(inline)}`);
  const groupId = group.state.id;
  const seen = new Set<string>();
  for (const rule of rules) {
    const i = rule.inputs;
    let normalized: Record<string, unknown>;
    if (rule.type === 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule') {
      if (i.securityGroupId !== groupId) continue;
      normalized = {
        protocol: i.ipProtocol,
        fromPort: i.fromPort,
        toPort: i.toPort,
        from: i.referencedSecurityGroupId,
        cidr: i.cidrIpv4 ?? i.cidrIpv6,
        prefixList: i.prefixListId,
      };
    } else if (rule.type === 'aws:ec2/securityGroupRule:SecurityGroupRule') {
      if (i.securityGroupId !== groupId || i.type !== 'ingress') continue;
      normalized = {
        protocol: i.protocol,
        fromPort: i.fromPort,
        toPort: i.toPort,
        from: i.sourceSecurityGroupId,
        cidr: i.cidrBlocks ?? i.ipv6CidrBlocks,
        prefixList: i.prefixListIds,
        self: i.self,
      };
    } else continue;
    const match = allowed.find((a) => normalized.from === a.from);
    const ok =
      match &&
      normalized.protocol === 'tcp' &&
      normalized.fromPort === match.port &&
      normalized.toPort === match.port &&
      normalized.cidr === undefined &&
      normalized.prefixList === undefined &&
      !normalized.self;
    if (!ok) problems.push(`${what}: unexpected ingress ${rule.name} ${canonical(normalized)}`);
    else seen.add(`${String(match.from)}:${match.port}`);
  }
  for (const a of allowed)
    if (!seen.has(`${String(a.from)}:${a.port}`))
      problems.push(`${what}: missing ingress tcp ${a.port} from ${String(a.from)}`);
  return problems;
}

/** One allowed outbound path from a security group: TCP on `port` to the security group or prefix list `to`. */
export interface AllowedEgress {
  to: unknown;
  port: number;
}

/**
 * The security group `group` may open exactly `allowed` and nothing else: no inline egress rules (a group declared
 * without them gets none: the provider removes AWS's default allow-all rule), no rule to a CIDR, no other protocol or
 * port range, no other destination group or prefix list — whichever resource type the rule is declared with.
 */
export function checkEgressOnly(what: string, group: Resource, rules: Resource[], allowed: AllowedEgress[]): Problems {
  const problems: Problems = [];
  const inline = group.inputs.egress as unknown[] | undefined;
  if (inline?.length) problems.push(`${what}: inline egress rules ${canonical(inline)}`);
  const groupId = group.state.id;
  const seen = new Set<string>();
  for (const rule of rules) {
    const i = rule.inputs;
    let normalized: Record<string, unknown>;
    if (rule.type === 'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule') {
      if (i.securityGroupId !== groupId) continue;
      normalized = {
        protocol: i.ipProtocol,
        fromPort: i.fromPort,
        toPort: i.toPort,
        to: i.referencedSecurityGroupId ?? i.prefixListId,
        cidr: i.cidrIpv4 ?? i.cidrIpv6,
      };
      if (i.referencedSecurityGroupId !== undefined && i.prefixListId !== undefined) normalized.both = true;
    } else if (rule.type === 'aws:ec2/securityGroupRule:SecurityGroupRule') {
      if (i.securityGroupId !== groupId || i.type !== 'egress') continue;
      const lists = (i.prefixListIds ?? []) as unknown[];
      normalized = {
        protocol: i.protocol,
        fromPort: i.fromPort,
        toPort: i.toPort,
        to: i.sourceSecurityGroupId ?? (lists.length === 1 ? lists[0] : undefined),
        cidr: i.cidrBlocks ?? i.ipv6CidrBlocks,
        lists: lists.length > 1 ? lists : undefined,
        self: i.self,
      };
    } else continue;
    const match = allowed.find((a) => normalized.to === a.to);
    const ok =
      match &&
      normalized.protocol === 'tcp' &&
      normalized.fromPort === match.port &&
      normalized.toPort === match.port &&
      normalized.cidr === undefined &&
      !normalized.both &&
      normalized.lists === undefined &&
      !normalized.self;
    if (!ok) problems.push(`${what}: unexpected egress ${rule.name} ${canonical(normalized)}`);
    else seen.add(`${String(match.to)}:${match.port}`);
  }
  for (const a of allowed)
    if (!seen.has(`${String(a.to)}:${a.port}`))
      problems.push(`${what}: missing egress tcp ${a.port} to ${String(a.to)}`);
  return problems;
}

// ---- Lambda functions ----

/** Node 22 on Graviton (stacks/lambda.ts `lambdaDefaults`). */
export function checkFunctionPlatform(
  fn: Resource,
  expected = { runtime: 'nodejs22.x', architecture: 'arm64' },
): Problems {
  const problems: Problems = [];
  if (fn.inputs.runtime !== expected.runtime)
    problems.push(`${fn.name}.runtime: expected ${expected.runtime}, got ${canonical(fn.inputs.runtime)}`);
  if (canonical(fn.inputs.architectures) !== canonical([expected.architecture]))
    problems.push(
      `${fn.name}.architectures: expected ["${expected.architecture}"], got ${canonical(fn.inputs.architectures)}`,
    );
  return problems;
}

// ---- IAM ----

const statementKey = (s: Statement) =>
  canonical({ ...s, actions: [...s.actions].sort(), resources: [...s.resources].sort() });

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

/**
 * No statement may allow a wildcard action — `*`, `s3:*`, `s3:Get*`, `kinesis:Describe?tream` — on any resource, nor use
 * NotAction or NotResource to allow (both grant everything they do not name). Deny statements are not grants.
 */
export function checkNoWildcards(what: string, statements: Statement[]): Problems {
  const problems: Problems = [];
  for (const s of statements) {
    if (s.effect !== 'Allow') continue;
    if (s.notAction)
      problems.push(`${what}: allows every action but ${s.actions.join(', ')} (NotAction ${statementKey(s)})`);
    if (s.notResource)
      problems.push(`${what}: allows on every resource but ${s.resources.join(', ')} (NotResource ${statementKey(s)})`);
    const wild = s.actions.filter((a) => /[*?]/.test(a));
    if (wild.length && !s.notAction)
      problems.push(
        `${what}: allows the wildcard action${wild.length > 1 ? 's' : ''} ${wild.join(', ')} (${statementKey(s)})`,
      );
  }
  return problems;
}

/** One IAM policy document found in the deployment: where it is, and its statements. */
export interface FoundPolicy {
  where: string;
  statements: Statement[];
}

/**
 * Every IAM policy of a deployment, wherever a resource carries one: any input that is a policy document (a JSON string
 * or an object with `Statement`) — role inline and trust policies, role policies, managed policies, bucket, topic,
 * queue, VPC endpoint, stream or key policies — plus each Lambda permission as the one statement it grants.
 * AWS-managed policies attached by ARN are not in the inputs; the caller adds their published documents.
 */
export function policiesIn(resources: Resource[]): FoundPolicy[] {
  const found: FoundPolicy[] = [];
  const isPolicy = (v: unknown): boolean =>
    Boolean(v && typeof v === 'object' && typeof (v as { Statement?: unknown }).Statement === 'object');
  for (const r of resources) {
    const visit = (value: unknown, at: string): void => {
      if (typeof value === 'string') {
        if (!value.includes('"Statement"')) return;
        let doc: unknown;
        try {
          doc = JSON.parse(value);
        } catch {
          return;
        }
        if (isPolicy(doc)) found.push({ where: `${r.name}.${at}`, statements: parseStatements(value) });
      } else if (Array.isArray(value))
        value.forEach((v, i) => {
          visit(v, `${at}[${i}]`);
        });
      else if (value && typeof value === 'object') {
        if (isPolicy(value))
          found.push({ where: `${r.name}.${at}`, statements: parseStatements(JSON.stringify(value)) });
        else for (const [k, v] of Object.entries(value)) visit(v, at ? `${at}.${k}` : k);
      }
    };
    visit(r.inputs, '');
    if (r.type === 'aws:lambda/permission:Permission')
      found.push({
        where: `${r.name} (Lambda permission)`,
        statements: [allow([String(r.inputs.action)], [r.inputs.function])],
      });
  }
  return found;
}

/** An IAM wildcard pattern (`*` any run of characters, `?` one) as a regular expression. */
function iamPattern(pattern: string, flags = ''): RegExp {
  return new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    flags,
  );
}

/** IAM's match of an action pattern against an action: case-insensitive. */
export function actionMatches(pattern: string, action: string): boolean {
  return iamPattern(pattern, 'i').test(action);
}

/** IAM's match of a resource pattern against an ARN: case-sensitive. */
export function resourceMatches(pattern: string, arn: string): boolean {
  return iamPattern(pattern).test(arn);
}

/**
 * The role's Lambda permissions are exactly `lambda:InvokeFunction` on exactly `functionArns`: every Allow statement
 * with a Lambda action (written out, or by a wildcard such as `lambda:*`, `lambda:Invoke*` or `*`) must name only
 * `lambda:InvokeFunction`, only these ARNs (no other function, no name pattern, no `:*` qualifier), and each of them
 * must be granted. A NotAction statement is refused outright (it grants everything it does not name).
 */
export function checkInvokeOnly(what: string, statements: Statement[], functionArns: unknown[]): Problems {
  const problems: Problems = [];
  const expected = new Set(functionArns.map(String));
  const granted = new Set<string>();
  for (const s of statements) {
    if (s.effect !== 'Allow') continue;
    if (s.notAction) {
      problems.push(`${what}: NotAction statement ${statementKey(s)}`);
      continue;
    }
    const lambda = s.actions.filter(
      (a) => a.toLowerCase().startsWith('lambda:') || actionMatches(a, 'lambda:InvokeFunction'),
    );
    if (!lambda.length) continue;
    const other = lambda.filter((a) => a.toLowerCase() !== 'lambda:invokefunction');
    if (other.length)
      problems.push(
        `${what}: Lambda actions other than lambda:InvokeFunction: ${other.join(', ')} (${statementKey(s)})`,
      );
    if (s.notResource) problems.push(`${what}: Lambda actions on NotResource (${statementKey(s)})`);
    for (const r of s.resources) {
      if (expected.has(r)) granted.add(r);
      else problems.push(`${what}: may invoke ${r}`);
    }
  }
  for (const arn of expected) if (!granted.has(arn)) problems.push(`${what}: may not invoke ${arn}`);
  return problems;
}

/**
 * Whether `statements` allow `action` on `resource`, as IAM evaluates identity policies without conditions: some Allow
 * statement matches both (NotAction / NotResource match what they do not name) and no Deny statement does.
 */
export function allows(statements: Statement[], action: string, resource: string): boolean {
  const matches = (s: Statement) =>
    s.actions.some((a) => actionMatches(a, action)) !== Boolean(s.notAction) &&
    s.resources.some((r) => resourceMatches(r, resource)) !== Boolean(s.notResource);
  return (
    statements.some((s) => s.effect === 'Allow' && matches(s)) &&
    !statements.some((s) => s.effect === 'Deny' && matches(s))
  );
}

export const allow = (actions: string[], resources: unknown[]): Statement => ({
  effect: 'Allow',
  actions: [...actions].sort(),
  resources: resources.map(String).sort(),
});

export const BASIC_EXECUTION_ROLE = 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole';
/** What SST attaches to a function in a VPC (its ENIs): the AWS-managed policy, not an inline wildcard of ours. */
export const VPC_ACCESS_EXECUTION_ROLE = 'arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole';
