/**
 * What differs between stages: sst.config.ts's `app()` (removal, protect) and stacks/settings.ts (retention, data kept on
 * removal), plus the per-deploy overrides from the environment.
 */
import { describe, expect, it } from 'vitest';
import { checkStream } from './checks.ts';
import { deployed } from './deployed.ts';
import { deployStage, evaluateApp } from './harness.ts';

const DATA = ['Lake', 'Quarantine', 'AthenaResults', 'Imports'] as const;
/** Kept when a production stage is removed: everything but the Athena results. */
const KEPT = new Set(['Lake', 'Quarantine', 'Imports']);

describe('app()', () => {
  it('production retains resources on removal and is protected', () => {
    expect(deployed('production').app).toMatchObject({ name: 'tributary', stage: 'production', home: 'aws', removal: 'retain', protect: true, providers: { aws: {} } });
    expect(deployed('production').outputs._protect).toBe(true);
  });

  it('protect is the CLI refusing `sst remove` (the `_protect` output), not Pulumi protect on each resource', () => {
    // SST 4.17.1 reads `protect` only in the CLI (pkg/project/run.go) and platform/src/auto/run.ts's `_protect` output.
    expect(deployed('production').resources.filter((r) => r.options.protect).map((r) => r.name)).toEqual([]);
  });

  it('every other stage is removed completely and unprotected', async () => {
    expect(deployed('ci').app).toMatchObject({ name: 'tributary', stage: 'ci', home: 'aws', removal: 'remove', protect: false });
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
    expect({ retainOnDelete: ci.options.retainOnDelete, forceDestroy: ci.inputs.forceDestroy }).toEqual({ retainOnDelete: false, forceDestroy: true });
  });
});

describe('events stream per stage', () => {
  it('keeps records 7 days in production, 1 day elsewhere', () => {
    expect(checkStream(deployed('production').part('sst:aws:KinesisStream', 'Events', 'aws:kinesis/stream:Stream'), { shards: 2, retentionHours: 168 })).toEqual([]);
    expect(checkStream(deployed('ci').part('sst:aws:KinesisStream', 'Events', 'aws:kinesis/stream:Stream'), { shards: 2, retentionHours: 24 })).toEqual([]);
  });

  it('takes the shard count and retention of a deploy from TRIBUTARY_SHARDS / TRIBUTARY_RETENTION_HOURS', async () => {
    const infra = await deployStage('ci', { env: { TRIBUTARY_SHARDS: '4', TRIBUTARY_RETENTION_HOURS: '48' } });
    expect(checkStream(infra.part('sst:aws:KinesisStream', 'Events', 'aws:kinesis/stream:Stream'), { shards: 4, retentionHours: 48 })).toEqual([]);
  });

  it('refuses a shard count out of range before creating anything', async () => {
    await expect(deployStage('ci', { env: { TRIBUTARY_SHARDS: '0' } })).rejects.toThrow(/TRIBUTARY_SHARDS="0": expected a whole number from 1 to 500/);
  });
});
