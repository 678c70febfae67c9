import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsClients } from '../../lib/aws/clients.ts';
import { compactLake } from '../../lib/compact/compact.ts';
import { resolveParams } from '../../lib/query/params.ts';
import { loadSavedQueries, savedSql } from '../../lib/query/saved.ts';
import type { QueryService } from '../../lib/query/service.ts';
import { compactorDeps, queryService } from '../../lib/composition.ts';
import { listAll } from '../../lib/aws/s3.ts';
import { pipelineInventory } from '../../lib/composition.ts';
import type { DevRuntime } from '../../local/dev.ts';
import { landInLake, removeDir, startTestRuntime, syntheticEnvelopes, tempDir } from './helpers.ts';

const ALL = "dt >= '2000-01-01'";
const exec = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

describe('compaction of closed partition-hours into Parquet', () => {
  let rt: DevRuntime;
  let dir: string;
  let svc: QueryService;
  let sent = 0;
  const saved = loadSavedQueries();
  // Far enough ahead that every hour written so far (clickstream's event time is its receive time) is closed.
  const before = new Date(Date.now() + 2 * 3600_000).toISOString().slice(0, 13);

  /** Lands events in the lake directly (the lake writer's layout); delivery through the stream has its own suites. */
  async function send(type: string, count: number, seed: number): Promise<void> {
    await landInLake(rt.config, syntheticEnvelopes(type, count, seed));
    sent += count;
    const status = await pipelineInventory(rt.config).status();
    expect(status.lake.rows).toBe(sent);
  }

  /** Everything a user can see: every row of every table, and every saved query's result. */
  async function snapshot(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const table of ['transactions', 'taxi_trips', 'clickstream']) {
      out[table] = (await svc.run({ sql: `SELECT * FROM ${table} WHERE ${ALL} ORDER BY id` })).rows;
    }
    for (const q of saved.filter((x) => x.name !== 'lake_health')) {
      const period =
        q.name === 'invalid_rate' ? `2020-01-01..${new Date().toISOString().slice(0, 10)}` : '2020-01-01..2030-12-31';
      out[q.name] = (await svc.run({ sql: savedSql(q, 'duckdb'), params: resolveParams(q.params, { period }) })).rows;
    }
    return out;
  }

  const lakeKeys = async (prefix: string) =>
    (await listAll(awsClients(rt.config).s3, rt.config.buckets.lake, prefix)).map((o) => o.Key!);

  beforeAll(async () => {
    dir = tempDir('compact');
    rt = await startTestRuntime(dir, { consumers: false });
    svc = queryService(rt.config, { rowLimit: 10_000, maxUnfilteredScanBytes: 1e12 });
    await send('transactions', 300, 7);
    await send('taxi_trips', 120, 7);
    await send('clickstream', 120, 7);
    // Generous: on a loaded machine (the browser tests run beside this file) delivery can take a while.
  }, 480_000);

  afterAll(async () => {
    await svc?.deps.engine.close();
    await rt?.stop();
    removeDir(dir);
  });

  it('rewrites every closed hour as one sorted ZSTD Parquet object and leaves every row and result unchanged', async () => {
    const beforeSnap = await snapshot();
    const jsonl = (await lakeKeys('events/')).filter((k) => k.endsWith('.jsonl.gz'));
    const partitions = new Set(jsonl.map((k) => k.slice(0, k.lastIndexOf('/'))));
    const statusBefore = await pipelineInventory(rt.config).status();

    const result = await compactLake(compactorDeps(rt.config), { before });
    expect(result).toMatchObject({
      partitions: partitions.size,
      sourceObjects: jsonl.length,
      parquetObjects: partitions.size,
      rows: sent,
      resumed: 0,
    });

    expect((await lakeKeys('events/')).filter((k) => k.endsWith('.jsonl.gz'))).toEqual([]);
    const parquet = await lakeKeys('compacted/');
    expect(parquet.length).toBe(partitions.size);
    expect(new Set(parquet.map((k) => k.slice(0, k.lastIndexOf('/')).replace(/^compacted\//, 'events/')))).toEqual(
      partitions,
    );
    expect(await snapshot()).toEqual(beforeSnap);

    const statusAfter = await pipelineInventory(rt.config).status();
    expect(statusAfter.lake.rows).toBe(statusBefore.lake.rows);
    expect(statusAfter.lake.byType.transactions!.partitions).toBe(statusBefore.lake.byType.transactions!.partitions);

    // The stored object itself: ZSTD, rows ordered by event time, each naming the JSONL object it came from.
    const s3dir = path.join(dir, 's3', rt.config.buckets.lake);
    const file = path.join(s3dir, `${parquet[0]}._S3rver_object`);
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const codecs = (await c.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata('${file}')`))
      .getRows()
      .map((r) => r[0]);
    expect(codecs).toEqual(['ZSTD']);
    const times = (
      await c.runAndReadAll(`SELECT CAST(event_time AS VARCHAR), _source FROM read_parquet('${file}')`)
    ).getRows();
    expect(times.map((r) => r[0])).toEqual(times.map((r) => r[0]).sort());
    expect(times.every((r) => String(r[1]).startsWith('events/') && String(r[1]).endsWith('.jsonl.gz'))).toBe(true);
    c.closeSync();
    db.closeSync();
    expect(readdirSync(path.dirname(file)).filter((f) => f.endsWith('._S3rver_object'))).toHaveLength(1);

    // Idempotent: nothing left to do.
    expect(await compactLake(compactorDeps(rt.config), { before })).toMatchObject({
      partitions: 0,
      sourceObjects: 0,
      parquetObjects: 0,
    });
  }, 240_000);

  it('late records for compacted hours stay visible, and a run that crashes mid-way is finished by the next one', async () => {
    const parquetBefore = await lakeKeys('compacted/');
    // Same base time, other seed: new transactions in hours that are already compacted.
    await send('transactions', 80, 99);
    const expected = await snapshot();
    expect((expected.transactions as unknown[]).length).toBe(380);

    let crashes = 0;
    const crashing = {
      ...compactorDeps(rt.config),
      afterWrite: async () => {
        crashes++;
        throw new Error('power cut');
      },
    };
    const crashed = await compactLake(crashing, { before });
    // Every partition-hour with late records wrote its Parquet object and crashed before deleting its JSONL sources;
    // each is reported, none held up another. Queries still see each row once.
    expect(crashes).toBeGreaterThanOrEqual(1);
    expect(crashed.failed.length).toBe(crashes);
    expect(
      crashed.failed.every((f) => f.table === 'transactions' && /power cut\. Run compaction again/.test(f.error)),
    ).toBe(true);
    expect((await lakeKeys('compacted/')).length).toBe(parquetBefore.length + crashes);
    expect(await snapshot()).toEqual(expected);

    const resumed = await compactLake(compactorDeps(rt.config), { before });
    expect(resumed.resumed).toBeGreaterThan(0);
    expect(resumed.rows + resumed.resumed).toBeGreaterThan(0);
    expect((await lakeKeys('events/')).filter((k) => k.endsWith('.jsonl.gz'))).toEqual([]);
    expect(await snapshot()).toEqual(expected);
    const status = await pipelineInventory(rt.config).status();
    expect(status.lake.rows).toBe(sent);
  }, 240_000);

  it('tributary compact reports what it did as JSON', async () => {
    await send('taxi_trips', 30, 123);
    const env = {
      ...process.env,
      TRIBUTARY_S3_ENDPOINT: rt.config.endpoints!.s3,
      TRIBUTARY_KINESIS_ENDPOINT: rt.config.endpoints!.kinesis,
      TRIBUTARY_DATA_DIR: dir,
    };
    const { stdout } = await exec(
      process.execPath,
      ['bin/tributary.mjs', 'compact', '--before', before, '--table', 'taxi_trips', '--json'],
      { cwd: root, env },
    );
    const out = JSON.parse(stdout);
    expect(out).toMatchObject({ before, rows: 30, resumed: 0 });
    expect(out.parquetObjects).toBe(out.partitions);
    const bad = await exec(process.execPath, ['bin/tributary.mjs', 'compact', '--before', 'yesterday'], {
      cwd: root,
      env,
    }).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code: number }).code).toBe(1);
    expect((bad as { stderr: string }).stderr).toMatch(
      /--before must be an hour YYYY-MM-DDTHH \(UTC\), got "yesterday"/,
    );
  }, 240_000);

  it('refuses a malformed cut-off or an unknown table with a clear message', async () => {
    await expect(compactLake(compactorDeps(rt.config), { before: '2026-01-15 10:00' })).rejects.toThrow(
      /--before must be an hour YYYY-MM-DDTHH/,
    );
    await expect(compactLake(compactorDeps(rt.config), { tables: ['quarantine'] })).rejects.toThrow(
      'Cannot compact quarantine; compactable tables: clickstream, example_changes, taxi_trips, transactions.',
    );
  });
});
