/** The import registry and table leases (lib/imports/registry.ts) on a real database (Postgres, or PGlite). */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../lib/oltp/db.ts';
import { migrate } from '../../lib/oltp/migrations.ts';
import { ExportKeyError } from '../../lib/imports/errors.ts';
import { ImportRegistry, parseExportKey } from '../../lib/imports/registry.ts';
import { testDatabase, type TestDatabase } from './db.ts';

const counts = { insert: 1, update: 0, delete: 0, unchanged: 0, rows: 1 };

describe('import registry and leases', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let reg: ImportRegistry;

  beforeAll(async () => {
    db = await testDatabase('import_registry');
    // Eight: the local PGlite server's connection limit.
    pool = createPool(db.url, { max: 8 });
    await migrate(pool);
    reg = new ImportRegistry(pool);
  }, 60_000);
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('reads tenant, table and version off the key, and refuses a key that is not one, saying where exports go', () => {
    expect(parseExportKey('exports/acme/example/20201230_V0001/part-0.csv.gz')).toEqual({
      tenant: 'acme',
      table: 'example',
      version: '20201230_V0001',
      file: 'part-0.csv.gz',
    });
    for (const key of [
      'raw/acme/example/v1/a.csv',
      'exports/acme/example/a.csv',
      'exports/acme/example/v1/sub/a.csv',
      'exports/../example/v1/a.csv',
      'exports/acme/Example/v1/a.csv',
      'exports/acme/example/v 1/a.csv',
      'exports/acme//v1/a.csv',
    ])
      expect(() => parseExportKey(key), key).toThrow(ExportKeyError);
    expect(() => parseExportKey('exports/acme/example/a.csv')).toThrow(
      'Drop exports at exports/<tenant>/<table>/<version>/<file>.csv.gz',
    );
  });

  it('registers a file once however often it is announced; a second file for a version is refused, saying so', async () => {
    const o = { key: 'exports/acme/example/20201230_V0001/a.csv.gz', etag: '"e1"', size: 10 };
    const [a, b] = await Promise.all([reg.register(o), reg.register(o)]);
    expect(a).toEqual(b);
    expect(a).toMatchObject({
      tenant: 'acme',
      table: 'example',
      version: '20201230_V0001',
      status: 'queued',
      size: 10,
    });
    const other = await reg.register({ ...o, key: 'exports/acme/example/20201230_V0001/b.csv.gz' });
    expect(other).toMatchObject({ status: 'refused' });
    expect(other.error).toBe(
      'Version 20201230_V0001 of acme/example already has a file (exports/acme/example/20201230_V0001/a.csv.gz); an export version is one file. Drop this one under a new version.',
    );
    expect((await reg.list({ tenant: 'acme', table: 'example' })).map((f) => f.status).sort()).toEqual([
      'queued',
      'refused',
    ]);
  });

  it('gives a table to one holder at a time, however many ask at once; other tables are free', async () => {
    const leases = await Promise.all(
      Array.from({ length: 10 }, (_, i) => reg.acquire('acme', 'orders', `job-${i}`, 60_000)),
    );
    const held = leases.filter((l) => l !== undefined);
    expect(held).toHaveLength(1);
    expect(held[0]!.fence).toBe(1);
    expect(await reg.acquire('acme', 'customers', 'job-x', 60_000)).toMatchObject({ fence: 1 });
    expect(await reg.acquire('other', 'orders', 'job-y', 60_000)).toMatchObject({ fence: 1 });
    // Its holder may take it again (a retried step), with a higher fence.
    expect(await reg.acquire('acme', 'orders', held[0]!.holder, 60_000)).toMatchObject({ fence: 2 });
  });

  it('lets a new job take an expired lease with a higher fence; the stale job can then change nothing', async () => {
    const file = await reg.register({ key: 'exports/acme/lines/v1/a.csv.gz', etag: '"x"', size: 1 });
    // Long enough that the next two steps happen inside it on a loaded machine (50 ms once was not).
    const stale = (await reg.acquire('acme', 'lines', 'stale', 1_500))!;
    expect(await reg.transition(stale, file.id, 'running')).toBe(true);
    expect(await reg.acquire('acme', 'lines', 'fresh', 60_000)).toBeUndefined();
    // Wait on the database's clock, the one leases use.
    for (;;) {
      const { rows } = await pool.query(
        "SELECT expires_at <= now() AS over FROM import_lease WHERE table_name = 'lines'",
      );
      if (rows[0].over) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const fresh = (await reg.acquire('acme', 'lines', 'fresh', 60_000))!;
    expect(fresh.fence).toBe(stale.fence + 1);
    expect(await reg.renew(stale, 60_000)).toBe(false);
    expect(await reg.transition(stale, file.id, 'failed', { error: 'stale' })).toBe(false);
    expect(await reg.markPublished(stale, file.id, 'snap', counts)).toBe(false);
    expect(await reg.published('acme', 'lines')).toBeUndefined();
    // The file the stale job left running comes back to the new holder first.
    expect(await reg.next(fresh)).toMatchObject({ id: file.id, status: 'running', fence: stale.fence });
    // Only under the fence that took it.
    expect(await reg.markPublished(fresh, file.id, 'snap-v1', counts)).toBe(false);
    expect(await reg.transition(fresh, file.id, 'running')).toBe(true);
    expect(await reg.markPublished(fresh, file.id, 'snap-v1', counts)).toBe(true);
    expect(await reg.get(file.id)).toMatchObject({ status: 'published', fence: fresh.fence, counts });
    expect(await reg.published('acme', 'lines')).toEqual({ version: 'v1', file: file.id, snapshotKey: 'snap-v1' });
    await reg.release(fresh);
    expect(await reg.acquire('acme', 'lines', 'third', 60_000)).toMatchObject({ fence: fresh.fence + 1 });
  });

  it('frees a version whose file was refused, rejected or failed, and never moves a file out of a final status', async () => {
    const first = await reg.register({ key: 'exports/t3/example/v1/a.csv.gz', etag: '"a"', size: 1 });
    const lease = (await reg.acquire('t3', 'example', 'job', 60_000))!;
    expect(await reg.transition(lease, first.id, 'running')).toBe(true);
    expect(await reg.transition(lease, first.id, 'refused', { error: 'bad rows' })).toBe(true);
    // The fixed file dropped again under the same version is queued, not refused.
    const fixed = await reg.register({ key: 'exports/t3/example/v1/a.csv.gz', etag: '"b"', size: 2 });
    expect(fixed.status).toBe('queued');
    expect(await reg.transition(lease, first.id, 'running')).toBe(false);
    expect(await reg.get(first.id)).toMatchObject({ status: 'refused', error: 'bad rows' });
    // Published is final too, and only a running file can be published.
    expect(await reg.markPublished(lease, fixed.id, 'snap', counts)).toBe(false);
    expect(await reg.transition(lease, fixed.id, 'running')).toBe(true);
    expect(await reg.markPublished(lease, fixed.id, 'snap', counts)).toBe(true);
    expect(await reg.transition(lease, fixed.id, 'failed', { error: 'late' })).toBe(false);
    expect(await reg.get(fixed.id)).toMatchObject({ status: 'published' });
  });

  it.skipIf(!process.env.DATABASE_URL)(
    'makes a takeover wait for a fenced write in flight, so the write and the takeover never interleave (Postgres)',
    async () => {
      const file = await reg.register({ key: 'exports/t4/example/v1/a.csv.gz', etag: '"a"', size: 1 });
      const old = (await reg.acquire('t4', 'example', 'old', 60_000))!;
      expect(await reg.transition(old, file.id, 'running')).toBe(true);
      // The lease runs out while a fenced write of the old holder (its check passed just before) is in flight: that
      // transaction holds the lease row's share lock.
      await pool.query(
        `UPDATE import_lease SET expires_at = clock_timestamp() - interval '1 second' WHERE tenant = 't4'`,
      );
      const a = await pool.connect();
      try {
        await a.query('BEGIN');
        const locked = await a.query(
          'SELECT 1 FROM import_lease WHERE tenant = $1 AND table_name = $2 AND fence = $3 FOR SHARE',
          ['t4', 'example', old.fence],
        );
        expect(locked.rowCount).toBe(1);
        const takeover = reg.acquire('t4', 'example', 'new', 60_000);
        // Observable: the takeover's statement waits on the lock.
        for (;;) {
          const { rows } = await pool.query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO import_lease%'",
          );
          if (rows[0].n === 1) break;
        }
        await a.query('COMMIT');
        expect(await takeover).toMatchObject({ holder: 'new', fence: old.fence + 1 });
      } finally {
        a.release();
      }
    },
  );

  it('queues drops in version order (as text), and refuses one not after the last published version', async () => {
    for (const v of ['20201231_V0001', '20201230_V0002', '20201230_V0001'])
      await reg.register({ key: `exports/t2/example/${v}/f.csv.gz`, etag: `"${v}"`, size: 1 });
    const lease = (await reg.acquire('t2', 'example', 'job', 60_000))!;
    const order: string[] = [];
    for (let f = await reg.next(lease); f; f = await reg.next(lease)) {
      order.push(f.version);
      expect(await reg.transition(lease, f.id, 'running')).toBe(true);
      expect(await reg.markPublished(lease, f.id, `snap-${f.version}`, counts)).toBe(true);
    }
    expect(order).toEqual(['20201230_V0001', '20201230_V0002', '20201231_V0001']);
    const late = await reg.register({ key: 'exports/t2/example/20201230_V0003/f.csv.gz', etag: '"late"', size: 1 });
    expect(await reg.next(lease)).toBeUndefined();
    expect(await reg.get(late.id)).toMatchObject({
      status: 'refused',
      error:
        'Version 20201230_V0003 is not after the last published version 20201231_V0001 of t2/example; exports are applied in version order (as text), so drop it under a later version.',
    });
  });

  it('holds a table while one of its exports waits for a decision, and records who approved or rejected it', async () => {
    const file = (v: string) => reg.register({ key: `exports/hold/example/${v}/f.csv.gz`, etag: `"${v}"`, size: 1 });
    const a = await file('v1');
    const b = await file('v2');
    const lease = (await reg.acquire('hold', 'example', 'job', 60_000))!;
    expect((await reg.next(lease))?.id).toBe(a.id);
    expect(await reg.transition(lease, a.id, 'running')).toBe(true);
    expect(await reg.progress(lease, a.id, 500)).toBe(true);
    // Progress only grows: a retried chunk reporting less does not move it back.
    expect(await reg.progress(lease, a.id, 200)).toBe(true);
    expect((await reg.get(a.id)).publishedOps).toBe(500);
    expect(await reg.transition(lease, a.id, 'held', { error: 'too many deletes' })).toBe(true);
    // v2 waits: its delta depends on whether v1 is published.
    expect(await reg.next(lease)).toBeUndefined();
    await expect(reg.decide(b.id, 'approve', 'sam')).rejects.toThrow(
      `Import ${b.id} is queued, not held: only a held import can be approved or rejected`,
    );
    expect(await reg.decide(a.id, 'approve', 'sam')).toMatchObject({ status: 'queued', decidedBy: 'sam' });
    await expect(reg.decide(a.id, 'reject', 'erin')).rejects.toMatchObject({ code: 'import_state', status: 409 });
    expect((await reg.next(lease))?.id).toBe(a.id);
    expect(await reg.transition(lease, a.id, 'running')).toBe(true);
    expect(await reg.markPublished(lease, a.id, 'snap-v1', counts)).toBe(true);
    expect((await reg.next(lease))?.id).toBe(b.id);
    expect(await reg.transition(lease, b.id, 'held', { error: 'too many deletes' })).toBe(true);
    expect(await reg.decide(b.id, 'reject', 'erin')).toMatchObject({
      status: 'rejected',
      decidedBy: 'erin',
      error: 'Rejected by erin while held: too many deletes',
    });
    // Rejected, the next export goes on from the last published one (v1).
    const c = await file('v3');
    expect((await reg.next(lease))?.id).toBe(c.id);
    expect(await reg.published('hold', 'example')).toMatchObject({ version: 'v1' });
  });
});
