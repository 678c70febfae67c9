import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
import { parse as parseCsv } from 'csv-parse';
import { parseJson } from '../registry/json.ts';
import type { SchemaVersion } from '../registry/registry.ts';
import { TributaryError } from '../errors.ts';

/** Errors reading an input file for `tributary produce`. */
export class ProduceInputError extends TributaryError {}

export type FileFormat = 'csv' | 'json' | 'ndjson';

/** One event read from a file: a value to send, or raw text that is not JSON (sent as-is so the API quarantines it). */
export interface FileEvent {
  /** 1-based line in the file where the event starts (for error reports). */
  line: number;
  value?: unknown;
  raw?: string;
}

/** Whether a file is gzip, by its first two bytes (1f 8b), whatever its name says. */
async function isGzip(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/**
 * The file's bytes as one stream, gunzipped when it is gzip. A read or gunzip error (a truncated gzip member) ends the
 * returned stream with that error, so whoever iterates it sees it; destroying the returned stream closes the file.
 */
async function openInput(file: string): Promise<Readable> {
  const raw = createReadStream(file);
  if (!(await isGzip(file))) return raw;
  const gunzip = createGunzip();
  raw.on('error', (err) => gunzip.destroy(err));
  gunzip.on('close', () => raw.destroy());
  return raw.pipe(gunzip);
}

/** The first `bytes` of the file's text (after gunzip). */
async function headOf(file: string, bytes = 64 * 1024): Promise<string> {
  const input = await openInput(file);
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      n += chunk.length;
      if (n >= bytes) break;
    }
  } finally {
    input.destroy();
  }
  return Buffer.concat(chunks).subarray(0, bytes).toString('utf8');
}

/** Detects the format from the extension (a `.gz` after it allowed), else from the first non-blank character. */
export async function detectFormat(file: string): Promise<FileFormat> {
  const lower = file.toLowerCase().replace(/\.gz$/, '');
  if (/\.(csv|tsv)$/.test(lower)) return 'csv';
  if (/\.(ndjson|jsonl)$/.test(lower)) return 'ndjson';
  const head = (await headOf(file)).replace(/^\uFEFF/, '');
  const first = head.trimStart()[0];
  if (first === '[') return 'json';
  if (first === '{') {
    // One object spread over lines is JSON; one object per line is NDJSON.
    const firstLine = head.trimStart().split('\n')[0]!.trim();
    try {
      JSON.parse(firstLine);
      return lower.endsWith('.json') && !head.trimStart().slice(firstLine.length).trim() ? 'json' : 'ndjson';
    } catch {
      return 'json';
    }
  }
  if (lower.endsWith('.json')) return 'json';
  return 'csv';
}

/** Maps CSV headers to schema fields: an unnamed index column (pandas writes "" or "Unnamed: 0") becomes `id`. */
export function mapCsvHeader(headers: string[], schema: Record<string, unknown>): (string | undefined)[] {
  const props = (schema.properties ?? {}) as Record<string, unknown>;
  const has = new Set(headers.map((h) => h.trim()));
  let idTaken = has.has('id');
  return headers.map((h) => {
    const name = h.trim();
    if (name === '' || /^Unnamed: ?\d+$/.test(name)) {
      if ('id' in props && !idTaken) {
        idTaken = true;
        return 'id';
      }
      return undefined;
    }
    return name;
  });
}

/**
 * The columns of a CSV file from its first line. A first line that names none of the schema's fields is data, not a
 * header (or the file is of another type): reading it as one would send every row without its fields and the first row
 * nowhere, so the file is refused before anything is sent. The line itself is not repeated: it may hold card numbers.
 */
function csvColumns(file: string, header: string[], schema: Record<string, unknown>): (string | undefined)[] {
  const columns = mapCsvHeader(header, schema);
  const fields = Object.keys((schema.properties ?? {}) as Record<string, unknown>);
  if (!columns.some((c) => c !== undefined && fields.includes(c))) {
    throw new ProduceInputError(
      'no_header',
      `${file} has no header line: its first line names none of the fields of ${String(schema.title ?? 'this type')} (${fields.join(', ')}). Add a first line naming the columns, e.g. "${fields.join(',')}".`,
    );
  }
  return columns;
}

/** Unreadable CSV rows in a row after which the rest of a file is refused (see readCsv). */
const MAX_FAILING_RUN = 100;

async function* readCsv(file: string, sv: SchemaVersion): AsyncGenerator<FileEvent> {
  const input = await openInput(file);
  const parser = input.pipe(
    parseCsv({
      bom: true,
      columns: (header: string[]) => csvColumns(file, header, sv.schema),
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      info: true,
      raw: true,
      trim: false,
    }),
  );
  // Rows csv-parse cannot read are sent as raw text so the API quarantines them instead of them vanishing.
  const skipped: FileEvent[] = [];
  // csv-parse keeps the text of failing records until one parses, and hands all of it to each error: a file that is
  // not CSV as its header says (an unbalanced quote, JSON lines) would cost memory and time quadratic in its length.
  // So many rows in a row that cannot be read refuse the rest of the file instead.
  let failingRun = 0;
  parser.on('skip', (err: { lines?: number; raw?: string; message: string }) => {
    if (++failingRun > MAX_FAILING_RUN) {
      parser.destroy(
        new ProduceInputError(
          'bad_input',
          `${file}: ${MAX_FAILING_RUN} rows in a row up to line ${err.lines ?? '?'} cannot be read as CSV (${err.message}). Check the file's quoting, or whether it is CSV at all; the rows before them were read.`,
        ),
      );
      return;
    }
    skipped.push({ line: err.lines ?? 0, raw: err.raw ?? err.message });
  });
  // pipe() does not pass errors on: a broken input ends the parser with its error, so the loop below throws it.
  input.on('error', (err) => parser.destroy(err));
  try {
    for await (const rec of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
      while (skipped.length) yield skipped.shift()!;
      failingRun = 0;
      yield { line: rec.info.lines, value: sv.coerceCsv({ ...rec.record }) };
    }
    while (skipped.length) yield skipped.shift()!;
  } finally {
    // A reader that stops early (an error downstream) closes the file.
    input.destroy();
  }
}

async function* readNdjson(file: string): AsyncGenerator<FileEvent> {
  // Lines split by hand over the stream's own iterator, which throws the stream's errors (readline would not).
  const input = await openInput(file);
  const decoder = new TextDecoder('utf-8');
  let line = 0;
  let rest = '';
  const event = (text: string): FileEvent | undefined => {
    line++;
    const t = (line === 1 ? text.replace(/^\uFEFF/, '') : text).replace(/\r$/, '');
    if (t.trim() === '') return undefined;
    try {
      return { line, value: parseJson(t) };
    } catch {
      return { line, raw: t };
    }
  };
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      const lines = (rest + decoder.decode(chunk, { stream: true })).split('\n');
      rest = lines.pop()!;
      for (const l of lines) {
        const e = event(l);
        if (e) yield e;
      }
    }
    const last = rest + decoder.decode();
    if (last !== '') {
      const e = event(last);
      if (e) yield e;
    }
  } finally {
    input.destroy();
  }
}

async function* readJson(file: string): AsyncGenerator<FileEvent> {
  const bytes = await readFile(file);
  const text = ((await isGzip(file)) ? gunzipSync(bytes) : bytes).toString('utf8').replace(/^\uFEFF/, '');
  let doc: unknown;
  try {
    doc = parseJson(text);
  } catch (err) {
    throw new ProduceInputError(
      'bad_input',
      `${file} is not valid JSON (${(err as Error).message}). For one event per line use .ndjson.`,
    );
  }
  if (Array.isArray(doc)) {
    for (let i = 0; i < doc.length; i++) yield { line: i + 1, value: doc[i] };
  } else {
    yield { line: 1, value: doc };
  }
}

/** Streams the events of a CSV (with header), JSON (object or array) or NDJSON file, each optionally gzip. */
export async function* readEventsFromFile(
  file: string,
  sv: SchemaVersion,
  format?: FileFormat,
): AsyncGenerator<FileEvent> {
  const fmt = format ?? (await detectFormat(file));
  if (fmt === 'csv') yield* readCsv(file, sv);
  else if (fmt === 'ndjson') yield* readNdjson(file);
  else yield* readJson(file);
}
