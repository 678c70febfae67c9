/**
 * Least privilege (issue 13, item 10): every function's role is exactly its row of the table in tests/infra/access.ts
 * — which says why each action is needed — plus the AWS-managed policies SST attaches; and no policy anywhere in the
 * app (inline and managed role policies, the event source mappings' roles — their functions' —, bucket, topic and VPC
 * endpoint policies, Lambda permissions) allows a wildcard action. Both stages.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACCESS, accessRows, expectedStatements, MANAGED_POLICIES } from './access.ts';
import { canonical, checkNoWildcards, checkStatements, policiesIn, type FoundPolicy } from './checks.ts';
import { deployed } from './deployed.ts';
import { REPO, type Infra } from './harness.ts';

/** Every policy of a deployment, the published documents of the AWS-managed policies its roles attach included. */
function everyPolicy(infra: Infra): FoundPolicy[] {
  const managed = Object.values(MANAGED_POLICIES);
  const attached = infra.byType('aws:iam/role:Role').flatMap((role) =>
    infra.managedPolicies(role).map((arn) => {
      const known = managed.find((m) => m.arn === arn);
      if (!known)
        throw new Error(
          `${role.name} attaches ${arn}, whose document tests/infra/access.ts does not know: add it there (and check it)`,
        );
      return { where: `${role.name} (managed ${arn})`, statements: [...known.statements] };
    }),
  );
  return [...policiesIn(infra.resources), ...attached];
}

describe.each(['ci', 'production'] as const)('IAM of the %s stage', (stage) => {
  const infra = deployed(stage);

  it('every Lambda function of the app has its row in the table, and every row its function', () => {
    const lambdas = infra.byType('aws:lambda/function:Function').map((f) => f.name);
    const unlisted = lambdas.filter((name) => !ACCESS.some((a) => a.lambda.test(name)));
    expect(unlisted, 'functions without a row in tests/infra/access.ts').toEqual([]);
    for (const a of ACCESS)
      expect(
        lambdas.filter((name) => a.lambda.test(name)),
        a.label,
      ).toHaveLength(1);
  });

  it.each(ACCESS.map((a) => [a.label, a] as const))('%s may do exactly what its row says', (label, access) => {
    const fn = infra.one('aws:lambda/function:Function', access.lambda);
    const role = infra.roleOf(fn);
    expect(checkStatements(label, infra.statementsOf(role), expectedStatements(infra, access))).toEqual([]);
    expect(infra.managedPolicies(role)).toEqual(access.managed.map((m) => MANAGED_POLICIES[m].arn).sort());
  });

  it('no policy anywhere allows a wildcard action, or allows through NotAction / NotResource', () => {
    const policies = everyPolicy(infra);
    // Roles (inline + trust), managed documents, bucket/topic/endpoint policies, Lambda permissions: all were found.
    expect(policies.length).toBeGreaterThan(40);
    expect(policies.flatMap((p) => checkNoWildcards(p.where, p.statements))).toEqual([]);
  });

  it('the only grants on every resource ("*") are for actions AWS does not scope to a resource', () => {
    const onEverything = new Set<string>();
    for (const p of everyPolicy(infra))
      for (const s of p.statements)
        if (s.effect === 'Allow' && s.resources.includes('*')) for (const a of s.actions) onEverything.add(a);
    expect([...onEverything].sort()).toEqual(
      [
        // AWSLambdaBasicExecutionRole / AWSLambdaVPCAccessExecutionRole (AWS-managed)
        'logs:CreateLogGroup',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'ec2:AssignPrivateIpAddresses',
        'ec2:CreateNetworkInterface',
        'ec2:DeleteNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSubnets',
        'ec2:UnassignPrivateIpAddresses',
        // The console's charts; SST's CDN invalidation for OpenNext.
        'cloudwatch:GetMetricData',
        'cloudfront:CreateInvalidation',
      ].sort(),
    );
  });

  it('the only Deny statements are the buckets’ HTTPS-only guards', () => {
    const denies = everyPolicy(infra).flatMap((p) =>
      p.statements.filter((s) => s.effect === 'Deny').map((s) => ({ where: p.where, s })),
    );
    expect(denies.map((d) => d.where).sort()).toEqual([
      'AthenaResultsPolicy.policy',
      'ConsoleAssetsPolicy.policy',
      'ImportsPolicy.policy',
      'LakePolicy.policy',
      'QuarantinePolicy.policy',
    ]);
    for (const { s } of denies)
      expect(canonical(s.conditions)).toBe(canonical({ Bool: { 'aws:SecureTransport': 'false' } }));
  });

  it('no role is granted KMS: the stream’s AWS-managed key (alias/aws/kinesis) needs no IAM permission', () => {
    const kms = everyPolicy(infra).flatMap((p) =>
      p.statements.filter((s) => s.actions.some((a) => a.startsWith('kms:'))).map(() => p.where),
    );
    expect(kms).toEqual([]);
    expect(infra.part('sst:aws:KinesisStream', 'Events', 'aws:kinesis/stream:Stream').inputs).toMatchObject({
      encryptionType: 'KMS',
      kmsKeyId: 'alias/aws/kinesis',
    });
  });
});

describe('the README', () => {
  it('“Who may do what” is the table of tests/infra/access.ts, row for row', () => {
    const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('**Who may do what**'));
    const table = section.slice(
      section.indexOf('\n| function |'),
      section.indexOf('\n\n', section.indexOf('\n| function |') + 1),
    );
    const rows = table
      .trim()
      .split('\n')
      .slice(2)
      .map((line) => line.replace(/^\| | \|$/g, '').split(' | '));
    expect(rows).toEqual(accessRows());
  });
});
