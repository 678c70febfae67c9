/**
 * What differs between stages: sst.config.ts's `app()` (removal, protect) and stacks/settings.ts (retention, data kept on
 * removal), plus the per-deploy overrides from the environment.
 */
import { describe, expect, it } from 'vitest';
import { checkDatabaseCluster, checkIngressOnly, checkStream } from './checks.ts';
import { deployed } from './deployed.ts';
import { deployStage, evaluateApp, type Infra } from './harness.ts';

const DATA = ['Lake', 'Quarantine', 'AthenaResults', 'Imports'] as const;
/** Kept when a production stage is removed: everything but the Athena results. */
const KEPT = new Set(['Lake', 'Quarantine', 'Imports']);

describe('app()', () => {
  it('production retains resources on removal and is protected', () => {
    expect(deployed('production').app).toMatchObject({
      name: 'tributary',
      stage: 'production',
      home: 'aws',
      removal: 'retain',
      protect: true,
      providers: { aws: {} },
    });
    expect(deployed('production').outputs._protect).toBe(true);
  });

  it('protect is the CLI refusing `sst remove` (the `_protect` output), not Pulumi protect on each resource', () => {
    // SST 4.17.1 reads `protect` only in the CLI (pkg/project/run.go) and platform/src/auto/run.ts's `_protect` output.
    expect(
      deployed('production')
        .resources.filter((r) => r.options.protect)
        .map((r) => r.name),
    ).toEqual([]);
  });

  it('every other stage is removed completely and unprotected', async () => {
    expect(deployed('ci').app).toMatchObject({
      name: 'tributary',
      stage: 'ci',
      home: 'aws',
      removal: 'remove',
      protect: false,
    });
    expect(deployed('ci').outputs._protect).toBe(false);
    expect(await evaluateApp('pr-123')).toMatchObject({ removal: 'remove', protect: false });
  });
});

describe('data buckets', () => {
  it.each(DATA)('%s: kept and not emptied on removal in production only where it holds data', (name) => {
    const prod = deployed('production').part('sst:aws:Bucket', name, 'aws:s3/bucket:Bucket');
    expect({ retainOnDelete: prod.options.retainOnDelete, forceDestroy: prod.inputs.forceDestroy }).toEqual(
      KEPT.has(name) ? { retainOnDelete: true, forceDestroy: false } : { retainOnDelete: false, forceDestroy: true },
    );
    const ci = deployed('ci').part('sst:aws:Bucket', name, 'aws:s3/bucket:Bucket');
    expect({ retainOnDelete: ci.options.retainOnDelete, forceDestroy: ci.inputs.forceDestroy }).toEqual({
      retainOnDelete: false,
      forceDestroy: true,
    });
  });
});

describe('events stream per stage', () => {
  it('keeps records 7 days in production, 1 day elsewhere', () => {
    expect(
      checkStream(deployed('production').part('sst:aws:KinesisStream', 'Events', 'aws:kinesis/stream:Stream'), {
        shards: 2,
        retentionHours: 168,
      }),
    ).toEqual([]);
    expect(
      checkStream(deployed('ci').part('sst:aws:KinesisStream', 'Events', 'aws:kinesis/stream:Stream'), {
        shards: 2,
        retentionHours: 24,
      }),
    ).toEqual([]);
  });

  it('takes the shard count and retention of a deploy from TRIBUTARY_SHARDS / TRIBUTARY_RETENTION_HOURS', async () => {
    const infra = await deployStage('ci', { env: { TRIBUTARY_SHARDS: '4', TRIBUTARY_RETENTION_HOURS: '48' } });
    expect(
      checkStream(infra.part('sst:aws:KinesisStream', 'Events', 'aws:kinesis/stream:Stream'), {
        shards: 4,
        retentionHours: 48,
      }),
    ).toEqual([]);
  });

  it('refuses a shard count out of range before creating anything', async () => {
    await expect(deployStage('ci', { env: { TRIBUTARY_SHARDS: '0' } })).rejects.toThrow(
      /TRIBUTARY_SHARDS="0": expected a whole number from 1 to 500/,
    );
  });
});

describe('OLTP database per stage', () => {
  const cluster = (infra: Infra) => infra.part('sst:aws:Aurora', 'Database', 'aws:rds/cluster:Cluster');
  const expectedCluster = (infra: Infra, maxAcu: number) => ({
    maxAcu,
    production: infra.stage === 'production',
    subnetGroup: infra.part('sst:aws:Aurora', 'Database', 'aws:rds/subnetGroup:SubnetGroup').state.name,
    securityGroup: infra.one('aws:ec2/securityGroup:SecurityGroup', 'DatabaseSecurityGroup').state.id,
  });
  /** What keeps a production database usable after the stage is removed: the cluster, its writer, its password, its network. */
  const KEPT: [string, string][] = [
    ['aws:rds/cluster:Cluster', 'DatabaseCluster'],
    ['aws:rds/clusterInstance:ClusterInstance', 'DatabaseInstance'],
    ['aws:secretsmanager/secret:Secret', 'DatabaseProxySecret'],
    ['aws:secretsmanager/secretVersion:SecretVersion', 'DatabaseProxySecretVersion'],
    ['aws:rds/subnetGroup:SubnetGroup', 'DatabaseSubnetGroup'],
    ['aws:ec2/securityGroup:SecurityGroup', 'DatabaseSecurityGroup'],
    ['aws:ec2/securityGroup:SecurityGroup', 'OltpSinkSecurityGroup'],
    ['aws:ec2/securityGroup:SecurityGroup', 'ConsoleDbSecurityGroup'],
    ['aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule', 'DatabaseFromOltpSink'],
    ['aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule', 'DatabaseFromConsoleDb'],
    ['aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule', 'OltpSinkToDatabase'],
    ['aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule', 'ConsoleDbToDatabase'],
  ];

  it('production: deletion protection, a final snapshot, 7 days of backups, up to 8 ACU; kept when the stage is removed', () => {
    const prod = deployed('production');
    expect(checkDatabaseCluster(cluster(prod), expectedCluster(prod, 8))).toEqual([]);
    for (const [type, name] of KEPT) expect(prod.one(type, name).options.retainOnDelete, name).toBe(true);
  });

  it('other stages: no deletion protection, no final snapshot, 1 day of backups, up to 2 ACU; removed with the stage', () => {
    const ci = deployed('ci');
    expect(checkDatabaseCluster(cluster(ci), expectedCluster(ci, 2))).toEqual([]);
    for (const [type, name] of KEPT) expect(ci.one(type, name).options.retainOnDelete, name).toBe(false);
  });

  it('the Secrets Manager endpoint bills one AZ outside production, both on production', () => {
    const subnets = (infra: Infra) =>
      infra.one('aws:ec2/vpcEndpoint:VpcEndpoint', 'SecretsManagerEndpoint').inputs.subnetIds as string[];
    expect(subnets(deployed('ci'))).toHaveLength(1);
    expect(subnets(deployed('production'))).toHaveLength(2);
  });

  it('takes the capacity ceiling from TRIBUTARY_DB_MAX_ACU and adds a bastion for `sst tunnel` with TRIBUTARY_DB_BASTION=true', async () => {
    const infra = await deployStage('ci', { env: { TRIBUTARY_DB_MAX_ACU: '16', TRIBUTARY_DB_BASTION: 'true' } });
    expect(checkDatabaseCluster(cluster(infra), expectedCluster(infra, 16))).toEqual([]);
    const bastion = infra.part('sst:aws:Vpc', 'Vpc', 'aws:ec2/instance:Instance');
    expect(bastion.inputs).toMatchObject({ instanceType: 't4g.nano' });
    const bastionSg = infra.one('aws:ec2/securityGroup:SecurityGroup', 'VpcBastionSecurityGroup');
    expect(bastion.inputs.vpcSecurityGroupIds).toEqual([bastionSg.state.id]);
    // The database admits the bastion too, on its port only; nothing else changes.
    const rules = infra.byType('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule');
    const db = infra.one('aws:ec2/securityGroup:SecurityGroup', 'DatabaseSecurityGroup');
    const sink = infra.one('aws:ec2/securityGroup:SecurityGroup', 'OltpSinkSecurityGroup');
    const status = infra.one('aws:ec2/securityGroup:SecurityGroup', 'ConsoleDbSecurityGroup');
    expect(
      checkIngressOnly('DatabaseSecurityGroup', db, rules, [
        { from: sink.state.id, port: 5432 },
        { from: status.state.id, port: 5432 },
        { from: infra.one('aws:ec2/securityGroup:SecurityGroup', 'ImportApplierSecurityGroup').state.id, port: 5432 },
        { from: infra.one('aws:ec2/securityGroup:SecurityGroup', 'ImportJobSecurityGroup').state.id, port: 5432 },
        { from: bastionSg.state.id, port: 5432 },
      ]),
    ).toEqual([]);
    // Off by default.
    expect(deployed('ci').byType('aws:ec2/instance:Instance')).toEqual([]);
  });

  it('refuses a capacity ceiling or bastion flag out of range before creating anything', async () => {
    await expect(deployStage('ci', { env: { TRIBUTARY_DB_MAX_ACU: '0' } })).rejects.toThrow(
      /TRIBUTARY_DB_MAX_ACU="0": expected a whole number from 1 to 256/,
    );
    await expect(deployStage('ci', { env: { TRIBUTARY_DB_BASTION: 'yes' } })).rejects.toThrow(
      /TRIBUTARY_DB_BASTION="yes": expected true or false/,
    );
  });
});
