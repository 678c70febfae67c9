/**
 * `tributary import` against `tributary dev` (cli/import.ts): a sequence of real-shaped exports (gzip, `;`, no
 * header, NULLs) uploaded, imported through the bucket's notifications and applied, held and approved, refused; list
 * and show; a raw event file.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import type { DevRuntime } from '../../local/dev.ts';
import { transaction } from '../helpers/factories.ts';
import { testDatabase, type TestDatabase } from './db.ts';
import { removeDir, startTestRuntime, tempDir } from './helpers.ts';

type Row = (string | null)[];

describe('tributary import', () => {
  let dir: string;
  let db: TestDatabase;
  let rt: DevRuntime;
  let saved: string | undefined;

  beforeAll(async () => {
    dir = tempDir('import-cli');
    db = await testDatabase('import_cli');
    // Sweeps twice a second: an approved import starts on the next sweep (every minute by default).
    rt = await startTestRuntime(dir, { oltp: true, databaseUrl: db.url, importSweepMs: 500 });
    // The CLI finds the stack by its data directory, and the database the way `tributary db` does.
    saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = db.url;
  }, 180_000);
  afterAll(async () => {
    if (saved === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = saved;
    await rt?.stop();
    await db?.drop();
    removeDir(dir);
  });

  const cli = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main([...args, '--data-dir', dir], {
      out: (s) => out.push(s),
      err: (s) => err.push(s),
      isTTY: false,
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  /** An export as the old system wrote them: `;`, no header, `"` quotes, NULL as an empty field, gzip. */
  const exportOf = (name: string, rows: Row[]) => {
    const cell = (v: string | null) => (v === null ? '' : /[;"\n]|^$/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
    const file = path.join(dir, name);
    writeFileSync(file, gzipSync(`${rows.map((r) => r.map(cell).join(';')).join('\n')}\n`));
    return file;
  };
  const json = (out: string) => JSON.parse(out) as Record<string, unknown>;

  it('imports a sequence of exports with exact counts, and the table holds the last one', async () => {
    const rest: Row[] = Array.from({ length: 7 }, (_, i) => [`F${i}`, `filler ${i}`, null, `${i}.0`]);
    const v1: Row[] = [['K1', 'Ann', 'x;y', null], ['K2', 'Bob', '', '2'], ['K3', null, 'z', '3'], ...rest];
    const first = await cli(
      'import',
      exportOf('v1.csv.gz', v1),
      '--table',
      'acme/example',
      '--version',
      '20201230_V0001',
      '--json',
    );
    expect([first.code, first.err]).toEqual([0, '']);
    const one = json(first.out);
    expect(one).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      tenant: 'acme',
      table: 'example',
      version: '20201230_V0001',
      status: 'published',
      ops: { insert: 10, update: 0, delete: 0 },
      unchanged: 0,
      rows: 10,
      applied: true,
    });
    // K1: NULL → value; K2: '' → NULL; K3 deleted; K4 new.
    const v2: Row[] = [['K1', 'Ann', 'x;y', 'now'], ['K2', 'Bob', null, '2'], ['K4', 'Di', '"q"', null], ...rest];
    const second = await cli(
      'import',
      exportOf('v2.csv.gz', v2),
      '--table',
      'acme/example',
      '--version',
      '20201230_V0002',
      '--json',
    );
    expect(json(second.out)).toMatchObject({
      status: 'published',
      ops: { insert: 1, update: 2, delete: 1 },
      unchanged: 7,
      rows: 10,
      applied: true,
    });
    // Human output, and the same export again changes nothing.
    const third = await cli(
      'import',
      exportOf('v3.csv.gz', [...v2].reverse()),
      '--table',
      'acme/example',
      '--version',
      '20201231_V0001',
    );
    expect(third.code).toBe(0);
    expect(third.out).toContain('acme/example version 20201231_V0001: published and applied');
    expect(third.out).toContain('0 inserts, 0 updates, 0 deletes, 10 unchanged; 10 rows in imports.example for acme');
    const show = await cli('import', 'show', String(one.id), '--json');
    expect(json(show.out)).toMatchObject({ id: one.id, status: 'published', version: '20201230_V0001' });
    const list = await cli('import', 'list', '--table', 'acme/example', '--json');
    expect((JSON.parse(list.out) as { version: string }[]).map((x) => x.version)).toEqual([
      '20201231_V0001',
      '20201230_V0002',
      '20201230_V0001',
    ]);
  }, 120_000);

  it('returns at once for a held export, saying how to approve it; approve then waits for it', async () => {
    const held = await cli(
      'import',
      exportOf('v4.csv.gz', [['K1', 'Ann', null, null]]),
      '--table',
      'acme/example',
      '--version',
      '20210101_V0001',
      '--json',
    );
    expect(held.code).toBe(0);
    const h = json(held.out);
    expect(h).toMatchObject({ status: 'held', ops: { insert: 0, update: 1, delete: 9 }, rows: 10, applied: false });
    const human = await cli('import', 'show', String(h.id));
    expect(human.out).toContain(`Approve it with \`tributary import approve ${h.id}\``);
    // A later export waits behind it, and the command says so instead of waiting out its timeout.
    const behind = await cli(
      'import',
      exportOf('v5.csv.gz', [['K1', 'Ann', null, null]]),
      '--table',
      'acme/example',
      '--version',
      '20210102_V0001',
    );
    expect([behind.code, behind.err]).toEqual([
      1,
      expect.stringContaining(`waits behind held import ${h.id} (version 20210101_V0001) of acme/example`),
    ]);
    const approved = await cli('import', 'approve', String(h.id), '--json', '--by', 'sam');
    expect([approved.code, json(approved.out)]).toEqual([
      0,
      expect.objectContaining({ status: 'published', rows: 1, applied: true }),
    ]);
  }, 120_000);

  it('exits 1 with the reason for an export older than the last one, and 2 or 1 for what it cannot do', async () => {
    const old = await cli(
      'import',
      exportOf('old.csv.gz', [['K1', 'x', null, null]]),
      '--table',
      'acme/example',
      '--version',
      '20201230_V0003',
      '--json',
    );
    expect(old.code).toBe(1);
    expect(json(old.out)).toMatchObject({
      status: 'refused',
      error: expect.stringMatching(/is not after the last published version 2021010[12]_V0001/),
    });
    const noVersion = await cli('import', exportOf('x.csv.gz', []), '--table', 'acme/example');
    expect([noVersion.code, noVersion.err.split('\n')[0]]).toEqual([
      2,
      "error: Give the export's version: --version <v> (e.g. 20201230_V0001).",
    ]);
    const badVersion = await cli('import', exportOf('z.csv.gz', []), '--table', 'acme/example', '--version', 'v 1');
    expect([badVersion.code, badVersion.err.split('\n')[0]]).toEqual([
      2,
      "error: Version \"v 1\": use letters, digits, '.', '_' and '-' (versions sort as text, e.g. 20201230_V0001).",
    ]);
    const undefinedTable = await cli('import', exportOf('y.csv.gz', []), '--table', 'acme/nosuch', '--version', 'v1');
    expect(undefinedTable.code).toBe(1);
    expect(undefinedTable.err).toContain('tables/nosuch.json');
    const notHeld = await cli('import', 'approve', 'nosuchimport');
    expect([notHeld.code, notHeld.err]).toEqual([1, expect.stringContaining('No import "nosuchimport"')]);
  }, 60_000);

  it('loads a raw event file through the ingest path', async () => {
    const file = path.join(dir, 'tx.ndjson');
    const lines = [1, 2, 3].map((i) => JSON.stringify(transaction(i)));
    lines.push(JSON.stringify(transaction(4, { amt: 'lots' })));
    writeFileSync(file, `${lines.join('\n')}\n`);
    const r = await cli('import', file, '--type', 'transactions', '--json');
    expect([r.code, JSON.parse(r.out)]).toEqual([0, { accepted: 3, rejected: 1, failed: 0 }]);
  }, 60_000);
});
