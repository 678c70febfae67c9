/** The delta between full exports (lib/imports/delta.ts) on DuckDB, over a corpus of the changes that trip text tests. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeDelta, type DeltaResult } from '../../lib/imports/delta.ts';
import { ExportRefusedError } from '../../lib/imports/errors.ts';
import { checkTableDef, TableRegistry, type TableDef } from '../../lib/imports/tables.ts';

let db: DuckDBInstance;
let conn: DuckDBConnection;
let dir: string;
let n = 0;

beforeAll(async () => {
  db = await DuckDBInstance.create(':memory:', { threads: '2' });
  conn = await db.connect();
  dir = mkdtempSync(path.join(os.tmpdir(), 'import-delta-'));
});
afterAll(() => {
  conn?.closeSync();
  db?.closeSync();
  rmSync(dir, { recursive: true, force: true });
});

const accounts = checkTableDef(
  {
    name: 'accounts',
    columns: [
      { name: 'id', type: 'text' },
      { name: 'name', type: 'text' },
      { name: 'balance', type: 'decimal', precision: 12, scale: 2 },
      { name: 'rate', type: 'double' },
      { name: 'code', type: 'text' },
      { name: 'active', type: 'boolean' },
    ],
    primaryKey: ['id'],
    format: { delimiter: ',', quote: '"', header: true, null: '', compression: 'none' },
  },
  'accounts.json',
);
const HEADER = 'id,name,balance,rate,code,active';

/** Writes an export and runs the delta against the previous snapshot; returns the result and the operations. */
async function delta(def: TableDef, lines: string[], previous?: DeltaResult, gzip = false) {
  const work = mkdtempSync(path.join(dir, 'w'));
  const file = path.join(dir, `export-${++n}.csv${gzip ? '.gz' : ''}`);
  const text = `${lines.join('\n')}\n`;
  writeFileSync(file, gzip ? gzipSync(text) : text);
  const result = await computeDelta(conn, { def, next: file, previous: previous?.snapshot, workDir: work });
  const read = await conn.runAndReadAll(`SELECT * EXCLUDE (__seq), __seq FROM read_parquet('${result.opsFile}')`);
  // Numbered 1, 2, … in the file's (key) order.
  expect(read.getRows().map((r) => Number(r.at(-1)))).toEqual(read.getRows().map((_, i) => i + 1));
  const ops = (
    await conn.runAndReadAll(`SELECT * EXCLUDE (__seq) FROM read_parquet('${result.opsFile}')`)
  ).getRowObjectsJson();
  return { result, ops };
}

describe('the delta between two full exports', () => {
  it('is all inserts the first time, and nothing for an identical or reordered re-export', async () => {
    const v1 = await delta(accounts, [HEADER, 'a,Ann,10.00,1.5,x,true', 'b,Bob,,2,,false', 'c,"Cy, Jr.",3,0,"",true']);
    expect(v1.result).toMatchObject({
      rows: 3,
      previousRows: 0,
      ops: { insert: 3, update: 0, delete: 0 },
      unchanged: 0,
    });
    expect(v1.ops).toEqual([
      { __op: 'insert', id: 'a', name: 'Ann', balance: '10.00', rate: 1.5, code: 'x', active: true },
      { __op: 'insert', id: 'b', name: 'Bob', balance: null, rate: 2, code: null, active: false },
      { __op: 'insert', id: 'c', name: 'Cy, Jr.', balance: '3.00', rate: 0, code: '', active: true },
    ]);
    const same = await delta(
      accounts,
      [HEADER, 'c,"Cy, Jr.",3,0,"",true', 'a,Ann,10.00,1.5,x,true', 'b,Bob,,2,,false'],
      v1.result,
    );
    expect(same.result).toMatchObject({
      rows: 3,
      previousRows: 3,
      ops: { insert: 0, update: 0, delete: 0 },
      unchanged: 3,
    });
    expect(same.ops).toEqual([]);
  });

  it("sees NULL ↔ value both ways and '' vs NULL, and reads numbers by their column's type", async () => {
    const v1 = await delta(accounts, [
      HEADER,
      'a,Ann,10,1.5,x,true',
      'b,Bob,,2,,false',
      'c,Cy,3,0,"",true',
      'd,Di,1,1,1,true',
    ]);
    const v2 = await delta(
      accounts,
      [
        HEADER,
        // 10 → 10.00 and 1.5 → 1.50 are the same numbers; nothing changes for a.
        'a,Ann,10.00,1.50,x,true',
        // NULL → value (balance), NULL → '' (code: a quoted empty field is text).
        'b,Bob,5,2,"",false',
        // '' → NULL (code), value → NULL (rate).
        'c,Cy,3,,,true',
        // 1 → 1.0 in a text column is different text.
        'd,Di,1,1,1.0,true',
      ],
      v1.result,
    );
    expect(v2.result.ops).toEqual({ insert: 0, update: 3, delete: 0 });
    expect(v2.result.unchanged).toBe(1);
    expect(v2.ops).toEqual([
      { __op: 'update', id: 'b', name: 'Bob', balance: '5.00', rate: 2, code: '', active: false },
      { __op: 'update', id: 'c', name: 'Cy', balance: '3.00', rate: null, code: null, active: true },
      { __op: 'update', id: 'd', name: 'Di', balance: '1.00', rate: 1, code: '1.0', active: true },
    ]);
  });

  // BIGINT values come back as their exact text (getRowObjectsJson), not as doubles.
  it('deletes a vanished key, inserts it again when it comes back, on composite keys', async () => {
    const lines = checkTableDef(
      {
        name: 'lines',
        columns: [
          { name: 'order', type: 'integer' },
          { name: 'line', type: 'integer' },
          { name: 'sku', type: 'text' },
        ],
        primaryKey: ['order', 'line'],
        format: { delimiter: '|', quote: "'", header: false, null: '\\N', compression: 'none' },
      },
      'lines.json',
    );
    const v1 = await delta(lines, ['1|1|a', '1|2|b', '2|1|\\N']);
    const v2 = await delta(lines, ['1|1|a', '2|1|c', '2|2|d'], v1.result);
    expect(v2.ops).toEqual([
      { __op: 'delete', order: '1', line: '2', sku: null },
      { __op: 'update', order: '2', line: '1', sku: 'c' },
      { __op: 'insert', order: '2', line: '2', sku: 'd' },
    ]);
    const v3 = await delta(lines, ['1|1|a', "1|2|'b'", '2|1|c', '2|2|d'], v2.result);
    expect(v3.ops).toEqual([{ __op: 'insert', order: '1', line: '2', sku: 'b' }]);
    expect(v3.result).toMatchObject({ rows: 4, previousRows: 3, unchanged: 3 });
  });

  it('reads the shipped example table: four text columns, ";", no header, gzip', async () => {
    const example = new TableRegistry().get('example');
    const v1 = await delta(example, ['K1;a;b;c', 'K2;"x;y";;z'], undefined, true);
    expect(v1.ops).toEqual([
      { __op: 'insert', PK: 'K1', COL2: 'a', COL3: 'b', COL4: 'c' },
      { __op: 'insert', PK: 'K2', COL2: 'x;y', COL3: null, COL4: 'z' },
    ]);
  });
});

describe('an export refused as a whole', () => {
  const refusal = async (lines: string[]) => {
    try {
      await delta(accounts, lines);
    } catch (err) {
      expect(err).toBeInstanceOf(ExportRefusedError);
      const e = err as ExportRefusedError;
      return { message: e.message, rows: e.badRows, total: e.totalBad, status: e.status };
    }
    throw new Error('the export was accepted');
  };

  it('lists the lines the CSV reader refused: a wrong column count, a value not of its type', async () => {
    const r = await refusal([HEADER, 'a,Ann,1,1,x,true', 'b,Bob,1', 'c,Cy,lots,1,x,true', 'd,Di,1,1,x,maybe']);
    expect(r.status).toBe(422);
    expect(r.total).toBe(3);
    expect(r.rows.map((b) => [b.line, b.text])).toEqual([
      [3, 'b,Bob,1'],
      [4, 'c,Cy,lots,1,x,true'],
      [5, 'd,Di,1,1,x,maybe'],
    ]);
    expect(r.rows[0]!.problem).toMatch(/Expected Number of Columns: 6 Found: 3/);
    expect(r.rows[1]!.problem).toMatch(/Could not convert string "lots"/);
    expect(r.message).toBe(
      "3 rows of the export could not be read as accounts's 6 columns (first at line 3); nothing was imported. Fix the file (or the definition in tables/accounts.json) and drop it again.",
    );
  });

  it('refuses an empty export of a table that has rows, a file that is not what the definition says, and a changed definition', async () => {
    const v1 = await delta(accounts, [HEADER, 'a,Ann,1,1,x,true']);
    const work = mkdtempSync(path.join(dir, 'w'));
    const empty = path.join(dir, 'empty.csv');
    writeFileSync(empty, `${HEADER}\n`);
    await expect(
      computeDelta(conn, { def: accounts, next: empty, previous: v1.result.snapshot, workDir: work }),
    ).rejects.toThrow(
      'The export has no rows, and the last applied one had 1: applying it would delete every row of accounts. Nothing was imported; check that the export is complete and drop it again.',
    );
    // The first export of a table may be empty: there is nothing to delete.
    expect((await computeDelta(conn, { def: accounts, next: empty, workDir: work })).rows).toBe(0);
    const notGzip = path.join(dir, 'plain.csv.gz');
    writeFileSync(notGzip, 'K1;a;b;c\n');
    const example = new TableRegistry().get('example');
    const refused = computeDelta(conn, { def: example, next: notGzip, workDir: work });
    await expect(refused).rejects.toBeInstanceOf(ExportRefusedError);
    await expect(refused).rejects.toThrow(
      /^The export cannot be read as tables\/example\.json describes it \(gzip CSV, delimiter ";"\): .+\. Nothing was imported/,
    );
    const wider = checkTableDef(
      { ...accounts, columns: [...accounts.columns, { name: 'w', type: 'text' }] },
      'accounts.json',
    );
    const csv = path.join(dir, 'wider.csv');
    writeFileSync(csv, `${HEADER},w\na,Ann,1,1,x,true,\n`);
    await expect(
      computeDelta(conn, { def: wider, next: csv, previous: v1.result.snapshot, workDir: work }),
    ).rejects.toMatchObject({
      code: 'table_changed',
      status: 409,
      message: expect.stringMatching(
        /^The definition of accounts changed since its last applied export \(then: id VARCHAR, .*balance DECIMAL\(12,2\).*; now: .* w VARCHAR\)/,
      ),
    });
  });

  it('counts a repeated empty key once', async () => {
    const r = await refusal([HEADER, ',A,1,1,x,true', ',B,1,1,x,true', 'c,C,1,1,x,true']);
    expect(r.total).toBe(2);
    expect(r.rows.map((b) => b.row)).toEqual([1, 2]);
  });

  it('lists empty and repeated keys with their rows', async () => {
    const r = await refusal([
      HEADER,
      'a,Ann,1,1,x,true',
      ',NoKey,1,1,x,true',
      'a,Again,1,1,x,true',
      '"",Quoted,1,1,x,true',
    ]);
    expect(r.total).toBe(4);
    expect(r.rows).toEqual([
      { row: 1, problem: 'key id=a appears 2 times' },
      { row: 2, problem: 'empty key (id=NULL)' },
      { row: 3, problem: 'key id=a appears 2 times' },
      { row: 4, problem: 'empty key (id=)' },
    ]);
    expect(r.message).toMatch(/^4 rows have an empty or repeated primary key \(id\); nothing was imported/);
  });
});

describe('table definitions', () => {
  const base = {
    name: 't',
    columns: [{ name: 'id', type: 'text' }],
    primaryKey: ['id'],
    format: { delimiter: ',', quote: '"', header: true, null: '', compression: 'none' },
  };
  it('refuse what cannot be used, saying what to change', () => {
    expect(() => checkTableDef({ ...base, primaryKey: ['nope'] }, 't.json')).toThrow(
      't.json: primary key column nope is not one of the columns.',
    );
    expect(() =>
      checkTableDef({ ...base, columns: [{ name: 'id', type: 'text', sensitive: 'secret' }] }, 't.json'),
    ).toThrow('t.json: /columns/0/sensitive must be equal to one of the allowed values.');
    expect(
      checkTableDef({ ...base, columns: [{ name: 'id', type: 'text', sensitive: 'card' }] }, 't.json').columns,
    ).toEqual([{ name: 'id', type: 'text', sensitive: 'card' }]);
    expect(() =>
      checkTableDef(
        {
          ...base,
          columns: [
            { name: 'id', type: 'text' },
            { name: 'ID', type: 'text' },
          ],
        },
        't.json',
      ),
    ).toThrow('column ID is defined twice');
    expect(() => checkTableDef({ ...base, columns: [{ name: 'id; drop', type: 'text' }] }, 't.json')).toThrow(
      /must match pattern/,
    );
    expect(() => checkTableDef({ ...base, format: { ...base.format, quote: ',' } }, 't.json')).toThrow(
      /delimiter must differ/,
    );
    expect(() => checkTableDef(base, 'other.json')).toThrow('rename it t.json');
    expect(() => checkTableDef({ ...base, columns: [{ name: 'id', type: 'money' }] }, 't.json')).toThrow(
      /must be equal to one of the allowed values/,
    );
  });
  it('say where to add a missing one', () => {
    expect(() => new TableRegistry().get('orders')).toThrow(
      /^No table "orders" is defined \(defined: example\)\. Add its definition as .*tables\/orders\.json \(columns, primaryKey, format: see tables\/example\.json\), then drop the export again\.$/,
    );
  });
});
