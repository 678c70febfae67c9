import type { Readable } from 'node:stream';
import { parse as parseCsv } from 'csv-parse';
import { csvText } from '../util/csv.ts';
import { isNumericType } from './engine.ts';

const CSV_CHUNK_ROWS = 1000;

/**
 * Athena's CSV (a header, then every value quoted as text) re-written with the column types of its result set, so a
 * number stays a number and no text cell can be read as a formula.
 */
export async function* athenaCsv(body: Readable, types: Map<string, string>): AsyncIterable<string> {
  let columns: { name: string; numeric: boolean }[] | undefined;
  let rows: string[][] = [];
  let first = true;
  for await (const record of body.pipe(parseCsv({ relax_column_count: false, bom: true })) as AsyncIterable<string[]>) {
    if (!columns) {
      columns = record.map((name) => ({ name, numeric: isNumericType(types.get(name) ?? 'varchar') }));
      continue;
    }
    rows.push(record);
    if (rows.length >= CSV_CHUNK_ROWS) {
      yield csvText(columns, rows, { header: first });
      first = false;
      rows = [];
    }
  }
  if (columns && (rows.length || first)) yield csvText(columns, rows, { header: first });
}

/** `s3://bucket/key` → its parts (Athena's OutputLocation). */
export function s3Location(uri: string): { bucket: string; key: string } | null {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  return m ? { bucket: m[1]!, key: m[2]! } : null;
}

/** A stored CSV as text chunks. */
export async function* chunksOf(body: Readable): AsyncIterable<string> {
  // Decoded by the stream, so a character split across two chunks stays whole.
  for await (const chunk of body.setEncoding('utf8')) yield chunk as string;
}
