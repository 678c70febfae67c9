import { MIMEType } from 'node:util';
import { PayloadTooLargeError, UnsupportedMediaTypeError } from './errors.ts';

/*
 * The limits and framing of a request's body, checked at the edge before anything reads the events (the ingest API
 * on the bytes it received, a re-drive on the fixed event), so body.ts only parses.
 */

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

/** The limits, as the end of a sentence (in 413 answers and the gateway's refusal). */
export const LIMITS = `at most ${MAX_EVENTS_PER_REQUEST} events and ${MAX_BODY_BYTES} bytes (${MAX_BODY_BYTES / 1024 / 1024} MiB) per request`;

/** {@link LIMITS}, for callers that format it. */
export function limitsMessage(): string {
  return LIMITS;
}

/** Throws 413 when the body is over the byte limit. */
export function assertBodySize(bytes: number): void {
  if (bytes > MAX_BODY_BYTES) {
    throw new PayloadTooLargeError(
      `Request body is ${bytes} bytes; the limit is ${limitsMessage()}. Split it into smaller requests.`,
    );
  }
}
