/**
 * A dropped export starts its import by itself (lib/imports/drops.ts, functions/import-job): the local S3's event
 * notifications and the sweep, as S3 and the schedule do in AWS, through the stream into Postgres.
 */
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsClients } from '../../lib/aws/clients.ts';
import { ImportRegistry, importFileId } from '../../lib/imports/registry.ts';
import { createPool } from '../../lib/oltp/db.ts';
import type { DevRuntime } from '../../local/dev.ts';
import { testDatabase, type TestDatabase } from './db.ts';
import { transaction } from '../helpers/factories.ts';
import { readLake, removeDir, startTestRuntime, tempDir, waitFor } from './helpers.ts';

describe('dropping an export into the imports bucket', () => {
  let dir: string;
  let db: TestDatabase;
  let rt: DevRuntime;
  let pool: pg.Pool;
  let registry: ImportRegistry;

  beforeAll(async () => {
    dir = tempDir('import-drops');
    db = await testDatabase('import_drops');
    rt = await startTestRuntime(dir, { oltp: true, databaseUrl: db.url, importSweepMs: 300 });
    pool = createPool(db.url, { max: 2 });
    registry = new ImportRegistry(pool);
  }, 180_000);
  afterAll(async () => {
    await rt?.stop();
    await pool?.end();
    await db?.drop();
    removeDir(dir);
  });

  const put = (key: string, text: string) =>
    awsClients(rt.config).s3.send(
      new PutObjectCommand({ Bucket: rt.config.buckets.imports, Key: key, Body: gzipSync(text) }),
    );
  const rows = async () => {
    try {
      return (
        await pool.query<{ PK: string; COL2: string }>(
          `SELECT "PK", "COL2" FROM imports.example WHERE tributary_tenant = 'acme' AND NOT tributary_deleted ORDER BY 1`,
        )
      ).rows.map((r) => `${r.PK}=${r.COL2}`);
    } catch (err) {
      if ((err as { code?: string }).code === '42P01') return [];
      throw err;
    }
  };
  const statusOf = async (key: string) => (await registry.list({ tenant: 'acme' })).find((f) => f.key === key)?.status;
  /** The file's status once it is `status` (or the last one seen, after a minute). */
  const reaches = (key: string, status: string) =>
    waitFor(
      () => statusOf(key),
      (s) => s === status,
      60_000,
      200,
    );

  it('imports it, its key decoded as S3 sends it, and leaves an object that is not an export alone', async () => {
    const key = 'exports/acme/example/20201230_V0001/part 0 (full).csv.gz';
    await put(key, 'K1;one;;\nK2;two;;\nK3;three;;\n');
    await put('exports/acme/example/not-an-export.csv', 'K9;x;;\n');
    expect(await reaches(key, 'published')).toBe('published');
    expect(await waitFor(rows, (r) => r.length === 3, 60_000, 200)).toEqual(['K1=one', 'K2=two', 'K3=three']);
    expect((await registry.list()).map((f) => f.key)).toEqual([key]);
  }, 120_000);

  it('holds one that deletes too much; once approved, the sweep publishes it without another drop', async () => {
    const key = 'exports/acme/example/20201231_V0001/part-0.csv.gz';
    await put(key, 'K1;one again;;\n');
    expect(await reaches(key, 'held')).toBe('held');
    const held = (await registry.list({ tenant: 'acme' })).find((f) => f.key === key)!;
    expect(held.counts).toEqual({ insert: 0, update: 1, delete: 2, unchanged: 0, rows: 1, base: '20201230_V0001' });
    expect(await rows()).toEqual(['K1=one', 'K2=two', 'K3=three']);
    await registry.decide(held.id, 'approve', 'sam');
    expect(await reaches(key, 'published')).toBe('published');
    // Its operations land on both shards, applied each on its own: wait for all of them.
    expect(await waitFor(rows, (r) => r.join() === 'K1=one again', 60_000, 200)).toEqual(['K1=one again']);
    expect(await registry.get(held.id)).toMatchObject({ decidedBy: 'sam', publishedOps: 3 });
  }, 120_000);

  it('loads a raw event file dropped under raw/<type>/ through the ingest path, once, and fails one of no type', async () => {
    const lines = [1, 2, 3].map((i) => JSON.stringify(transaction(i, {}, '2026-02-04')));
    lines.splice(1, 0, JSON.stringify(transaction(9, { amt: 'lots' }, '2026-02-04')));
    const key = 'raw/transactions/day 1.ndjson.gz';
    const put = await awsClients(rt.config).s3.send(
      new PutObjectCommand({ Bucket: rt.config.buckets.imports, Key: key, Body: gzipSync(`${lines.join('\n')}\n`) }),
    );
    const id = importFileId(key, put.ETag!);
    const status = async () =>
      (
        await pool.query<{ status: string; counts: unknown; event_type: string }>(
          'SELECT * FROM raw_file WHERE id = $1',
          [id],
        )
      ).rows[0];
    const done = await waitFor(status, (r) => r?.status === 'loaded', 60_000, 200);
    expect(done).toMatchObject({
      status: 'loaded',
      event_type: 'transactions',
      counts: { events: 4, accepted: 3, rejected: 1, failed: 0 },
    });
    const lake = await waitFor(
      () => readLake(rt.config),
      (l) => l.rows.filter((r) => r.source === 'import').length === 3,
      60_000,
    );
    expect(
      lake.rows
        .filter((r) => r.source === 'import')
        .map((r) => (r.data as { trans_num: string }).trans_num)
        .sort(),
    ).toEqual([1, 2, 3].map((i) => transaction(i, {}, '2026-02-04').trans_num).sort());
    expect(lake.quarantine.filter((q) => q.stage === 'import').map((q) => q.reason)).toEqual(['schema_violation']);
    // Of a type nobody registered: failed, saying where raw files go and where a schema goes.
    const bad = 'raw/nosuch/a.ndjson';
    const badPut = await awsClients(rt.config).s3.send(
      new PutObjectCommand({ Bucket: rt.config.buckets.imports, Key: bad, Body: '{}\n' }),
    );
    const failed = await waitFor(
      async () =>
        (
          await pool.query<{ status: string; error: string }>('SELECT status, error FROM raw_file WHERE id = $1', [
            importFileId(bad, badPut.ETag!),
          ])
        ).rows[0],
      (r) => r?.status === 'failed',
      60_000,
      200,
    );
    expect(failed?.error).toContain("add the type's schema under schemas/nosuch/");
  }, 120_000);
  it('fails a raw file whose loads keep being cut off, instead of loading it from the start forever', async () => {
    const key = 'raw/transactions/too-big.ndjson';
    const put = await awsClients(rt.config).s3.send(
      new PutObjectCommand({
        Bucket: rt.config.buckets.imports,
        Key: key,
        Body: `${JSON.stringify(transaction(77, {}, '2026-02-05'))}\n`,
      }),
    );
    const id = importFileId(key, put.ETag!);
    await waitFor(
      async () => (await pool.query<{ status: string }>('SELECT status FROM raw_file WHERE id = $1', [id])).rows[0],
      (r) => r?.status === 'loaded',
      60_000,
      200,
    );
    // As if two loaders had died on it and a third is dying now: its claim is older than a loader may take.
    await pool.query(
      `UPDATE raw_file SET status = 'loading', cut_off = 2, claimed_at = now() - interval '16 minutes' WHERE id = $1`,
      [id],
    );
    const failed = await waitFor(
      async () =>
        (
          await pool.query<{ status: string; error: string | null; cut_off: number }>(
            'SELECT status, error, cut_off FROM raw_file WHERE id = $1',
            [id],
          )
        ).rows[0],
      (r) => r?.status === 'failed',
      60_000,
      200,
    );
    expect(failed).toEqual({
      status: 'failed',
      cut_off: 3,
      error: `Loading ${key} stopped before the end 3 times (in AWS a load must finish within one run of the import function, 15 minutes): split the file and drop the parts, or load it with \`tributary import <file> --type transactions\`. Dropping it again tries once more.`,
    });
    // Dropped again (the same bytes): counted afresh, and loaded.
    await awsClients(rt.config).s3.send(
      new PutObjectCommand({
        Bucket: rt.config.buckets.imports,
        Key: key,
        Body: `${JSON.stringify(transaction(77, {}, '2026-02-05'))}\n`,
      }),
    );
    const again = await waitFor(
      async () =>
        (
          await pool.query<{ status: string; cut_off: number }>('SELECT status, cut_off FROM raw_file WHERE id = $1', [
            id,
          ])
        ).rows[0],
      (r) => r?.status === 'loaded',
      60_000,
      200,
    );
    expect(again).toEqual({ status: 'loaded', cut_off: 0 });
  }, 180_000);
});
