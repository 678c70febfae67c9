import type { S3Client } from '@aws-sdk/client-s3';
import type pg from 'pg';
import { errorMessage } from '../errors.ts';
import { logger, recordOltpBatch } from '../observability.ts';
import { quarantineRecord, type QuarantineRecord } from '../quarantine/record.ts';
import { writeQuarantine } from '../quarantine/write.ts';
import { wholeBatchResponse, type ShardOutcome } from '../stream/batch.ts';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { compareSeq, groupByShard, type StreamRecord } from '../stream/records.ts';
import { withRetries } from '../util/retry.ts';
import { applyRows } from './apply.ts';
import { failureKind, withTransaction } from './db.ts';
import { migrate } from './migrations.ts';
import { DatabaseUnavailableError } from './errors.ts';
import { databaseErrors, decodeRecord, type Decoded, type TransactionRow } from './rows.ts';

/** What the sink needs: the database, and the quarantine bucket for events the database refuses. */
export interface OltpSinkDeps {
  pool: pg.Pool;
  s3: S3Client;
  quarantineBucket: string;
  /** Consumer name in `sink_progress` (one row per consumer and shard). */
  consumer?: string;
  /**
   * Replaces the pool after every batch (AWS): a frozen Lambda environment would otherwise hold its connections
   * open for as long as it lives, and Aurora Serverless v2 only pauses (0 ACU) once no connection is left.
   */
  recycle?: () => pg.Pool;
  /** Events per statement (and per database transaction on the fast path). */
  chunkSize?: number;
  now?: () => Date;
}

export interface SinkResult extends ShardOutcome {
  /** Transactions inserted by this batch. */
  applied: number;
  /** Transactions that were already there (a re-delivery, a re-drive of an applied event). */
  duplicates: number;
  /** Events quarantined (stage `oltp-sink`). */
  rejected: number;
  /** Records not for this sink (other types, undecodable records the lake writer quarantines). */
  skipped: number;
}

/** An event that goes to quarantine: refused before any SQL (decoding) or by the database (reason `db_rejected`). */
type Rejection = { record: StreamRecord; decoded: Extract<Decoded, { kind: 'reject' }> };

const CONFLICT_RETRIES = 5;

/**
 * Applies a chunk of events in one database transaction. When the database refuses the chunk because of its data
 * (SQLSTATE class 22/23), the chunk is split in halves and each half tried on its own, down to single events: one bad
 * event costs about log2(n) extra statements and every good event around it is still applied. A deadlock or
 * serialization failure retries the same chunk; any other failure means the database is unavailable and is thrown.
 */
async function applyChunk(
  pool: pg.Pool,
  consumer: string,
  items: { record: StreamRecord; row: TransactionRow; envelope: Extract<Decoded, { kind: 'row' }>['envelope'] }[],
  rejections: Rejection[],
): Promise<{ applied: number; duplicates: number }> {
  try {
    const inserted = await withRetries(
      () =>
        withTransaction(pool, async (client) => {
          const ids = await applyRows(
            client,
            items.map((i) => i.row),
          );
          // Counted in the same transaction as the rows: the counters are exactly what the tables hold.
          await recordProgress(
            client,
            consumer,
            items.map((i) => i.record),
            { applied: ids.size, duplicates: items.length - ids.size, rejected: 0, batches: 0 },
          );
          return ids;
        }),
      { attempts: CONFLICT_RETRIES + 1, baseMs: 20, maxMs: 200, retryable: (e) => failureKind(e) === 'conflict' },
    );
    return { applied: inserted.size, duplicates: items.length - inserted.size };
  } catch (err) {
    if (failureKind(err) !== 'rejected') {
      throw err instanceof DatabaseUnavailableError
        ? err
        : new DatabaseUnavailableError(`The database failed: ${errorMessage(err)}`, { cause: err });
    }
    if (items.length === 1) {
      rejections.push({
        record: items[0]!.record,
        decoded: { kind: 'reject', envelope: items[0]!.envelope, reason: 'db_rejected', errors: databaseErrors(err) },
      });
      return { applied: 0, duplicates: 0 };
    }
    const mid = Math.ceil(items.length / 2);
    const a = await applyChunk(pool, consumer, items.slice(0, mid), rejections);
    const b = await applyChunk(pool, consumer, items.slice(mid), rejections);
    return { applied: a.applied + b.applied, duplicates: a.duplicates + b.duplicates };
  }
}

function toQuarantine(r: Rejection, quarantinedAt: string): QuarantineRecord {
  const env = r.decoded.envelope;
  return quarantineRecord({
    id: env.id,
    stage: 'oltp-sink',
    reason: r.decoded.reason,
    errors: r.decoded.errors,
    type: env.type,
    v: env.v,
    receivedAt: env.received_at,
    quarantinedAt,
    // The record as it was on the stream (the envelope): a re-drive keeps its id and received time.
    payload: r.record.data,
    attempts: (env.redrive?.attempt ?? 0) + 1,
    source: env.source,
  });
}

/**
 * Writes the rejected events of one shard's batch to quarantine: one object per (day, reason), named after the shard
 * and the batch's first and last sequence numbers, so a re-delivered batch overwrites its own objects.
 */
async function quarantineRejections(
  deps: OltpSinkDeps,
  shardId: string,
  first: string,
  last: string,
  rejections: Rejection[],
  at: string,
): Promise<void> {
  await writeQuarantine(
    deps.s3,
    deps.quarantineBucket,
    rejections.map((r) => toQuarantine(r, at)),
    'oltp-sink',
    `${shardId}-${first}-${last}`,
  );
}

/**
 * Loads one shard's records into the normalized tables. Events go in chunks, each chunk in one database transaction
 * (see `applyChunk`); events the database refuses are quarantined (stage `oltp-sink`) and do not hold up the shard.
 * When the database is unavailable, processing stops and `failedFrom` names the first record not applied: it and
 * everything after it are delivered again (already applied events are then recognized and change nothing). Nothing
 * is skipped: a rejection whose quarantine write fails is delivered again too.
 */
export async function sinkShard(records: StreamRecord[], deps: OltpSinkDeps): Promise<SinkResult> {
  const sorted = [...records].sort((a, b) => compareSeq(a.sequenceNumber, b.sequenceNumber));
  const shardId = sorted[0]?.shardId ?? 'shardId-unknown';
  const result: SinkResult = { shardId, applied: 0, duplicates: 0, rejected: 0, skipped: 0 };
  if (!sorted.length) return result;
  const rejections: Rejection[] = [];
  const rows: Parameters<typeof applyChunk>[2] = [];
  const consumer = deps.consumer ?? 'oltp-sink';
  for (const record of sorted) {
    const decoded = decodeRecord(record);
    if (decoded.kind === 'skip') result.skipped++;
    else if (decoded.kind === 'reject') rejections.push({ record, decoded });
    else rows.push({ record, row: decoded.row, envelope: decoded.envelope });
  }
  const chunkSize = deps.chunkSize ?? 500;
  let outage: { from: string; error: string } | undefined;
  for (let i = 0; i < rows.length; i += chunkSize) {
    const chunk = rows.slice(i, i + chunkSize);
    try {
      const r = await applyChunk(deps.pool, consumer, chunk, rejections);
      result.applied += r.applied;
      result.duplicates += r.duplicates;
    } catch (err) {
      outage = { from: chunk[0]!.record.sequenceNumber, error: errorMessage(err) };
      break;
    }
  }
  // Rejections past an outage are delivered again with the rest; only the ones before it are final.
  const final = outage ? rejections.filter((r) => compareSeq(r.record.sequenceNumber, outage!.from) < 0) : rejections;
  const at = (deps.now?.() ?? new Date()).toISOString();
  if (final.length) {
    try {
      await quarantineRejections(
        deps,
        shardId,
        sorted[0]!.sequenceNumber,
        sorted[sorted.length - 1]!.sequenceNumber,
        final,
        at,
      );
      result.rejected = final.length;
    } catch (err) {
      const first = final.map((r) => r.record.sequenceNumber).sort(compareSeq)[0]!;
      if (!outage || compareSeq(first, outage.from) < 0)
        outage = { from: first, error: `quarantine write failed: ${errorMessage(err)}` };
    }
  }
  if (!outage) {
    try {
      await recordProgress(deps.pool, consumer, sorted, {
        applied: 0,
        duplicates: 0,
        rejected: result.rejected,
        batches: 1,
      });
    } catch (err) {
      // The events are in and counted; only the batch and quarantine counters miss this batch. Said loudly all the same.
      logger.warn('oltp sink: could not count the batch', { shardId, error: errorMessage(err) });
    }
  }
  recordOltpBatch({
    applied: result.applied,
    duplicates: result.duplicates,
    rejected: result.rejected,
    failed: outage ? 1 : 0,
  });
  if (outage) {
    logger.warn('oltp sink: database unavailable; re-delivering', {
      shardId,
      failedFrom: outage.from,
      error: outage.error,
    });
    return { ...result, failedFrom: outage.from, error: outage.error };
  }
  return result;
}

/**
 * Adds to the consumer's `sink_progress` row of the records' shard and moves its sequence number forward (the OLTP
 * sink's, and the import applier's, whose sequence numbers say which imports are in).
 */
export async function recordProgress(
  db: pg.Pool | pg.PoolClient,
  consumer: string,
  records: StreamRecord[],
  add: { applied: number; duplicates: number; rejected: number; batches: number },
): Promise<void> {
  const last = records[records.length - 1]!;
  const arrived = records.reduce((a, r) => Math.max(a, r.arrivedAt), 0);
  await db.query(
    `INSERT INTO sink_progress AS p (consumer, shard_id, sequence_number, last_received_at, last_applied_at, applied, duplicates, rejected, batches)
     VALUES ($1, $2, $3, $4, now(), $5, $6, $7, $8)
     ON CONFLICT (consumer, shard_id) DO UPDATE SET
       sequence_number = CASE WHEN length(EXCLUDED.sequence_number) > length(p.sequence_number)
         OR (length(EXCLUDED.sequence_number) = length(p.sequence_number) AND EXCLUDED.sequence_number > p.sequence_number)
         THEN EXCLUDED.sequence_number ELSE p.sequence_number END,
       last_received_at = GREATEST(p.last_received_at, EXCLUDED.last_received_at),
       last_applied_at = EXCLUDED.last_applied_at,
       applied = p.applied + EXCLUDED.applied,
       duplicates = p.duplicates + EXCLUDED.duplicates,
       rejected = p.rejected + EXCLUDED.rejected,
       batches = p.batches + EXCLUDED.batches`,
    [
      consumer,
      last.shardId,
      last.sequenceNumber,
      new Date(arrived).toISOString(),
      add.applied,
      add.duplicates,
      add.rejected,
      add.batches,
    ],
  );
}

/** Loads a batch that may hold several shards (Lambda sends one; the local poller too; tests may mix). */
export async function sinkRecords(records: StreamRecord[], deps: OltpSinkDeps): Promise<SinkResult[]> {
  return Promise.all(groupByShard(records).map((rs) => sinkShard(rs, deps)));
}

const migrated = new WeakMap<object, Promise<unknown>>();

/**
 * Migrates the sink's database once per process and sink (the first batch after a cold start waits for it). A
 * failed attempt is forgotten, so the next batch tries again instead of inheriting the failure.
 */
export function ensureMigrated(deps: Pick<OltpSinkDeps, 'pool'>): Promise<unknown> {
  let p = migrated.get(deps);
  if (!p) {
    p = migrate(deps.pool).catch((err: unknown) => {
      migrated.delete(deps);
      throw err;
    });
    migrated.set(deps, p);
  }
  return p;
}

/** The sink's answer to one Lambda Kinesis event (see `wholeBatchResponse`); migrates on first use. */
export function oltpSinkBatch(event: KinesisStreamEvent, deps: OltpSinkDeps): Promise<KinesisStreamBatchResponse> {
  return wholeBatchResponse(event, async (records) => {
    try {
      await ensureMigrated(deps);
      return await sinkRecords(records, deps);
    } finally {
      if (deps.recycle) {
        const used = deps.pool;
        deps.pool = deps.recycle();
        await used.end().catch(() => {});
      }
    }
  });
}
