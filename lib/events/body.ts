import { parseTree } from 'jsonc-parser';
import { JsonTextError, MAX_EVENT_DEPTH, readJsonStrict } from '../registry/json.ts';
import type { FieldError } from '../registry/registry.ts';
import { MalformedBodyError, PayloadTooLargeError } from './errors.ts';
import { type Framing, LIMITS, MAX_EVENTS_PER_REQUEST } from './limits.ts';

export type BodyFormat = 'object' | 'array' | 'ndjson';

/** One event of a request body: its parsed value, or why it could not be read (an NDJSON line the strict reader refused). */
export interface BodyItem {
  index: number;
  value?: unknown;
  /** Raw text, when the format gives it for free (NDJSON lines, a single object). */
  raw?: string;
  /** `raw` is exactly `JSON.stringify(value)` as read (before any coercion). */
  canonical?: boolean;
  error?: FieldError;
}

export interface ParsedBody {
  format: BodyFormat;
  items: BodyItem[];
  /** Raw text of array element `i`; computed lazily because only rejected events need it. */
  rawOf(index: number): string;
}

function tooMany(n: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`Request has ${n} events; the limit is ${LIMITS}. Split it into smaller requests.`);
}

/**
 * The raw text of each top-level element of a JSON array text, as sent (the quarantine keeps an event's own bytes).
 * Called only for bodies the strict reader already accepted as an array; the offsets come from jsonc-parser's parse
 * tree (VS Code's JSON parser), not from scanning the text here.
 */
export function splitJsonArray(text: string): string[] {
  const tree = parseTree(text, [], { disallowComments: true, allowTrailingComma: false });
  if (tree?.type !== 'array') return [];
  return (tree.children ?? []).map((n) => text.slice(n.offset, n.offset + n.length));
}

/** An NDJSON line as an event, or the reason the strict reader refused it. */
function ndjsonItem(index: number, raw: string): BodyItem {
  try {
    const { value, canonical } = readJsonStrict(raw);
    return { index, raw, value, canonical };
  } catch (err) {
    if (!(err instanceof JsonTextError)) throw err;
    return {
      index,
      raw,
      error: {
        path: err.path,
        keyword: err.keyword,
        message: `NDJSON line ${index + 1} of the request: ${err.message}`,
      },
    };
  }
}

function parseNdjson(text: string): BodyItem[] {
  const items: BodyItem[] = [];
  const lines = text.split('\n');
  for (const line of lines) {
    const raw = line.endsWith('\r') ? line.slice(0, -1) : line;
    // Only a line that starts with white space can be blank; skip the trim copy for the rest.
    if (raw.length === 0 || (raw.charCodeAt(0) <= 32 && raw.trim() === '')) continue;
    if (items.length >= MAX_EVENTS_PER_REQUEST) throw tooMany(lines.filter((l) => l.trim() !== '').length);
    items.push(ndjsonItem(items.length, raw));
  }
  return items;
}

const SEND = 'send one JSON object, a JSON array of objects, or NDJSON with Content-Type: application/x-ndjson';

/**
 * Parses an ingest body with the strict reader (`parseJsonStrict`: valid JSON, no repeated names, Unicode strings,
 * at most {@link MAX_EVENT_DEPTH} levels per event, every digit kept): one JSON object, a JSON array of objects, or
 * NDJSON (by content type, or sniffed when a body that is not one JSON document has several lines). A JSON document
 * the reader refuses is a 400 for the whole body; an NDJSON line it refuses is one rejected event, as a syntax error
 * in either always was. Throws 413 over the event count; the caller has checked the framing and the byte size
 * (limits.ts).
 */
export function parseBody(text: string, framing: Framing = 'json'): ParsedBody {
  if (text.trim() === '')
    throw new MalformedBodyError(`Request body is empty; ${SEND}.`, [
      { path: '/', keyword: 'json', message: 'is empty' },
    ]);
  const single = (items: BodyItem[], format: BodyFormat): ParsedBody => ({
    format,
    items,
    rawOf: (i) => items[i]?.raw ?? '',
  });

  if (framing === 'ndjson') return single(parseNdjson(text), 'ndjson');

  let whole: unknown;
  let canonical: boolean;
  try {
    ({ value: whole, canonical } = readJsonStrict(text, { arrayOfEvents: true }));
  } catch (err) {
    if (!(err instanceof JsonTextError)) throw err;
    if (err.keyword === 'json') {
      const lines = text.split('\n').filter((l) => l.trim() !== '');
      if (lines.length > 1) {
        const items = parseNdjson(text);
        if (items.some((i) => i.error === undefined)) return single(items, 'ndjson');
      }
      throw new MalformedBodyError(`Request body is ${err.message}; ${SEND}.`, [
        { path: err.path, keyword: err.keyword, message: err.message },
      ]);
    }
    throw new MalformedBodyError(
      `Request body is refused${err.path === '/' ? '' : ` at ${err.path}`}: ${err.message}`,
      [{ path: err.path, keyword: err.keyword, message: err.message }],
    );
  }
  if (Array.isArray(whole)) {
    if (whole.length > MAX_EVENTS_PER_REQUEST) throw tooMany(whole.length);
    if (whole.length === 0)
      throw new MalformedBodyError('Request body is an empty JSON array; send at least one event.', [
        { path: '/', keyword: 'type', message: 'is an empty JSON array' },
      ]);
    let raws: string[] | undefined;
    return {
      format: 'array',
      items: whole.map((value, index) => ({ index, value })),
      rawOf: (i) => (raws ??= splitJsonArray(text))[i] ?? JSON.stringify(whole[i]),
    };
  }
  if (whole !== null && typeof whole === 'object')
    return single([{ index: 0, value: whole, raw: text, canonical }], 'object');
  const what = `a JSON ${whole === null ? 'null' : typeof whole}`;
  throw new MalformedBodyError(`Request body is ${what}; send one JSON object, a JSON array of objects, or NDJSON.`, [
    { path: '/', keyword: 'type', message: `is ${what}, not an object` },
  ]);
}
