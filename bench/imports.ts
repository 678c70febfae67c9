/**
 * Full-export delta benchmark: two exports of a 20-column table (10 text, 5 integer, 5 double columns, 10 % NULLs in
 * each), the second with 10 % of its rows changed: a thirtieth deleted, a thirtieth updated (half of them a NULL ↔
 * value change, half a value changed), a thirtieth added. The delta (lib/imports/delta.ts: CSV read and checked,
 * snapshot and operations written) is timed on DuckDB beside the old system's change test on the same engine and
 * files — rows joined by key and compared as concatenated text — and both are scored against the changes made.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { quoteIdent, quoteString } from '../lib/catalog/types.ts';
import { computeDelta } from '../lib/imports/delta.ts';
import { checkTableDef, type TableDef } from '../lib/imports/tables.ts';
import { envInt, now, progress, QUICK } from './util.ts';

export interface ImportBenchResult {
  rows: number;
  columns: number;
  csvBytes: number;
  truth: { insert: number; update: number; delete: number };
  delta: { ms: number; insert: number; update: number; delete: number; exact: boolean };
  /** The concatenation test: its time and the updates it found and missed (inserts and deletes it finds by key). */
  concat: { ms: number; update: number; missedUpdates: number };
  ratio: number;
  target: { deltaMs: number };
}

const TEXT = 10;
const INTS = 5;
const DOUBLES = 5;

/** The benchmarks' 20-column table (also the end-to-end import's). */
export function exportDefinition(): TableDef {
  const columns = [
    { name: 'PK', type: 'text' },
    ...Array.from({ length: TEXT - 1 }, (_, i) => ({ name: `t${i + 1}`, type: 'text' })),
    ...Array.from({ length: INTS }, (_, i) => ({ name: `i${i + 1}`, type: 'integer' })),
    ...Array.from({ length: DOUBLES }, (_, i) => ({ name: `d${i + 1}`, type: 'double' })),
  ];
  return checkTableDef(
    {
      name: 'bench_export',
      columns,
      primaryKey: ['PK'],
      format: { delimiter: ';', quote: '"', header: false, null: '', compression: 'gzip' },
    },
    'bench_export.json',
  );
}

/** A column's value for row i: deterministic, NULL one time in ten. */
export function exportValue(col: string, type: string, row: string): string {
  const h = `hash(${row}, ${quoteString(col)})`;
  const v =
    type === 'text'
      ? `'v' || (${h} % 100000)::VARCHAR`
      : type === 'integer'
        ? `(${h} % 1000000)::BIGINT`
        : `((${h} % 1000000) / 100.0)::DOUBLE`;
  return `CASE WHEN ${h} % 10 = 0 THEN NULL ELSE ${v} END`;
}

export async function runImportBench(): Promise<ImportBenchResult> {
  const rows = envInt('BENCH_IMPORT_ROWS', QUICK ? 60_000 : 1_000_000);
  const def = exportDefinition();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-imports-'));
  const db = await DuckDBInstance.create(':memory:', { threads: '2' });
  const conn = await db.connect();
  try {
    const cols = def.columns.slice(1);
    const base = cols.map((c) => `${exportValue(c.name, c.type, 'i')} AS ${quoteIdent(c.name)}`).join(', ');
    const v1 = path.join(dir, 'v1.csv.gz');
    const v2 = path.join(dir, 'v2.csv.gz');
    const csv = `(FORMAT csv, DELIMITER ';', HEADER false, COMPRESSION gzip)`;
    progress(
      `imports bench: writing two exports of ${rows.toLocaleString('en-US')} rows x ${def.columns.length} columns`,
    );
    await conn.run(`CREATE TABLE v1 AS SELECT i, 'K' || i AS PK, ${base} FROM range(${rows}) t(i)`);
    await conn.run(`COPY (SELECT * EXCLUDE (i) FROM v1 ORDER BY i) TO ${quoteString(v1)} ${csv}`);
    // i % 30 = 0 deleted; = 1 updated (odd i/30: t1 NULL <-> value; even: t2 changed); new keys appended.
    const t1 = quoteIdent('t1');
    const t2 = quoteIdent('t2');
    const changed = cols
      .map((c) =>
        c.name === 't1'
          ? `CASE WHEN i % 30 = 1 AND (i // 30) % 2 = 1 THEN (CASE WHEN ${t1} IS NULL THEN 'now set' ELSE NULL END) ELSE ${t1} END AS ${t1}`
          : c.name === 't2'
            ? `CASE WHEN i % 30 = 1 AND (i // 30) % 2 = 0 THEN coalesce(${t2}, '') || ' changed' ELSE ${t2} END AS ${t2}`
            : quoteIdent(c.name),
      )
      .join(', ');
    const added = Math.floor(rows / 30);
    await conn.run(
      `COPY (
        SELECT PK, ${changed} FROM v1 WHERE i % 30 <> 0
        UNION ALL
        SELECT 'K' || i, ${base} FROM range(${rows}, ${rows + added}) t(i)
      ) TO ${quoteString(v2)} ${csv}`,
    );
    const truth = {
      insert: added,
      update: Number((await conn.runAndReadAll('SELECT count(*) FROM v1 WHERE i % 30 = 1')).getRows()[0]![0]),
      delete: Number((await conn.runAndReadAll('SELECT count(*) FROM v1 WHERE i % 30 = 0')).getRows()[0]![0]),
    };
    await conn.run('DROP TABLE v1');

    const first = await computeDelta(conn, { def, next: v1, workDir: mkdtempSync(path.join(dir, 'a')) });
    progress('imports bench: delta of the second export');
    let t = now();
    const second = await computeDelta(conn, {
      def,
      next: v2,
      previous: first.snapshot,
      workDir: mkdtempSync(path.join(dir, 'b')),
    });
    const deltaMs = now() - t;

    // The old test: rows joined by key, changed when the concatenations differ (NULL makes a concatenation NULL).
    const concatOf = (alias: string) => cols.map((c) => `CAST(${alias}.${quoteIdent(c.name)} AS VARCHAR)`).join(' || ');
    progress('imports bench: the concatenation test on the same files');
    t = now();
    const concatUpdates = Number(
      (
        await conn.runAndReadAll(
          `WITH n AS (SELECT * FROM read_csv(${quoteString(v2)}, delim = ';', header = false, auto_detect = false, compression = 'gzip', columns = {${def.columns.map((c) => `${quoteString(c.name)}: 'VARCHAR'`).join(', ')}})),
                p AS (SELECT * FROM read_parquet(${quoteString(first.snapshot)}))
           SELECT count(*) FROM n JOIN p ON n.PK = p.PK WHERE (${concatOf('n')}) <> (${concatOf('p')})`,
        )
      ).getRows()[0]![0],
    );
    const concatMs = now() - t;
    return {
      rows,
      columns: def.columns.length,
      csvBytes: statSync(v2).size,
      truth,
      delta: {
        ms: deltaMs,
        ...second.ops,
        exact:
          second.ops.insert === truth.insert &&
          second.ops.update === truth.update &&
          second.ops.delete === truth.delete,
      },
      concat: { ms: concatMs, update: concatUpdates, missedUpdates: truth.update - concatUpdates },
      ratio: deltaMs / concatMs,
      target: { deltaMs: 10_000 },
    };
  } finally {
    conn.closeSync();
    db.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
}
