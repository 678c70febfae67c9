/**
 * What the console's Imports page stands on, against `tributary dev`'s engines: the console database requests
 * (lib/console/database.ts, the same answers the AWS function gives), a presigned upload from a browser's origin
 * (lib/imports/uploads.ts) into the imports bucket, whose notification starts the import, and operators' decisions.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleDatabase, importUploadDeps, sharedOltpPool } from '../../lib/composition.ts';
import { ConsoleDbError } from '../../lib/console/database.ts';
import type { ImportEntry, ImportsOverview } from '../../lib/imports/service.ts';
import { uploadTarget } from '../../lib/imports/uploads.ts';
import type { DevRuntime } from '../../local/dev.ts';
import { testDatabase, type TestDatabase } from './db.ts';
import { removeDir, startTestRuntime, tempDir, waitFor } from './helpers.ts';

const CONSOLE_PORT = 3999;
const ORIGIN = `http://127.0.0.1:${CONSOLE_PORT}`;

describe('the Imports page’s requests', () => {
  let dir: string;
  let db: TestDatabase;
  let rt: DevRuntime;
  let savedUrl: string | undefined;

  beforeAll(async () => {
    dir = tempDir('import-console');
    db = await testDatabase('import_console');
    rt = await startTestRuntime(dir, {
      oltp: true,
      databaseUrl: db.url,
      importSweepMs: 300,
      // No console runs here; its port is where the bucket's CORS rule expects it.
      ports: { api: 0, kinesis: 0, s3: 0, pg: 0, console: CONSOLE_PORT },
    });
    // The console's pool is the process's (one per console), on the database its configuration names.
    savedUrl = process.env.DATABASE_URL;
    process.env.DATABASE_URL = db.url;
  }, 180_000);
  afterAll(async () => {
    if (savedUrl === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = savedUrl;
    await sharedOltpPool().end();
    await rt?.stop();
    await db?.drop();
    removeDir(dir);
  });

  const db_ = () => consoleDatabase(rt.config);
  const overview = () => db_()({ op: 'imports' });
  const entries = (o: ImportsOverview) => o.tables.flatMap((t) => t.imports);
  /** Puts `body` at the upload target the console would give the browser, as the browser does. */
  const upload = async (request: Record<string, unknown>, body: Buffer, size = body.length) => {
    const target = await uploadTarget(importUploadDeps(rt.config), { ...request, size });
    const res = await fetch(target.url, { method: 'PUT', body: new Uint8Array(body), headers: { origin: ORIGIN } });
    return { target, res };
  };
  const exportOf = (rows: string[][]) => gzipSync(`${rows.map((r) => r.join(';')).join('\n')}\n`);
  const settled = (version: string) =>
    waitFor(
      async () => entries(await overview()).find((e) => e.version === version),
      (e: ImportEntry | undefined) => !!e && (e.status === 'held' || (e.status === 'published' && e.applied)),
      60_000,
      200,
    );

  it('lists every defined table and nothing imported before the first drop', async () => {
    const o = await overview();
    expect(o.notice).toBeUndefined();
    expect(o.tables).toEqual([]);
    expect(o.raw).toEqual([]);
    expect(o.definitions.map((d) => [d.name, d.columns, d.primaryKey])).toContainEqual(['example', 4, ['PK']]);
  });

  it('an upload to the presigned URL starts the import; the page shows it published, applied, with exact counts', async () => {
    const rows = [
      ['K1', 'one', '', ''],
      ['K2', 'two', 'x', ''],
      ['K3', 'three', '', 'y'],
    ];
    const { target, res } = await upload(
      {
        kind: 'export',
        tenant: 'acme',
        table: 'example',
        version: '20201230_V0001',
        file: 'C:\\exports\\part-0.csv.gz',
      },
      exportOf(rows),
    );
    expect(res.status).toBe(200);
    // The browser is shown the ETag (the CORS rule exposes it).
    expect(res.headers.get('access-control-expose-headers')).toMatch(/etag/i);
    expect(target.key).toBe('exports/acme/example/20201230_V0001/part-0.csv.gz');
    const e = (await settled('20201230_V0001'))!;
    expect(e).toMatchObject({
      tenant: 'acme',
      table: 'example',
      key: target.key,
      status: 'published',
      applied: true,
      ops: { insert: 3, update: 0, delete: 0 },
      unchanged: 0,
      base: '',
      published: 3,
    });
    // The job gives its lease back at its end; a sweep's run may have taken and given it back since (a higher fence).
    const table = await waitFor(
      async () => (await overview()).tables[0],
      (t) => t?.lease?.live === false,
      30_000,
      200,
    );
    expect(e.fence).toBeGreaterThanOrEqual(1);
    expect(table!.lease!.fence).toBeGreaterThanOrEqual(e.fence!);
    expect(table).toMatchObject({
      tenant: 'acme',
      table: 'example',
      rows: 3,
      published: { version: '20201230_V0001', file: e.id },
      statuses: { published: 1 },
      definition: { primaryKey: ['PK'] },
    });
  }, 120_000);

  it('answers the browser’s preflight for the console’s origin, and not for another site', async () => {
    const { target } = await uploadTarget(importUploadDeps(rt.config), {
      kind: 'export',
      tenant: 'acme',
      table: 'example',
      version: 'V2',
      file: 'f.csv.gz',
      size: 1,
    }).then((t) => ({ target: t }));
    const preflight = (origin: string) =>
      fetch(target.url, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type' },
      });
    const ours = await preflight(ORIGIN);
    expect([ours.status, ours.headers.get('access-control-allow-methods')]).toEqual([200, 'PUT']);
    const theirs = await preflight('https://evil.example');
    expect([theirs.status, theirs.headers.get('access-control-allow-origin')]).toEqual([403, null]);
  });

  it('a held import: a viewer may not decide, an operator approves it, and a decided one cannot be decided again', async () => {
    const { res } = await upload(
      { kind: 'export', tenant: 'acme', table: 'example', version: '20201231_V0001', file: 'part-0.csv.gz' },
      exportOf([['K1', 'one again', '', '']]),
    );
    expect(res.status).toBe(200);
    const held = (await settled('20201231_V0001'))!;
    expect(held).toMatchObject({ status: 'held', ops: { insert: 0, update: 1, delete: 2 }, base: '20201230_V0001' });
    expect(held.error).toContain('delete');

    const asViewer = db_()({
      op: 'import-decision',
      id: held.id,
      decision: 'approve',
      actor: { by: 'val', role: 'viewer' },
    });
    await expect(asViewer).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    await expect(asViewer).rejects.toBeInstanceOf(ConsoleDbError);

    const approved = await db_()({
      op: 'import-decision',
      id: held.id,
      decision: 'approve',
      actor: { by: 'sam', role: 'operator' },
    });
    expect(approved).toMatchObject({ id: held.id, status: 'queued', decidedBy: 'sam' });
    const done = await settled('20201231_V0001');
    expect(done).toMatchObject({ status: 'published', applied: true, decidedBy: 'sam' });
    expect((await overview()).tables[0]).toMatchObject({ rows: 1, published: { version: '20201231_V0001' } });

    await expect(
      db_()({ op: 'import-decision', id: held.id, decision: 'reject', actor: { by: 'sam', role: 'operator' } }),
    ).rejects.toMatchObject({ status: 409, message: expect.stringContaining('not held') });
    await expect(
      db_()({ op: 'import-decision', id: 'nosuchimport', decision: 'reject', actor: { by: 'sam', role: 'operator' } }),
    ).rejects.toMatchObject({ status: 404 });
  }, 120_000);

  it('a refused export lists its bad rows with their lines; a raw file upload is loaded and shown', async () => {
    const { res } = await upload(
      { kind: 'export', tenant: 'acme', table: 'example', version: '20210101_V0001', file: 'bad.csv.gz' },
      gzipSync('K1;a;;\nK2;b\nK1;c;;\n'),
    );
    expect(res.status).toBe(200);
    const refused = await waitFor(
      async () => entries(await overview()).find((e) => e.version === '20210101_V0001'),
      (e) => e?.status === 'refused',
      60_000,
      200,
    );
    // The row that does not parse is what refuses it (keys are checked once every row parses).
    expect(refused!.badRows?.map((b) => [b.line, b.text])).toEqual([[2, 'K2;b']]);
    expect(refused!.badRows?.[0]?.problem).toBe('Expected Number of Columns: 4 Found: 2');
    expect(refused!.error).toContain('line 2');

    const events = [
      { metadata: { uuid: 'c1', section: 'home' }, payload: { session_time: '2.3' } },
      { metadata: { uuid: 'c2' }, payload: {} },
    ];
    const raw = await upload(
      { kind: 'raw', type: 'clickstream', file: 'clicks.ndjson' },
      Buffer.from(`${events.map((e) => JSON.stringify(e)).join('\n')}\n`),
    );
    expect(raw.res.status).toBe(200);
    const loaded = await waitFor(
      async () => (await overview()).raw.find((r) => r.key === 'raw/clickstream/clicks.ndjson'),
      (r) => r?.status === 'loaded' || r?.status === 'failed',
      60_000,
      200,
    );
    expect(loaded).toMatchObject({
      type: 'clickstream',
      status: 'loaded',
      counts: { events: 2, accepted: 1, rejected: 1, failed: 0 },
    });
    expect(loaded!.firstErrors?.map((e) => e.line)).toEqual([2]);
  }, 120_000);
});
