import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { SOURCE_COLUMN, dedupeRank, dedupeRanksFirst, type TableDef } from '../catalog/catalog.ts';
import { duckRawSelect, type LocalObjectLayout } from '../catalog/duckdb.ts';
import { quoteIdent, quoteString } from '../catalog/types.ts';
import { errorMessage } from '../errors.ts';

export interface Copied {
  /** Rows written. */
  rows: number;
  /** Rows read but not written: copies of an event that another copy (in the chunk or in `competitors`) ranks before. */
  duplicates: number;
}

/**
 * Writes the rows of the JSONL files matching `glob` as one Parquet file sorted by event time, one row per event under
 * the table's dedupe rule: among the chunk's copies of an event the first-ranked, and none where a row of the Parquet
 * files `competitors` (the same partition-hour, so the same partition values) ranks at or before it.
 */
export async function copyToParquet(
  c: DuckDBConnection,
  t: TableDef,
  layout: LocalObjectLayout,
  glob: string,
  to: string,
  competitors: string[] = [],
): Promise<Copied> {
  const cols = [...t.columns.map((col) => `r.${quoteIdent(col.name)}`), `r._key AS ${quoteIdent(SOURCE_COLUMN)}`];
  // The rows once, in a temporary table: counting them and sorting them for the COPY both need them all anyway.
  await c.run(`CREATE OR REPLACE TEMP TABLE _rows AS ${duckRawSelect(t, layout, glob)}`);
  try {
    const read = Number((await c.runAndReadAll('SELECT count(*) FROM _rows')).getRows()[0]![0]);
    const rule = t.dedupe;
    let filter = '';
    if (rule && competitors.length) {
      const held = `read_parquet([${competitors.map(quoteString).join(', ')}], hive_partitioning = false)`;
      filter = ` WHERE NOT EXISTS (SELECT 1 FROM ${held} h WHERE h.${quoteIdent(rule.key)} = r.${quoteIdent(rule.key)} AND ${dedupeRanksFirst(rule, { alias: 'h', source: SOURCE_COLUMN }, { alias: 'r', source: '_key' })})`;
    }
    const qualify = rule ? ` QUALIFY ${dedupeRank(rule, '_key')} = 1` : '';
    // COPY answers with the number of rows it wrote.
    const copied = await c.runAndReadAll(
      `COPY (SELECT ${cols.join(', ')} FROM _rows r${filter}${qualify} ORDER BY r.${quoteIdent(t.timeColumn)}, r._key) TO ${quoteString(to)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`,
    );
    const rows = Number(copied.getRows()[0]![0]);
    return { rows, duplicates: read - rows };
  } finally {
    await c.run('DROP TABLE IF EXISTS _rows');
  }
}

/**
 * DuckDB's refusal to read a JSONL file as the table (every column converted, nothing written), or undefined when it
 * reads. Only refusals caused by the bytes count; any other failure (memory, scratch space) is thrown.
 */
export async function refusal(
  c: DuckDBConnection,
  t: TableDef,
  layout: LocalObjectLayout,
  file: string,
): Promise<string | undefined> {
  const cols = t.columns.map((col) => quoteIdent(col.name)).join(', ');
  try {
    await c.runAndReadAll(`SELECT count(hash(${cols})) FROM (${duckRawSelect(t, layout, file)})`);
    return undefined;
  } catch (err) {
    const message = errorMessage(err);
    if (/^(Invalid Input|Conversion) Error/.test(message) || /not a GZIP stream/i.test(message)) return message;
    throw err;
  }
}

/** DuckDB names the scratch copy of an object; say the object's key instead, and drop the SQL it quotes. */
export function cleanFileError(message: string, root: string): string {
  return message
    .split(`${root}${path.sep}`)
    .join('')
    .replace(/\n\nLINE \d+:[\s\S]*$/, '')
    .trim();
}
