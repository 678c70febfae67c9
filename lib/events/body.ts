import { MIMEType } from 'node:util';
import { parseTree } from 'jsonc-parser';
import { JsonTextError, MAX_EVENT_DEPTH, readJsonStrict } from '../registry/json.ts';
import type { FieldError } from '../registry/registry.ts';
import { MalformedBodyError, PayloadTooLargeError, UnsupportedMediaTypeError } from './errors.ts';

/** Request limits of `POST /v1/events/{type}`: one PutRecords call takes at most 500 records. */
export const MAX_EVENTS_PER_REQUEST = 500;
/**
 * Lambda takes at most 6 MiB (6,291,456 bytes) in a synchronous invocation, and API Gateway hands it most bodies
 * base64-encoded (4/3 the size: NDJSON, no content type, anything but text/*, application/json, application/xml and
 * application/javascript) inside an event that also carries up to 10 KiB of headers. 4 MiB of body is 5.33 MiB of
 * base64, so every body within the limit reaches the function; a 5 MiB one (the PutRecords limit, the old figure)
 * would not, and API Gateway would answer 5xx instead of our 413.
 */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Lambda's synchronous invocation payload limit, which {@link MAX_BODY_BYTES} is derived from. */
export const LAMBDA_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;

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

/**
 * How a body's events are framed: `ndjson` one per line; `json` one JSON document (an object or an array of them), or
 * NDJSON when the body is not one JSON document and has several lines (sniffed).
 */
export type Framing = 'json' | 'ndjson';

const JSON_TYPES = new Set(['application/json']);
const NDJSON_TYPES = new Set([
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/x-jsonlines',
  'application/jsonlines',
]);
/**
 * `text/plain` is read like application/json: a browser's `navigator.sendBeacon` with a string and a `fetch` that
 * must avoid a CORS preflight both send it (clickstream comes from browsers).
 */
const TEXT_TYPES = new Set(['text/plain']);
const UTF8_LABELS = new Set(['utf-8', 'utf8']);

/** The media types `POST /v1/events/{type}` accepts, for messages and the README. */
export const ACCEPTED_TYPES =
  'application/json (or any application/*+json), application/x-ndjson (or application/ndjson, application/jsonl, application/x-jsonlines, application/jsonlines) and text/plain, in UTF-8';

/**
 * The framing a `Content-Type` announces (parsed by Node's WHATWG MIME parser), or 415 for anything that is not JSON
 * or NDJSON in UTF-8 (JSON exchanged between systems is UTF-8, RFC 8259 §8.1). No content type reads as JSON.
 */
export function framingOf(contentType: string | undefined): Framing {
  if (contentType === undefined || contentType.trim() === '') return 'json';
  let mime: MIMEType;
  try {
    mime = new MIMEType(contentType);
  } catch {
    throw new UnsupportedMediaTypeError(
      `Content-Type ${JSON.stringify(contentType.slice(0, 200))} is not a media type; send ${ACCEPTED_TYPES}.`,
    );
  }
  const charset = mime.params.get('charset');
  const essence = mime.essence;
  const framing: Framing | undefined =
    JSON_TYPES.has(essence) ||
    TEXT_TYPES.has(essence) ||
    (mime.type === 'application' && mime.subtype.endsWith('+json'))
      ? 'json'
      : NDJSON_TYPES.has(essence)
        ? 'ndjson'
        : undefined;
  if (!framing)
    throw new UnsupportedMediaTypeError(
      `Content-Type ${essence.slice(0, 100)} is not accepted; send ${ACCEPTED_TYPES}.`,
    );
  if (charset !== null && !UTF8_LABELS.has(charset.toLowerCase())) {
    throw new UnsupportedMediaTypeError(
      `charset=${charset.slice(0, 40)} is not accepted: JSON is exchanged as UTF-8 (RFC 8259 §8.1); send the body as UTF-8 with charset=utf-8 or no charset.`,
    );
  }
  return framing;
}

export function limitsMessage(): string {
  return `at most ${MAX_EVENTS_PER_REQUEST} events and ${MAX_BODY_BYTES} bytes (${MAX_BODY_BYTES / 1024 / 1024} MiB) per request`;
}

/** Throws 413 when the body is over the byte limit. */
export function assertBodySize(bytes: number): void {
  if (bytes > MAX_BODY_BYTES) {
    throw new PayloadTooLargeError(
      `Request body is ${bytes} bytes; the limit is ${limitsMessage()}. Split it into smaller requests.`,
    );
  }
}

function tooMany(n: number): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `Request has ${n} events; the limit is ${limitsMessage()}. Split it into smaller requests.`,
  );
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
 * in either always was. Throws 413 over the limits and 415 for a content type that is not JSON.
 */
export function parseBody(text: string, contentType?: string): ParsedBody {
  const framing = framingOf(contentType);
  assertBodySize(Buffer.byteLength(text));
  if (text.trim() === '') throw new MalformedBodyError(`Request body is empty; ${SEND}.`);
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
      throw new MalformedBodyError('Request body is an empty JSON array; send at least one event.');
    let raws: string[] | undefined;
    return {
      format: 'array',
      items: whole.map((value, index) => ({ index, value })),
      rawOf: (i) => (raws ??= splitJsonArray(text))[i] ?? JSON.stringify(whole[i]),
    };
  }
  if (whole !== null && typeof whole === 'object')
    return single([{ index: 0, value: whole, raw: text, canonical }], 'object');
  throw new MalformedBodyError(
    `Request body is a JSON ${whole === null ? 'null' : typeof whole}; send one JSON object, a JSON array of objects, or NDJSON.`,
  );
}
