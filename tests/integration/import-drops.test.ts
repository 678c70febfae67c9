/**
 * A dropped export starts its import by itself (lib/imports/drops.ts, functions/import-job): the local S3's event
 * notifications and the sweep, as S3 and the schedule do in AWS, through the stream into Postgres.
 */
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsClients } from '../../lib/aws/clients.ts';
import { ImportRegistry } from '../../lib/imports/registry.ts';
import { createPool } from '../../lib/oltp/db.ts';
import type { DevRuntime } from '../../local/dev.ts';
import { testDatabase, type TestDatabase } from './db.ts';
import { removeDir, startTestRuntime, tempDir, waitFor } from './helpers.ts';

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
    expect(await waitFor(rows, (r) => r.length === 1, 60_000, 200)).toEqual(['K1=one again']);
    expect(await registry.get(held.id)).toMatchObject({ decidedBy: 'sam', publishedOps: 3 });
  }, 120_000);
});
