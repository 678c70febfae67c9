import { gzipSync } from 'node:zlib';
import type { FieldError } from '../registry/registry.ts';

/** Pipeline stages that can quarantine a record (architecture.md §7). */
export type QuarantineStage = 'ingest' | 'lake-writer' | 'oltp-sink' | 'redrive' | 'import';

/** Why a record was quarantined (also the `reason=` partition values of the quarantine table). */
export const QUARANTINE_REASONS = [
  'schema_violation',
  'malformed_json',
  'unknown_type',
  'too_large',
  'invalid_envelope',
  'processing_error',
  'db_rejected',
  'export_refused',
] as const;

export type QuarantineReason = (typeof QUARANTINE_REASONS)[number];

/** One quarantined record: one JSON line in `quarantine/records/...`. */
export interface QuarantineRecord {
  id: string;
  stage: QuarantineStage;
  reason: QuarantineReason;
  errors: FieldError[];
  type?: string;
  v?: number;
  received_at: string;
  quarantined_at: string;
  payload: string;
  payload_encoding: 'utf8' | 'base64';
  attempts: number;
  source: string;
  /**
   * The stage that first quarantined the event, on a record a re-drive quarantined again (stage `redrive`); absent
   * otherwise. Re-driving it again tells consumers where the event originally failed (the envelope's `redrive.stage`).
   */
  origin_stage?: QuarantineStage;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Encodes raw bytes for the `payload` field: UTF-8 text when the bytes are valid UTF-8, else base64. */
export function encodePayload(raw: string | Uint8Array): { payload: string; payload_encoding: 'utf8' | 'base64' } {
  if (typeof raw === 'string') return { payload: raw, payload_encoding: 'utf8' };
  try {
    return { payload: utf8.decode(raw), payload_encoding: 'utf8' };
  } catch {
    return { payload: Buffer.from(raw).toString('base64'), payload_encoding: 'base64' };
  }
}

/** Decodes a quarantine record's payload back to its original bytes. */
export function decodePayload(rec: Pick<QuarantineRecord, 'payload' | 'payload_encoding'>): Buffer {
  return rec.payload_encoding === 'base64' ? Buffer.from(rec.payload, 'base64') : Buffer.from(rec.payload, 'utf8');
}

/** What a stage knows when it quarantines something: the record's fields, with the raw payload still as bytes. */
export type QuarantineInput = Pick<
  QuarantineRecord,
  'id' | 'stage' | 'reason' | 'errors' | 'type' | 'v' | 'source' | 'origin_stage'
> & {
  receivedAt: string;
  quarantinedAt: string;
  payload: string | Uint8Array;
  attempts?: number;
};

/** Builds a quarantine record with the field order of architecture.md §7. */
export function quarantineRecord(input: QuarantineInput): QuarantineRecord {
  const rec: QuarantineRecord = {
    id: input.id,
    stage: input.stage,
    reason: input.reason,
    errors: input.errors,
    received_at: input.receivedAt,
    quarantined_at: input.quarantinedAt,
    ...encodePayload(input.payload),
    attempts: input.attempts ?? 1,
    source: input.source,
    ...(input.origin_stage !== undefined ? { origin_stage: input.origin_stage } : {}),
  };
  // Optional fields sit where architecture.md §7 lists them; rebuild to keep that order stable in the files.
  if (input.type === undefined && input.v === undefined) return rec;
  const { id, stage, reason, errors, ...rest } = rec;
  return {
    id,
    stage,
    reason,
    errors,
    ...(input.type !== undefined ? { type: input.type } : {}),
    ...(input.v !== undefined ? { v: input.v } : {}),
    ...rest,
  };
}

/** Key-safe text for a reason or stage (they are enums, but a key must never be steerable by data). */
function keySegment(s: string): string {
  return s.replace(/[^a-z0-9_-]/gi, '_').slice(0, 64) || '_';
}

export interface QuarantineObject {
  key: string;
  body: Buffer;
  count: number;
  records: QuarantineRecord[];
}

/**
 * Batches quarantine records into gzip JSONL objects, one per (day, reason), named
 * `records/dt=YYYY-MM-DD/reason=<reason>/<stage>-<unique>.jsonl.gz`. `unique` must be deterministic for a retried
 * batch (so a retry overwrites) and unique across batches.
 */
export function quarantineObjects(
  records: QuarantineRecord[],
  stage: QuarantineStage,
  unique: string,
): QuarantineObject[] {
  const groups = new Map<string, QuarantineRecord[]>();
  for (const r of records) {
    const key = `records/dt=${r.quarantined_at.slice(0, 10)}/reason=${keySegment(r.reason)}/${keySegment(stage)}-${unique}.jsonl.gz`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(r);
  }
  return [...groups].map(([key, recs]) => ({
    key,
    count: recs.length,
    records: recs,
    body: gzipSync(`${recs.map((r) => JSON.stringify(r)).join('\n')}\n`),
  }));
}
