import { buildEnvelope, eventIdOf, serializeEnvelope, type EnvelopeSource, type RedriveInfo } from '../envelope.ts';
import { newId } from '../ids.ts';
import {
  toFieldErrors,
  type EventType,
  type FieldError,
  type Registry,
  type SchemaVersion,
} from '../registry/registry.ts';
import { RECORD_MAX_BYTES, type PutEntry } from '../stream/put-records.ts';
import { parseBody, type BodyItem, type ParsedBody } from './body.ts';
import type { Framing } from './limits.ts';

/** Events to accept: a body of one type, as the ingest API receives it or as a re-drive hands one event back. */
export interface EventsRequest {
  type: string;
  body: string;
  /** How the body frames its events (the ingest API reads it from Content-Type, limits.ts `framingOf`). */
  framing?: Framing;
  /** Schema version to validate against; the type's latest when absent. */
  version?: number;
  source?: EnvelopeSource;
  /** A re-drive keeps the event's original id and records the job in the envelope's `redrive` block. */
  id?: string;
  redrive?: RedriveInfo;
}

/** Why an event was refused before it reached the stream (each is also a quarantine reason). */
export type RejectReason = 'malformed_json' | 'schema_violation' | 'too_large';

export interface Rejection {
  index: number;
  id: string;
  reason: RejectReason;
  errors: FieldError[];
  raw: string;
}

/** Id to report for an event that never became an envelope: its own id when readable, else a fresh one. */
function rejectionId(type: EventType | undefined, value: unknown): string {
  return (type && value !== undefined && eventIdOf(type, value)) || newId();
}

type Checked =
  | { ok: true; value: unknown; changed: boolean }
  | { ok: false; reason: RejectReason; errors: FieldError[] };

/** Coerces and validates one event (its value already has every digit: the body's strict reader saw to that). */
function checkItem(sv: SchemaVersion, item: BodyItem): Checked {
  if (item.error !== undefined) return { ok: false, reason: 'malformed_json', errors: [item.error] };
  const value = item.value;
  const changed = sv.coerceJson(value) !== 0;
  if (!sv.validate(value))
    return { ok: false, reason: 'schema_violation', errors: toFieldErrors(sv.validate.errors, value) };
  return { ok: true, value, changed };
}

export interface PreparedEvents {
  type: EventType;
  sv: SchemaVersion;
  parsed: ParsedBody;
  receivedAt: string;
  /** Stream entries of the valid events, with the request index and envelope id of each. */
  entries: PutEntry[];
  entryIndex: number[];
  entryIds: string[];
  rejections: Rejection[];
}

/**
 * The CPU-only part of ingest, shared by the API and the benchmark: parses a body into events, coerces and validates
 * each against the type's schema, wraps valid ones in envelopes and serializes them as stream entries; invalid ones
 * become rejections with their errors.
 */
export function prepareEvents(registry: Registry, req: EventsRequest, receivedAt: string): PreparedEvents {
  const type = registry.get(req.type);
  const sv = registry.version(req.type, req.version);
  const parsed: ParsedBody = parseBody(req.body, req.framing);
  const source = req.source ?? 'api';
  const rejections: Rejection[] = [];
  const entries: PutEntry[] = [];
  const entryIndex: number[] = [];
  const entryIds: string[] = [];

  for (const item of parsed.items) {
    const checked = checkItem(sv, item);
    if (!checked.ok) {
      rejections.push({
        index: item.index,
        id: rejectionId(type, item.value),
        reason: checked.reason,
        errors: checked.errors,
        raw: '',
      });
      continue;
    }
    const built = buildEnvelope({
      type,
      v: sv.v,
      data: checked.value,
      receivedAt,
      source,
      id: req.id,
      redrive: req.redrive,
    });
    if (!built.ok) {
      rejections.push({
        index: item.index,
        id: rejectionId(type, checked.value),
        reason: 'schema_violation',
        errors: built.errors,
        raw: '',
      });
      continue;
    }
    // An event whose text was canonical and that coercion left alone is its own serialization.
    const data = Buffer.from(
      serializeEnvelope(built.envelope, item.canonical && !checked.changed ? item.raw : undefined),
    );
    if (data.byteLength + Buffer.byteLength(built.partitionKey) > RECORD_MAX_BYTES) {
      rejections.push({
        index: item.index,
        id: built.envelope.id,
        reason: 'too_large',
        errors: [
          {
            path: '/',
            keyword: 'maxBytes',
            message: `event is ${data.byteLength} bytes as an envelope; a stream record holds at most ${RECORD_MAX_BYTES} bytes`,
          },
        ],
        raw: '',
      });
      continue;
    }
    entries.push({ data, partitionKey: built.partitionKey });
    entryIndex.push(item.index);
    entryIds.push(built.envelope.id);
  }
  return { type, sv, parsed, receivedAt, entries, entryIndex, entryIds, rejections };
}
