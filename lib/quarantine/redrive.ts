import { gzipSync } from 'node:zlib';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { listAllShards } from '../aws/kinesis.ts';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { RedriveInfo } from '../envelope.ts';
import { errorMessage } from '../errors.ts';
import { MalformedBodyError, PayloadTooLargeError } from '../events/errors.ts';
import { prepareEvents } from '../events/prepare.ts';
import { writeQuarantine } from './write.ts';
import { parseJson } from '../registry/json.ts';
import type { FieldError, Registry } from '../registry/registry.ts';
import { putRecordsReliably, type PutEntry, type PutOptions } from '../stream/put-records.ts';
import { mapLimit } from '../util/concurrency.ts';
import { claimRecord, DEFAULT_CLAIM_TIMES, releaseClaim, type Claim, type ClaimTimes } from './claims.ts';
import { QuarantineRequestError } from './errors.ts';
import { decodePayload, quarantineRecord, type QuarantineReason, type QuarantineRecord } from './record.ts';
import {
  QUARANTINE_PREFIX,
  qidOf,
  type LedgerEntry,
  type QuarantineEntry,
  type QuarantineIndex,
} from './quarantine-index.ts';

/** What re-driving needs: the registry to re-validate, the stream to put on, the quarantine bucket and its index. */
export interface QuarantineDeps {
  registry: Registry;
  kinesis: KinesisClient;
  s3: S3Client;
  streamName: string;
  bucket: string;
  index: QuarantineIndex;
  putOptions?: PutOptions;
  /** Claim lease and takeover times (tests shorten them). */
  claims?: Partial<ClaimTimes>;
  now?: () => Date;
}

/** Claims written in parallel per chunk (one conditional PutObject each). */
const CLAIM_CONCURRENCY = 32;

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
  let prepared: ReturnType<typeof prepareEvents>;
  try {
    prepared = prepareEvents(
      registry,
      { type, body: event, contentType: 'application/json', source: 'redrive', id: src.id, redrive: info },
      src.receivedAt,
    );
  } catch (err) {
    // The body limits (5 MiB, 500 events) and unparseable JSON are the event's fault; anything else is ours.
    if (err instanceof PayloadTooLargeError)
      return fail('too_large', [{ path: '/', keyword: 'maxBytes', message: errorMessage(err) }], v);
    if (err instanceof MalformedBodyError)
      return fail('malformed_json', [{ path: '/', keyword: 'json', message: errorMessage(err) }], v);
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
export function checkFix(registry: Registry, rec: QuarantineRecord, fix: RecordFix): FixCheck {
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

/** Writes one ledger object and applies it to the index at once, so this process sees the change immediately. */
export async function writeLedger(
  s3: S3Client,
  index: QuarantineIndex,
  name: string,
  lines: LedgerEntry[],
  at: string,
): Promise<string> {
  const key = `${QUARANTINE_PREFIX.ledger}dt=${at.slice(0, 10)}/${name}.jsonl.gz`;
  const body = gzipSync(`${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
  // The ledger is what makes a record "redriven": retry before giving up, the records are already back on the stream.
  for (let attempt = 1; ; attempt++) {
    try {
      await s3.send(
        new PutObjectCommand({
          Bucket: index.bucket,
          Key: key,
          Body: body,
          ContentType: 'application/x-ndjson',
          ContentEncoding: 'gzip',
        }),
      );
      break;
    } catch (err) {
      if (attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
    }
  }
  index.applyLedger(key, lines);
  return key;
}

/**
 * The ledger line of a record left alone because another job holds its claim: skipped, naming the holder and when
 * it claimed it, with what to do (`then`) when the caller has advice.
 */
export function claimedSkip(
  base: Pick<LedgerEntry, 'job' | 'action' | 'at' | 'by'>,
  e: QuarantineEntry,
  holder: Claim,
  then?: string,
): LedgerEntry {
  return {
    ...base,
    qid: e.qid,
    id: e.record.id,
    outcome: 'skipped',
    errors: [
      {
        path: '/',
        keyword: 'claimed',
        message: `being re-driven by job ${holder.job} (claimed ${holder.at})${then ? `; ${then}` : ''}`,
      },
    ],
  };
}

/**
 * Claims open records for a job (a re-drive chunk, or a discard): `held` are the ones this job now holds and may act
 * on; `refused` the ones another live job holds, with that holder. A claim older than `takeoverMs` whose record still
 * has no outcome belongs to a job that died and is taken over — after reading the ledger as it is now (once per call),
 * so a claimant that finished is never overtaken.
 */
export async function claimEntries(
  deps: QuarantineDeps,
  jobId: string,
  chunkNo: number,
  entries: QuarantineEntry[],
): Promise<{
  held: { e: QuarantineEntry; claim: Claim; etag: string }[];
  refused: { e: QuarantineEntry; holder: Claim }[];
}> {
  const times = { ...DEFAULT_CLAIM_TIMES, ...deps.claims };
  let fresh: Promise<void> | undefined;
  const mayTakeOver = async (holder: Claim) => {
    if (Date.now() - Date.parse(holder.at) < times.takeoverMs) return false;
    await (fresh ??= deps.index.refresh());
    return (
      deps.index.has(holder.qid) &&
      deps.index.get(holder.qid).status === 'open' &&
      !deps.index.outcomeOf(holder.job, holder.qid)
    );
  };
  const outcomes = await mapLimit(entries, CLAIM_CONCURRENCY, (e) =>
    claimRecord(
      deps.s3,
      deps.bucket,
      { qid: e.qid, job: jobId, chunk: chunkNo, at: new Date().toISOString() },
      mayTakeOver,
    ),
  );
  const held: { e: QuarantineEntry; claim: Claim; etag: string }[] = [];
  const refused: { e: QuarantineEntry; holder: Claim }[] = [];
  outcomes.forEach((c, i) => {
    const e = entries[i]!;
    if (c.claimed) held.push({ e, claim: c.claim, etag: c.etag });
    else refused.push({ e, holder: c.holder });
  });
  return { held, refused };
}

/** Per-chunk counts of a re-drive. */
export interface ChunkCounts {
  accepted: number;
  failed: number;
  skipped: number;
  errors: number;
}

/**
 * Re-drives one chunk (≤ 500 records) of a job. Each record goes through, in this order:
 * 1. skipped when it is no longer open (a record is re-driven at most once); passed over silently when this job has
 *    already written its outcome (a resumed job re-running a chunk it finished before it stopped);
 * 2. claimed (`claims.ts`: an S3 conditional write), so that of every job, worker and instance reaching it, one
 *    sends it; a record another live job holds is skipped;
 * 3. valid ones go back on the stream (if their claim is still within its lease), ones that fail again are
 *    quarantined anew (stage `redrive`);
 * 4. the outcome of each is written to the ledger; records the stream refused are released for a later job.
 * Deterministic object names per (job, chunk) make a re-run chunk overwrite its own objects.
 *
 * The one window that can duplicate: a crash after PutRecords returned and before the ledger line is written. Kinesis
 * has no idempotency key, so the resumed job (or, after `takeoverMs`, another job) sends those records again, with
 * the same event ids; the consumers de-duplicate by event id (README "Re-drive: exactly once").
 */
export async function redriveChunk(
  deps: QuarantineDeps,
  job: { id: string; by: string; fixes?: Map<string, RecordFix> },
  chunkNo: number,
  qids: string[],
): Promise<{ counts: ChunkCounts; lines: LedgerEntry[] }> {
  const at = (deps.now?.() ?? new Date()).toISOString();
  const times = { ...DEFAULT_CLAIM_TIMES, ...deps.claims };
  const lines: LedgerEntry[] = [];
  const base = { job: job.id, action: 'redrive' as const, at, by: job.by };
  const candidates: QuarantineEntry[] = [];
  for (const qid of qids) {
    if (deps.index.outcomeOf(job.id, qid)) continue;
    if (!deps.index.has(qid)) {
      lines.push({
        ...base,
        qid,
        id: '',
        outcome: 'skipped',
        errors: [{ path: '/', keyword: 'missing', message: 'no longer in the quarantine bucket' }],
      });
      continue;
    }
    const e = deps.index.get(qid);
    if (e.status !== 'open') {
      lines.push({
        ...base,
        qid,
        id: e.record.id,
        outcome: 'skipped',
        errors: [
          { path: '/', keyword: 'status', message: `already ${e.status}${e.last ? ` by job ${e.last.job}` : ''}` },
        ],
      });
      continue;
    }
    candidates.push(e);
  }

  const { held, refused } = await claimEntries(deps, job.id, chunkNo, candidates);
  for (const { e, holder } of refused) lines.push(claimedSkip(base, e, holder));

  const puts: { e: QuarantineEntry; claim: Claim; etag: string; p: Extract<PreparedRedrive, { ok: true }> }[] = [];
  const again: { e: QuarantineEntry; record: QuarantineRecord; p: Extract<PreparedRedrive, { ok: false }> }[] = [];
  const release: { claim: Claim; etag: string }[] = [];
  const counts: ChunkCounts = { accepted: 0, failed: 0, skipped: lines.length, errors: 0 };
  for (const h of held) {
    const { e } = h;
    const p = prepareRedrive(
      deps.registry,
      e.record,
      { job: job.id, at, by: job.by, attempt: e.record.attempts, stage: originStage(e.record) },
      job.fixes?.get(e.qid),
    );
    if (p.ok) {
      puts.push({ ...h, p });
    } else {
      const record = quarantineRecord({
        id: p.id,
        stage: 'redrive',
        reason: p.reason,
        errors: p.errors,
        ...(p.type ? { type: p.type } : {}),
        ...(p.v !== undefined ? { v: p.v } : {}),
        receivedAt: e.record.received_at,
        quarantinedAt: at,
        payload: p.event,
        attempts: e.record.attempts + 1,
        source: 'redrive',
        ...(originStage(e.record) !== 'redrive' ? { origin_stage: originStage(e.record) } : {}),
      });
      again.push({ e, record, p });
    }
  }

  /** The ledger line of a claimed record that did not reach the stream (it stays open for another job). */
  const notSent = (e: QuarantineEntry, keyword: string, message: string): LedgerEntry => ({
    ...base,
    qid: e.qid,
    id: e.record.id,
    outcome: 'error',
    errors: [{ path: '/', keyword, message }],
  });
  // Past its lease another job may soon take the record over: let it go rather than risk sending it twice.
  const inLease = puts.filter((x) => Date.now() - Date.parse(x.claim.at) < times.leaseMs);
  for (const x of puts.filter((x) => !inLease.includes(x))) {
    counts.errors++;
    release.push(x);
    lines.push(
      notSent(
        x.e,
        'claim',
        `not sent: its claim expired before the stream was reached (${times.leaseMs} ms); re-drive it again`,
      ),
    );
  }
  const outcomes = inLease.length
    ? await putRecordsReliably(
        deps.kinesis,
        deps.streamName,
        inLease.map((x) => x.p.entry),
        deps.putOptions,
      )
    : [];
  outcomes.forEach((o, i) => {
    const x = inLease[i]!;
    if (o.ok) {
      counts.accepted++;
      lines.push({
        ...base,
        qid: x.e.qid,
        id: x.e.record.id,
        outcome: 'accepted',
        shard_id: o.shardId,
        sequence_number: o.sequenceNumber,
      });
    } else {
      counts.errors++;
      release.push(x);
      lines.push(
        notSent(x.e, 'stream', `the stream did not accept it after ${o.attempts} attempts: ${o.errorMessage}`),
      );
    }
  });

  const unique = `${job.id}-${String(chunkNo).padStart(6, '0')}`;
  if (again.length) {
    // The new records land before the ledger says "failed", so a crash in between leaves the original open, not lost.
    const byRecord = new Map(again.map((a) => [a.record, a]));
    for (const o of await writeQuarantine(
      deps.s3,
      deps.bucket,
      again.map((a) => a.record),
      'redrive',
      unique,
    )) {
      const entries = deps.index.addObject(o.key, o.records);
      o.records.forEach((r, line) => {
        const a = byRecord.get(r)!;
        counts.failed++;
        lines.push({
          ...base,
          qid: a.e.qid,
          id: a.e.record.id,
          outcome: 'failed',
          reason: r.reason,
          errors: r.errors,
          new_qid: entries[line]?.qid ?? qidOf(o.key, line),
        });
      });
    }
  }
  if (lines.length) await writeLedger(deps.s3, deps.index, unique, lines, at);
  // After the ledger, so a crash in between leaves a claim a later job takes over, never a record sent twice.
  await mapLimit(release, CLAIM_CONCURRENCY, (x) => releaseClaim(deps.s3, deps.bucket, x.claim, x.etag, at));
  return { counts, lines };
}

/** Kinesis accepts up to 1,000 records per second per open shard; a re-drive never asks for more. */
export async function streamRecordLimit(kinesis: KinesisClient, streamName: string): Promise<number> {
  const open = (await listAllShards(kinesis, streamName)).filter(
    (s) => !s.SequenceNumberRange?.EndingSequenceNumber,
  ).length;
  if (!open)
    throw new QuarantineRequestError(`Stream ${streamName} has no open shards; nothing can be re-driven until it has.`);
  return open * 1000;
}
