import { createHash } from 'node:crypto';
import { LAKE_DAYS, outsideLakeDays } from './layout/lake-days.ts';
import { TributaryError } from './errors.ts';
import { newId } from './ids.ts';
import { firstLoneSurrogate } from './util/unicode.ts';
import type { EventTimeFormat, EventType, FieldError } from './registry/registry.ts';

/** Where an envelope came from (architecture.md §4). */
export type EnvelopeSource = 'api' | 'redrive' | 'import' | 'producer';

export interface RedriveInfo {
  job: string;
  at: string;
  by: string;
  attempt: number;
  /**
   * The stage that quarantined the record. A record the OLTP sink refused was already written to the lake, so the
   * lake writer leaves its re-drive to the sink (the lake never holds an event twice).
   */
  stage?: string;
}

/** One record on the stream. */
export interface Envelope {
  id: string;
  type: string;
  v: number;
  received_at: string;
  event_time: string;
  source: string;
  data: unknown;
  redrive?: RedriveInfo;
}

/** Errors reading an envelope off the stream. */
export class EnvelopeError extends TributaryError {}

const ISO_MS = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$/;
const DATETIME_SPACE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})[ T]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,3})?$/;
/** Kinesis partition keys are at most 256 Unicode characters. */
const MAX_PARTITION_KEY = 256;
/** The first day the lake's tables show, and the last an ISO-8601 date with a four-digit year can write. */
const MIN_EVENT_MS = Date.parse(LAKE_DAYS.first);
const MAX_EVENT_MS = Date.UTC(9999, 11, 31, 23, 59, 59);

/**
 * Converts an event-time value in the type's declared format to ISO-8601 UTC with milliseconds, or returns an error
 * message when the value cannot be a point in time (e.g. 2024-02-30 passes a pattern but is not a date).
 */
export function toIsoTime(value: unknown, format: EventTimeFormat): string | { error: string } {
  let ms: number;
  switch (format) {
    case 'datetime-space': {
      const m = typeof value === 'string' ? DATETIME_SPACE.exec(value) : null;
      if (!m) return { error: 'must be a date-time "YYYY-MM-DD HH:MM:SS"' };
      const y = Number(m[1]);
      const mo = Number(m[2]);
      const d = Number(m[3]);
      if (
        mo < 1 ||
        mo > 12 ||
        d < 1 ||
        d > daysInMonth(y, mo) ||
        Number(m[4]) > 23 ||
        Number(m[5]) > 59 ||
        Number(m[6]) > 59
      ) {
        return { error: `${JSON.stringify(value)} is not a real calendar date-time` };
      }
      // Already UTC and in range: build the ISO text directly (this runs once per event on the ingest hot path).
      return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7] ? m[7].slice(1).padEnd(3, '0') : '000'}Z`;
    }
    case 'unix-seconds':
    case 'unix-millis': {
      const n =
        typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      if (!Number.isFinite(n))
        return { error: `must be a unix timestamp in ${format === 'unix-seconds' ? 'seconds' : 'milliseconds'}` };
      ms = format === 'unix-seconds' ? Math.round(n * 1000) : Math.round(n);
      break;
    }
    case 'iso8601': {
      ms = typeof value === 'string' ? Date.parse(value) : NaN;
      if (Number.isNaN(ms)) return { error: 'must be an ISO-8601 date-time' };
      break;
    }
  }
  if (!(ms >= MIN_EVENT_MS && ms <= MAX_EVENT_MS))
    return { error: `${JSON.stringify(value)} is outside ${LAKE_DAYS.first}..9999-12-31` };
  return new Date(ms).toISOString();
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Text form of an id or partition-key value; `undefined` when the value cannot serve as one. */
function keyText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length > 0 ? value : undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** The event's own id (from the type's id field) when it has a usable one, else `undefined`. */
export function eventIdOf(type: EventType, data: unknown): string | undefined {
  if (!type.getId) return undefined;
  const id = keyText(type.getId(data));
  return id !== undefined && id.length <= 1024 ? id : undefined;
}

/** The Kinesis partition key: the type's key field, else the event id; hashed when longer than Kinesis allows. */
export function partitionKeyOf(type: EventType, data: unknown, id: string): string {
  const raw = (type.getPartitionKey && keyText(type.getPartitionKey(data))) || id;
  return raw.length <= MAX_PARTITION_KEY ? raw : createHash('sha256').update(raw).digest('hex');
}

export interface EnvelopeInput {
  type: EventType;
  v: number;
  data: unknown;
  receivedAt: string;
  source: EnvelopeSource | string;
  /** Keeps the original id on re-drive. */
  id?: string;
  redrive?: RedriveInfo;
  /** When the envelope is written (ms; default now): the last day the lake shows counts from it or `receivedAt`. */
  now?: number;
}

export type EnvelopeResult =
  | { ok: true; envelope: Envelope; partitionKey: string }
  | { ok: false; errors: FieldError[] };

/**
 * Wraps a validated event in the stream envelope: resolves its id (own id field, else a new UUIDv7), its event time
 * (the type's event-time field in its declared format, else the received time) and its partition key. An event time
 * outside the days the lake's tables show (`LAKE_DAYS` in the catalog, which also sets Athena's projection) is refused
 * at its field, so nothing accepted lands where Athena cannot see it; a re-drive counts from when it is written.
 */
export function buildEnvelope(input: EnvelopeInput): EnvelopeResult {
  const { type, data } = input;
  let eventTime = input.receivedAt;
  if (type.manifest.eventTime && type.getEventTime) {
    const raw = type.getEventTime(data);
    if (raw !== undefined && raw !== null) {
      const pointer = type.manifest.eventTime.pointer;
      const iso = toIsoTime(raw, type.manifest.eventTime.format);
      if (typeof iso !== 'string')
        return { ok: false, errors: [{ path: pointer, keyword: 'format', message: iso.error }] };
      const now = input.now ?? Date.now();
      const received = Date.parse(input.receivedAt);
      const outside = outsideLakeDays(Date.parse(iso), Number.isFinite(received) ? Math.max(received, now) : now);
      if (outside)
        return {
          ok: false,
          errors: [{ path: pointer, keyword: 'range', message: `${JSON.stringify(raw)} (${iso}) ${outside}` }],
        };
      eventTime = iso;
    }
  }
  const id = input.id ?? eventIdOf(type, data) ?? newId();
  const envelope: Envelope = {
    id,
    type: type.name,
    v: input.v,
    received_at: input.receivedAt,
    event_time: eventTime,
    source: input.source,
    data,
  };
  if (input.redrive) envelope.redrive = input.redrive;
  return { ok: true, envelope, partitionKey: partitionKeyOf(type, data, id) };
}

/**
 * Serializes an envelope as one line of JSON (what goes on the stream and, unchanged, into the lake). `dataJson`, when
 * given, must be exactly `JSON.stringify(envelope.data)` (the event's own text when it was canonical): the line is then
 * assembled around it, byte for byte what JSON.stringify makes of the whole envelope, without serializing data again.
 */
export function serializeEnvelope(envelope: Envelope, dataJson?: string): string {
  if (dataJson === undefined) return JSON.stringify(envelope);
  const { data: _data, redrive, ...head } = envelope;
  const before = JSON.stringify(head);
  return `${before.slice(0, -1)},"data":${dataJson}${redrive ? `,"redrive":${JSON.stringify(redrive)}` : ''}}`;
}

/**
 * Reads an envelope from stream bytes, checking the fields every consumer relies on. Throws {@link EnvelopeError}
 * (code `malformed_json` or `invalid_envelope`) with a message saying what is wrong. `parse` lets a consumer that
 * needs every digit of long integers (the OLTP sink) read the text losslessly.
 */
export function parseEnvelope(text: string, parse: (text: string) => unknown = JSON.parse): Envelope {
  let value: unknown;
  try {
    value = parse(text);
  } catch (err) {
    throw new EnvelopeError('malformed_json', `Record is not JSON: ${(err as Error).message}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new EnvelopeError('invalid_envelope', 'Record is not a JSON object envelope.');
  }
  const e = value as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof e.id !== 'string' || e.id === '') problems.push('"id" must be a non-empty string');
  if (typeof e.type !== 'string' || e.type === '') problems.push('"type" must be a non-empty string');
  if (typeof e.v !== 'number' || !Number.isInteger(e.v)) problems.push('"v" must be an integer');
  if (typeof e.received_at !== 'string') problems.push('"received_at" must be an ISO-8601 string');
  if (typeof e.event_time !== 'string' || Number.isNaN(Date.parse(e.event_time)))
    problems.push('"event_time" must be an ISO-8601 string');
  else {
    // A producer writing to the stream itself gets the rule ingest applies (buildEnvelope): nothing lands on a day
    // Athena's projection does not show. Read later than written, "now" only moves the last day further out.
    const outside = outsideLakeDays(Date.parse(e.event_time), Date.now());
    if (outside) problems.push(`"event_time" ${JSON.stringify(e.event_time)} ${outside}`);
  }
  if (typeof e.source !== 'string') problems.push('"source" must be a string');
  if (!('data' in e)) problems.push('"data" is missing');
  // Ingest refuses them (lib/registry/json.ts); a producer writing to the stream itself must not put text in the lake
  // that DuckDB cannot read back. A lone surrogate can only arrive as a \u escape.
  const notText = text.includes('\\u') ? firstLoneSurrogate(e) : null;
  if (notText !== null)
    problems.push(`${notText} has an unpaired surrogate escape (such as \\ud800) and is not Unicode text`);
  if (problems.length)
    throw new EnvelopeError('invalid_envelope', `Record is not a Tributary envelope: ${problems.join('; ')}.`);
  if (!ISO_MS.test(e.event_time as string)) e.event_time = new Date(Date.parse(e.event_time as string)).toISOString();
  return e as unknown as Envelope;
}
