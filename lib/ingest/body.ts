import { MalformedBodyError, PayloadTooLargeError } from './errors.ts';

/** Request limits of `POST /v1/events/{type}`. */
export const MAX_EVENTS_PER_REQUEST = 500;
export const MAX_BODY_BYTES = 5 * 1024 * 1024;

export type BodyFormat = 'object' | 'array' | 'ndjson';

/** One event of a request body: its parsed value, or why it could not be parsed. */
export interface BodyItem {
  index: number;
  value?: unknown;
  /** Raw text, when the format gives it for free (NDJSON lines, a single object). */
  raw?: string;
  parseError?: string;
}

export interface ParsedBody {
  format: BodyFormat;
  items: BodyItem[];
  /** Raw text of array element `i`; computed lazily because only rejected events need it. */
  rawOf(index: number): string;
}

const NDJSON_TYPES = /(ndjson|jsonl|json-seq|x-json-stream|jsonlines)/i;

export function limitsMessage(): string {
  return `at most ${MAX_EVENTS_PER_REQUEST} events and ${MAX_BODY_BYTES} bytes (5 MiB) per request`;
}

/** Throws 413 when the body is over the byte limit. */
export function assertBodySize(bytes: number): void {
  if (bytes > MAX_BODY_BYTES) {
    throw new PayloadTooLargeError(`Request body is ${bytes} bytes; the limit is ${limitsMessage()}. Split it into smaller requests.`);
  }
}

function tooMany(n: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`Request has ${n} events; the limit is ${limitsMessage()}. Split it into smaller requests.`);
}

/**
 * Returns the raw text of each top-level element of a JSON array text. Only called for bodies already known to be a
 * valid JSON array, so it needs to track strings and nesting, not validate.
 */
export function splitJsonArray(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inString = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
      continue;
    }
    if (c === 34) {
      inString = true;
      if (depth === 1 && start < 0) start = i;
    } else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (depth === 1 && start < 0) start = i;
      depth++;
    } else if (c === 93 /* ] */ || c === 125 /* } */) {
      depth--;
      if (depth === 0) {
        if (start >= 0) out.push(text.slice(start, i).trim());
        break;
      }
    } else if (c === 44 /* , */ && depth === 1) {
      out.push(text.slice(start, i).trim());
      start = -1;
    } else if (depth === 1 && start < 0 && c > 32) {
      start = i;
    }
  }
  return out;
}

function parseNdjson(text: string): BodyItem[] {
  const items: BodyItem[] = [];
  const lines = text.split('\n');
  for (const line of lines) {
    const raw = line.endsWith('\r') ? line.slice(0, -1) : line;
    // Only a line that starts with white space can be blank; skip the trim copy for the rest.
    if (raw.length === 0 || (raw.charCodeAt(0) <= 32 && raw.trim() === '')) continue;
    if (items.length >= MAX_EVENTS_PER_REQUEST) throw tooMany(lines.filter((l) => l.trim() !== '').length);
    const index = items.length;
    try {
      items.push({ index, raw, value: JSON.parse(raw) });
    } catch (err) {
      items.push({ index, raw, parseError: `NDJSON line ${index + 1} of the request is not valid JSON: ${(err as Error).message}` });
    }
  }
  return items;
}

/**
 * Parses an ingest body (with JSON.parse: integers beyond 2^53 in schema fields are detected and re-read losslessly
 * by the caller, see prepareEvents): one JSON object, a JSON array of objects, or NDJSON (by content type, or sniffed when a body
 * that is not one JSON document has several lines). Throws 400 when the body is not JSON at all and 413 over the limits.
 */
export function parseBody(text: string, contentType?: string): ParsedBody {
  assertBodySize(Buffer.byteLength(text));
  if (text.trim() === '') throw new MalformedBodyError('Request body is empty; send one JSON object, a JSON array of objects, or NDJSON.');
  const single = (items: BodyItem[], format: BodyFormat): ParsedBody => ({ format, items, rawOf: (i) => items[i]?.raw ?? '' });

  if (contentType && NDJSON_TYPES.test(contentType)) return single(parseNdjson(text), 'ndjson');

  let whole: unknown;
  try {
    whole = JSON.parse(text);
  } catch (err) {
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    if (lines.length > 1) {
      const items = parseNdjson(text);
      if (items.some((i) => i.parseError === undefined)) return single(items, 'ndjson');
    }
    throw new MalformedBodyError(`Request body is not valid JSON (${(err as Error).message}); send one JSON object, a JSON array of objects, or NDJSON with Content-Type: application/x-ndjson.`);
  }
  if (Array.isArray(whole)) {
    if (whole.length > MAX_EVENTS_PER_REQUEST) throw tooMany(whole.length);
    if (whole.length === 0) throw new MalformedBodyError('Request body is an empty JSON array; send at least one event.');
    let raws: string[] | undefined;
    return {
      format: 'array',
      items: whole.map((value, index) => ({ index, value })),
      rawOf: (i) => (raws ??= splitJsonArray(text))[i] ?? JSON.stringify(whole[i]),
    };
  }
  if (whole !== null && typeof whole === 'object') return single([{ index: 0, value: whole, raw: text }], 'object');
  throw new MalformedBodyError(`Request body is a JSON ${whole === null ? 'null' : typeof whole}; send one JSON object, a JSON array of objects, or NDJSON.`);
}
