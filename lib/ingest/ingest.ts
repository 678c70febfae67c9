import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import { buildEnvelope, eventIdOf, serializeEnvelope, type EnvelopeSource, type RedriveInfo } from '../envelope.ts';
import { errorMessage } from '../errors.ts';
import { newId } from '../ids.ts';
import { quarantineRecord, type QuarantineReason } from '../quarantine/record.ts';
import { writeQuarantine } from '../quarantine/write.ts';
import {
  toFieldErrors,
  type EventType,
  type FieldError,
  type Registry,
  type SchemaVersion,
} from '../registry/registry.ts';
import { putRecordsReliably, RECORD_MAX_BYTES, type PutEntry, type PutOptions } from '../stream/put-records.ts';
import { parseBody, type BodyItem, type ParsedBody } from './body.ts';

export interface IngestDeps {
  registry: Registry;
  kinesis: KinesisClient;
  s3: S3Client;
  streamName: string;
  quarantineBucket: string;
  putOptions?: PutOptions;
  now?: () => Date;
}

export interface IngestRequest {
  type: string;
  body: string;
  contentType?: string;
  /** Schema version to validate against; the type's latest when absent. */
  version?: number;
  source?: EnvelopeSource;
  /** A re-drive keeps the event's original id and records the job in the envelope's `redrive` block. */
  id?: string;
  redrive?: RedriveInfo;
}

export type EventStatus = 'accepted' | 'rejected' | 'failed';

export interface EventResult {
  index: number;
  id: string;
  status: EventStatus;
  /** Why it was rejected (quarantined) or failed (not stored; safe to retry). */
  reason?: QuarantineReason | string;
  errors?: FieldError[];
  retryable?: boolean;
}

export interface IngestResult {
  accepted: number;
  rejected: number;
  failed: number;
  results: EventResult[];
}

interface Rejection {
  index: number;
  id: string;
  reason: QuarantineReason;
  errors: FieldError[];
  raw: string;
}

/** Id to report for an event that never became an envelope: its own id when readable, else a fresh one. */
function rejectionId(type: EventType | undefined, value: unknown): string {
  return (type && value !== undefined && eventIdOf(type, value)) || newId();
}

/**
 * Quarantines a whole request body that could not be split into events (malformed JSON, unknown type) so the operator
 * can see what a producer sent. Best effort: the client is told 400 either way and still holds the data.
 */
export async function quarantineWholeBody(
  deps: IngestDeps,
  reason: QuarantineReason,
  errors: FieldError[],
  body: string | Uint8Array,
  type?: string,
): Promise<void> {
  const now = (deps.now ?? (() => new Date()))().toISOString();
  const rec = quarantineRecord({
    id: newId(),
    stage: 'ingest',
    reason,
    errors,
    ...(type !== undefined ? { type } : {}),
    receivedAt: now,
    quarantinedAt: now,
    payload: body,
    source: 'api',
  });
  await writeQuarantine(deps.s3, deps.quarantineBucket, [rec], 'ingest', newId());
}

type Checked =
  | { ok: true; value: unknown; changed: boolean }
  | { ok: false; reason: QuarantineReason; errors: FieldError[] };

/** Coerces and validates one event (its value already has every digit: the body's strict reader saw to that). */
function checkItem(sv: SchemaVersion, item: BodyItem): Checked {
  if (item.error !== undefined) return { ok: false, reason: 'malformed_json', errors: [item.error] };
  const value = item.value;
  const changed = sv.coerceJson(value) !== 0;
  if (!sv.validate(value)) return { ok: false, reason: 'schema_violation', errors: toFieldErrors(sv.validate.errors) };
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
export function prepareEvents(registry: Registry, req: IngestRequest, receivedAt: string): PreparedEvents {
  const type = registry.get(req.type);
  const sv = registry.version(req.type, req.version);
  const parsed: ParsedBody = parseBody(req.body, req.contentType);
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

/**
 * The ingest path, independent of HTTP: prepares the events, puts valid ones on the stream and quarantines invalid
 * ones. Every event gets exactly one result: `accepted` (on the stream), `rejected` (in quarantine) or `failed`
 * (neither; the caller still owns it and may retry).
 */
export async function ingestEvents(req: IngestRequest, deps: IngestDeps): Promise<IngestResult> {
  const receivedAt = (deps.now ?? (() => new Date()))().toISOString();
  const source = req.source ?? 'api';
  const { type, sv, parsed, entries, entryIndex, entryIds, rejections } = prepareEvents(deps.registry, req, receivedAt);
  const results: EventResult[] = new Array(parsed.items.length);

  const quarantineWrite = (async (): Promise<string | undefined> => {
    if (!rejections.length) return undefined;
    const quarantinedAt = new Date().toISOString();
    const records = rejections.map((r) => {
      r.raw = parsed.rawOf(r.index);
      return quarantineRecord({
        id: r.id,
        stage: 'ingest',
        reason: r.reason,
        errors: r.errors,
        type: type.name,
        v: sv.v,
        receivedAt,
        quarantinedAt,
        payload: r.raw,
        source,
      });
    });
    try {
      await writeQuarantine(deps.s3, deps.quarantineBucket, records, 'ingest', newId());
      return undefined;
    } catch (err) {
      return errorMessage(err);
    }
  })();
  const putWrite = entries.length
    ? putRecordsReliably(deps.kinesis, deps.streamName, entries, deps.putOptions)
    : Promise.resolve([]);
  const [quarantineError, outcomes] = await Promise.all([quarantineWrite, putWrite]);

  for (const r of rejections) {
    results[r.index] = quarantineError
      ? {
          index: r.index,
          id: r.id,
          status: 'failed',
          reason: r.reason,
          errors: [
            ...r.errors,
            { path: '/', keyword: 'quarantine', message: `invalid, and could not be quarantined: ${quarantineError}` },
          ],
          retryable: true,
        }
      : { index: r.index, id: r.id, status: 'rejected', reason: r.reason, errors: r.errors };
  }
  outcomes.forEach((o, j) => {
    const index = entryIndex[j]!;
    const id = entryIds[j]!;
    results[index] = o.ok
      ? { index, id, status: 'accepted' }
      : {
          index,
          id,
          status: 'failed',
          reason: o.errorCode,
          errors: [
            {
              path: '/',
              keyword: 'stream',
              message: `not accepted by the stream after ${o.attempts} attempts: ${o.errorMessage}`,
            },
          ],
          retryable: o.retryable,
        };
  });

  let accepted = 0;
  let rejected = 0;
  let failed = 0;
  for (const r of results) {
    if (r.status === 'accepted') accepted++;
    else if (r.status === 'rejected') rejected++;
    else failed++;
  }
  return { accepted, rejected, failed, results };
}
