import type { RedriveInfo } from '../envelope.ts';
import { errorMessage } from '../errors.ts';
import { MalformedBodyError, PayloadTooLargeError } from '../events/errors.ts';
import { MAX_BODY_BYTES } from '../events/limits.ts';
import { prepareEvents } from '../events/prepare.ts';
import { parseJson } from '../registry/json.ts';
import type { FieldError, Registry } from '../registry/registry.ts';
import { type PutEntry, RECORD_MAX_BYTES } from '../stream/put-records.ts';
import { decodePayload, type QuarantineReason, type QuarantineRecord } from './record.ts';

/** The event inside a quarantined record, as a re-drive sees it. */
export interface RedriveSource {
  /** The event type; absent when the record never had one (an unknown or missing type). */
  type?: string;
  /** The event's JSON text (what the fix editor edits). */
  event: string;
  id: string;
  receivedAt: string;
  /** The schema version it failed (or was written with). */
  v?: number;
}

/**
 * The event a quarantined record holds. Records from stream consumers (`lake-writer`, `oltp-sink`) hold what was on
 * the stream: when that is an envelope, even a broken one (a producer writing to the stream directly with a missing
 * `v` or a bad time), the event is its `data` and its id, type and received time are kept. Records from `ingest`,
 * `redrive` and `import` hold the event as the producer sent it.
 */
export function redriveSource(rec: QuarantineRecord): RedriveSource {
  const text = decodePayload(rec).toString('utf8');
  if (rec.stage === 'lake-writer' || rec.stage === 'oltp-sink') {
    let envelope: Record<string, unknown> | undefined;
    try {
      const v = parseJson(text);
      if (v && typeof v === 'object' && !Array.isArray(v)) envelope = v as Record<string, unknown>;
    } catch {
      // Not JSON (that may be why it was quarantined): the payload is all there is to fix.
    }
    if (envelope && typeof envelope.type === 'string' && 'data' in envelope) {
      const str = (k: string, fallback: string) =>
        typeof envelope[k] === 'string' && envelope[k] !== '' ? (envelope[k] as string) : fallback;
      const receivedAt = str('received_at', rec.received_at);
      return {
        type: envelope.type,
        event: JSON.stringify(envelope.data),
        id: str('id', rec.id),
        receivedAt: Number.isNaN(Date.parse(receivedAt))
          ? rec.received_at
          : new Date(Date.parse(receivedAt)).toISOString(),
        ...(typeof envelope.v === 'number' ? { v: envelope.v } : {}),
      };
    }
  }
  return {
    ...(rec.type !== undefined ? { type: rec.type } : {}),
    event: text,
    id: rec.id,
    receivedAt: rec.received_at,
    ...(rec.v !== undefined ? { v: rec.v } : {}),
  };
}

/**
 * The stage where a quarantined event first failed: its own stage, or, for a record a re-drive quarantined again, the
 * stage it was re-driven from. Goes on the stream as `redrive.stage`, so the lake writer can leave the re-drive of an
 * event the OLTP sink refused to the sink however many re-drives it took.
 */
export function originStage(rec: Pick<QuarantineRecord, 'stage' | 'origin_stage'>): QuarantineRecord['stage'] {
  return rec.origin_stage ?? rec.stage;
}

/** An operator's edit of one record: the corrected event text, and optionally the type it should be. */
export interface RecordFix {
  event: string;
  type?: string;
}

export type PreparedRedrive =
  | { ok: true; entry: PutEntry; id: string; type: string; v: number }
  | { ok: false; id: string; type?: string; v?: number; reason: QuarantineReason; errors: FieldError[]; event: string };

/**
 * Re-validates a quarantined record (or the operator's fix of it) against the type's latest schema and builds the
 * envelope it goes back on the stream as: the original id and received time, `source: "redrive"` and the `redrive`
 * block. The same checks as ingest (coercion, lossless big integers, event time, size).
 */
export function prepareRedrive(
  registry: Registry,
  rec: QuarantineRecord,
  info: RedriveInfo,
  fix?: RecordFix,
): PreparedRedrive {
  const src = redriveSource(rec);
  const event = fix?.event ?? src.event;
  const type = fix?.type ?? src.type;
  const fail = (reason: QuarantineReason, errors: FieldError[], v?: number): PreparedRedrive => ({
    ok: false,
    id: src.id,
    ...(type ? { type } : {}),
    ...(v !== undefined ? { v } : {}),
    reason,
    errors,
    event,
  });
  if (!type || !registry.has(type)) {
    const message = type
      ? `type ${JSON.stringify(type)} is not registered (${registry.names().join(', ')}); choose one`
      : `the record has no event type; choose one of ${registry.names().join(', ')}`;
    return fail('unknown_type', [{ path: '/', keyword: 'type', message }]);
  }
  const v = registry.version(type).v;
  // Said about the event, not a request: the editor and the job's outcomes are not the HTTP API.
  const bytes = Buffer.byteLength(event);
  if (bytes > MAX_BODY_BYTES)
    return fail(
      'too_large',
      [
        {
          path: '/',
          keyword: 'maxBytes',
          message: `is ${bytes} bytes; an event must fit in one stream record (${RECORD_MAX_BYTES} bytes as an envelope), so cut it down`,
        },
      ],
      v,
    );
  let prepared: ReturnType<typeof prepareEvents>;
  try {
    prepared = prepareEvents(
      registry,
      { type, body: event, framing: 'json', source: 'redrive', id: src.id, redrive: info },
      src.receivedAt,
    );
  } catch (err) {
    // Unparseable JSON and an array of more events than a request may hold are the event's fault; anything else is ours.
    if (err instanceof PayloadTooLargeError)
      return fail(
        'too_large',
        [
          {
            path: '/',
            keyword: 'maxItems',
            message:
              'holds more events than a request may; a re-drive puts back one event, so edit it down to one JSON object',
          },
        ],
        v,
      );
    if (err instanceof MalformedBodyError)
      return fail(
        'malformed_json',
        err.errors.map((e) => ({ ...e, message: `${e.message}; write the event as one JSON object` })),
        v,
      );
    return fail(
      'processing_error',
      [
        {
          path: '/',
          keyword: 'processing',
          message: `the re-drive could not process this event: ${errorMessage(err)}`,
        },
      ],
      v,
    );
  }
  if (prepared.parsed.items.length !== 1) {
    return fail(
      'schema_violation',
      [
        {
          path: '/',
          keyword: 'type',
          message: `holds ${prepared.parsed.items.length} events; a re-drive puts back one event, so edit it down to one JSON object`,
        },
      ],
      v,
    );
  }
  const rejected = prepared.rejections[0];
  if (rejected) return fail(rejected.reason, rejected.errors, v);
  return { ok: true, entry: prepared.entries[0]!, id: prepared.entryIds[0]!, type, v };
}

/** Result of checking a fix without re-driving it (the editor's live validation). */
export interface FixCheck {
  valid: boolean;
  type?: string;
  v?: number;
  errors: FieldError[];
}

/** Validates an edited event the way a re-drive would, without putting it anywhere. */
export function checkFix(registry: Registry, rec: QuarantineRecord, fix?: RecordFix): FixCheck {
  const p = prepareRedrive(
    registry,
    rec,
    { job: 'check', at: new Date(0).toISOString(), by: 'check', attempt: rec.attempts },
    fix,
  );
  return p.ok
    ? { valid: true, type: p.type, v: p.v, errors: [] }
    : { valid: false, ...(p.type ? { type: p.type } : {}), ...(p.v !== undefined ? { v: p.v } : {}), errors: p.errors };
}
