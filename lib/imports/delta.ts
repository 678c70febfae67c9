import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteIdent, quoteString } from '../catalog/types.ts';
import { errorMessage } from '../errors.ts';
import { type BadRow, ExportRefusedError, TableChangedError } from './errors.ts';
import { duckdbType, type TableDef } from './tables.ts';

/*
 * The delta between two full exports of a table, by primary key, computed by DuckDB: INSERT for keys only the new
 * export has, DELETE for keys only the previous one had, UPDATE for keys whose row differs in any column, compared
 * NULL-safely (IS DISTINCT FROM) on the columns' types, so NULL ↔ value changes count, '' and NULL differ, and 1 and
 * 1.0 are the same number in a numeric column (and different text in a text one). The old system compared the
 * concatenated columns as text, which misses NULL ↔ '' and reads NULL as "nothing changed".
 */

// Names are plain identifiers already; quoting keeps keywords such as `order` usable as column names.
const ident = quoteIdent;
const literal = quoteString;

/** How many bad rows a refusal lists (the total is counted in full). */
export const BAD_ROWS_LISTED = 20;

export interface DeltaInput {
  def: TableDef;
  /** The new export: a CSV file as the definition's format describes it. */
  next: string;
  /** The previous applied export's snapshot (Parquet, as this function writes it); absent for the first export. */
  previous?: string;
  /** Where the snapshot and the operations are written. */
  workDir: string;
}

export interface DeltaResult {
  rows: number;
  previousRows: number;
  ops: { insert: number; update: number; delete: number };
  unchanged: number;
  /** The new export as typed rows (Parquet, ZSTD): the next delta's `previous`. */
  snapshot: string;
  /**
   * One row per operation, ordered by key: `__op`, then every column (the new row; for a delete, only the key), then
   * `__seq` (1, 2, … in key order).
   */
  opsFile: string;
}

/**
 * The previous snapshot has the columns the definition has now: a delta across a changed definition would read
 * every row as changed, or fail on a column the snapshot lacks.
 */
async function sameColumns(conn: DuckDBConnection, def: TableDef, previous: string): Promise<void> {
  const r = await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${literal(previous)})`);
  // Types as DuckDB spells them, without spaces (DECIMAL(12,2) either way).
  const then = r.getRows().map(([name, type]) => `${String(name)} ${String(type).replace(/\s+/g, '')}`);
  const now = def.columns.map((c) => `${c.name} ${duckdbType(c).replace(/\s+/g, '')}`);
  if (then.join(',') !== now.join(','))
    throw new TableChangedError(
      `The definition of ${def.name} changed since its last applied export (then: ${then.join(', ')}; now: ${now.join(', ')}). Changing an imported table's columns is not supported: restore tables/${def.name}.json, or import under a new table name.`,
    );
}

/** The CSV reader of a table's export files: every setting from the definition, nothing guessed from the data. */
function readCsv(def: TableDef, file: string, rejects?: { table: string; scan: string }): string {
  const f = def.format;
  const columns = def.columns.map((c) => `${literal(c.name)}: ${literal(duckdbType(c))}`).join(', ');
  const options = [
    `delim = ${literal(f.delimiter)}`,
    `quote = ${literal(f.quote)}`,
    `escape = ${literal(f.escape ?? f.quote)}`,
    `header = ${f.header}`,
    `nullstr = ${literal(f.null)}`,
    // A quoted field is always text: "" is the empty string, only the unquoted null token is NULL.
    'allow_quoted_nulls = false',
    `compression = ${literal(f.compression === 'gzip' ? 'gzip' : 'none')}`,
    `columns = {${columns}}`,
    'auto_detect = false',
    ...(rejects
      ? ['store_rejects = true', `rejects_table = ${literal(rejects.table)}`, `rejects_scan = ${literal(rejects.scan)}`]
      : []),
  ];
  return `read_csv(${literal(file)}, ${options.join(', ')})`;
}

async function count(conn: DuckDBConnection, sql: string): Promise<number> {
  const r = await conn.runAndReadAll(sql);
  return Number(r.getRows()[0]![0]);
}

/**
 * Reads the new export, refuses it as a whole when any row is malformed or any key is empty or repeated, and writes
 * its snapshot and its operations against the previous snapshot.
 *
 * @throws ExportRefusedError (422) listing the first bad rows: lines the CSV reader refused (wrong column count, a
 *   value not of its column's type), then empty and repeated keys.
 */
export async function computeDelta(conn: DuckDBConnection, input: DeltaInput): Promise<DeltaResult> {
  const { def } = input;
  const cols = def.columns.map((c) => ident(c.name));
  const keys = def.primaryKey.map(ident);
  await conn.run(
    'DROP TABLE IF EXISTS next_rows; DROP TABLE IF EXISTS prev_rows; DROP TABLE IF EXISTS import_rejects; DROP TABLE IF EXISTS import_reject_scans;',
  );
  try {
    await conn.run(
      `CREATE TEMP TABLE next_rows AS SELECT * FROM ${readCsv(def, input.next, { table: 'import_rejects', scan: 'import_reject_scans' })}`,
    );
  } catch (err) {
    // Rows it cannot parse are rejects (below); what fails the whole read is the file itself: not gzip when the
    // definition says gzip, not text, cut off mid-stream.
    throw new ExportRefusedError(
      `The export cannot be read as tables/${def.name}.json describes it (${def.format.compression === 'gzip' ? 'gzip ' : ''}CSV, delimiter ${JSON.stringify(def.format.delimiter)}): ${errorMessage(err).split('\n')[0]}. Nothing was imported; check the file (or the definition's format) and drop it again.`,
      [],
      0,
    );
  }
  const rejected = await conn.runAndReadAll(
    'SELECT line, csv_line, error_message FROM import_rejects ORDER BY line, column_idx',
  );
  const bad: BadRow[] = [];
  const badLines = new Set<number>();
  for (const [line, text, message] of rejected.getRows()) {
    const n = Number(line);
    if (badLines.has(n)) continue;
    badLines.add(n);
    bad.push({ line: n, text: String(text ?? ''), problem: String(message) });
  }
  if (bad.length) {
    throw new ExportRefusedError(
      `${bad.length} row${bad.length === 1 ? '' : 's'} of the export could not be read as ${def.name}'s ${def.columns.length} columns (first at line ${bad[0]!.line}); nothing was imported. Fix the file (or the definition in tables/${def.name}.json) and drop it again.`,
      bad.slice(0, BAD_ROWS_LISTED),
      bad.length,
    );
  }
  await keyProblems(conn, input);
  if (input.previous) await sameColumns(conn, def, input.previous);
  const prev = input.previous
    ? `read_parquet(${literal(input.previous)})`
    : `(SELECT ${def.columns.map((c) => `CAST(NULL AS ${duckdbType(c)}) AS ${ident(c.name)}`).join(', ')} WHERE false)`;
  await conn.run(`CREATE TEMP TABLE prev_rows AS SELECT ${cols.join(', ')} FROM ${prev}`);
  const on = keys.map((k) => `n.${k} = p.${k}`).join(' AND ');
  const changed = def.columns
    .filter((c) => !def.primaryKey.includes(c.name))
    .map((c) => `n.${ident(c.name)} IS DISTINCT FROM p.${ident(c.name)}`);
  const snapshot = path.join(input.workDir, 'snapshot.parquet');
  const opsFile = path.join(input.workDir, 'ops.parquet');
  await conn.run(`COPY next_rows TO ${literal(snapshot)} (FORMAT parquet, COMPRESSION zstd)`);
  const rowOf = def.columns.map((c) =>
    def.primaryKey.includes(c.name)
      ? `coalesce(n.${ident(c.name)}, p.${ident(c.name)}) AS ${ident(c.name)}`
      : `n.${ident(c.name)} AS ${ident(c.name)}`,
  );
  // `__seq` numbers the operations in key order once, here: publishing (and resuming it) goes by it, whatever a later
  // definition says the key is.
  await conn.run(
    `COPY (
      SELECT *, row_number() OVER (ORDER BY ${keys.join(', ')}) AS __seq FROM (
        SELECT CASE WHEN p.__in IS NULL THEN 'insert' WHEN n.__in IS NULL THEN 'delete' ELSE 'update' END AS __op,
               ${rowOf.join(', ')}
          FROM (SELECT *, true AS __in FROM next_rows) n
          FULL JOIN (SELECT *, true AS __in FROM prev_rows) p ON ${on}
         WHERE p.__in IS NULL OR n.__in IS NULL${changed.length ? ` OR ${changed.join(' OR ')}` : ''}
      )
      ORDER BY __seq
    ) TO ${literal(opsFile)} (FORMAT parquet, COMPRESSION zstd)`,
  );
  const byOp = await conn.runAndReadAll(`SELECT __op, count(*) FROM read_parquet(${literal(opsFile)}) GROUP BY __op`);
  const ops = { insert: 0, update: 0, delete: 0 };
  for (const [op, n] of byOp.getRows()) ops[op as keyof typeof ops] = Number(n);
  const rows = await count(conn, 'SELECT count(*) FROM next_rows');
  const previousRows = await count(conn, 'SELECT count(*) FROM prev_rows');
  if (rows === 0 && previousRows > 0)
    // An empty file is far likelier a failed export than a table that lost every row.
    throw new ExportRefusedError(
      `The export has no rows, and the last applied one had ${previousRows}: applying it would delete every row of ${def.name}. Nothing was imported; check that the export is complete and drop it again.`,
      [],
      0,
    );
  return { rows, previousRows, ops, unchanged: rows - ops.insert - ops.update, snapshot, opsFile };
}

/**
 * Empty keys (NULL, or '' in a text column) and keys that appear more than once, with their row numbers (rows of
 * data, 1-based; a quoted field may span lines, so not line numbers): found again in one ordered pass (a single
 * thread reads the file in order), only when there is something to report.
 */
async function keyProblems(conn: DuckDBConnection, input: DeltaInput): Promise<void> {
  const { def } = input;
  const keyCols = def.columns.filter((c) => def.primaryKey.includes(c.name));
  const empty = keyCols.map((c) => `${ident(c.name)} IS NULL${c.type === 'text' ? ` OR ${ident(c.name)} = ''` : ''}`);
  const keys = def.primaryKey.map(ident).join(', ');
  // One count of the rows with either problem: a NULL key that repeats is one bad row, not two.
  const total = await count(
    conn,
    `SELECT count(*) FROM (SELECT (${empty.join(' OR ')}) AS empty, count(*) OVER (PARTITION BY ${keys}) AS times FROM next_rows) WHERE empty OR times > 1`,
  );
  if (!total) return;
  const threads = Number((await conn.runAndReadAll("SELECT current_setting('threads')")).getRows()[0]![0]);
  await conn.run('SET threads = 1');
  let rows: BadRow[];
  try {
    const keyText = def.primaryKey.map((k) => `${literal(`${k}=`)} || coalesce(CAST(${ident(k)} AS VARCHAR), 'NULL')`);
    const r = await conn.runAndReadAll(
      `WITH numbered AS (SELECT *, row_number() OVER () AS __row FROM ${readCsv(def, input.next)})
       SELECT __row, ${keyText.join(` || ', ' || `)} AS key, (${empty.join(' OR ')}) AS empty,
              count(*) OVER (PARTITION BY ${keys}) AS times
         FROM numbered
        QUALIFY empty OR times > 1
        ORDER BY __row
        LIMIT ${BAD_ROWS_LISTED}`,
    );
    rows = r.getRows().map(([row, key, isEmpty, times]) => {
      const n = Number(row);
      return {
        row: n,
        problem: isEmpty ? `empty key (${key})` : `key ${key} appears ${Number(times)} times`,
      };
    });
  } finally {
    await conn.run(`SET threads = ${threads}`);
  }
  throw new ExportRefusedError(
    `${total} row${total === 1 ? ' has' : 's have'} an empty or repeated primary key (${def.primaryKey.join(', ')}); nothing was imported. An export holds each key once.`,
    rows,
    total,
  );
}
