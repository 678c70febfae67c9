import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { listAllShards } from '../aws/kinesis.ts';
import { writeQuarantine } from './write.ts';
import { putRecordsReliably } from '../stream/put-records.ts';
import { mapLimit } from '../util/concurrency.ts';
import { DEFAULT_CLAIM_TIMES, releaseClaim, type Claim } from './claims.ts';
import type { QuarantineDeps } from './deps.ts';
import { QuarantineRequestError } from './errors.ts';
import { CLAIM_CONCURRENCY, claimEntries } from './job-claims.ts';
import { claimedSkip, writeLedger } from './ledger.ts';
import { quarantineRecord, type QuarantineRecord } from './record.ts';
import { originStage, prepareRedrive, type PreparedRedrive, type RecordFix } from './redrive-prepare.ts';
import { qidOf, type LedgerEntry, type QuarantineEntry } from './quarantine-index.ts';

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
  const checkedAt = (deps.now?.() ?? new Date()).getTime();
  const inLease = puts.filter((x) => checkedAt - Date.parse(x.claim.at) < times.leaseMs);
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
