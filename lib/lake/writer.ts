import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { deleteKeys, getJsonOrNull } from '../aws/s3.ts';
import { TributaryError, errorMessage } from '../errors.ts';
import { logger, recordLakeBatch } from '../observability.ts';
import type { Registry } from '../registry/registry.ts';
import type { TableRegistry } from '../imports/tables.ts';
import { mapLimit } from '../util/concurrency.ts';
import { wholeBatchResponse } from '../stream/batch.ts';
import { compareSeq, groupByShard, type StreamRecord } from '../stream/records.ts';
import { safeSegment } from '../layout/partition.ts';
import { planBatch, type BatchPlan, type PlannedObject } from './plan.ts';

/** Errors of the lake writer. */
export class LakeWriterError extends TributaryError {}

export interface LakeWriterDeps {
  s3: S3Client;
  registry: Registry;
  /** Table definitions: a table import's operations land with their table's changes. */
  tables?: TableRegistry;
  buckets: { lake: string; quarantine: string };
  /** Name of the consumer, scoping its journal (one writer per shard at a time). */
  consumer?: string;
  /** Parallel object writes per batch. */
  concurrency?: number;
  now?: () => Date;
}

interface JournalEntry {
  bucket: string;
  key: string;
  first: string;
  last: string;
}

export interface CommitResult {
  plan: BatchPlan;
  written: PlannedObject[];
  /** Lowest sequence number that must be re-delivered; undefined when the whole batch is stored. */
  failedFrom?: string;
  errors: string[];
}

function journalKey(consumer: string, shardId: string): string {
  return `_tributary/journal/${safeSegment(consumer)}/${safeSegment(shardId)}.json`;
}

async function readJournal(s3: S3Client, bucket: string, key: string): Promise<JournalEntry[]> {
  return (await getJsonOrNull<{ entries?: JournalEntry[] }>(s3, bucket, key))?.entries ?? [];
}

/**
 * Lowest sequence number to re-deliver after some writes failed. Lambda re-delivers everything from the lowest reported
 * failure on, so the point moves down to the first record of any written object that holds records at or after it:
 * otherwise that object's later records would be written again under another name (a duplicate row).
 */
export function redeliveryPoint(objects: PlannedObject[], failed: PlannedObject[]): string | undefined {
  if (!failed.length) return undefined;
  let point = failed.map((o) => o.firstSeq).sort(compareSeq)[0]!;
  for (let changed = true; changed; ) {
    changed = false;
    for (const o of objects) {
      if (compareSeq(o.lastSeq, point) >= 0 && compareSeq(o.firstSeq, point) < 0) {
        point = o.firstSeq;
        changed = true;
      }
    }
  }
  return point;
}

/**
 * Writes a planned batch so that re-delivery never duplicates a row. A per-shard journal lists the objects written by
 * attempts that are not yet checkpointed; a batch always starts right after the checkpoint, so any journal entry at or
 * after its first record came from an earlier, failed attempt (a crash, a timeout, a bisected retry) and is deleted
 * before the new objects are written. The journal is written first, so even a crash mid-write leaves a trail.
 */
export async function commitPlan(plan: BatchPlan, deps: LakeWriterDeps): Promise<CommitResult> {
  const consumer = deps.consumer ?? 'lake-writer';
  const bucketOf = (o: PlannedObject) => (o.bucket === 'lake' ? deps.buckets.lake : deps.buckets.quarantine);
  const jKey = journalKey(consumer, plan.shardId);
  const journal = await readJournal(deps.s3, deps.buckets.lake, jKey);

  const fresh: JournalEntry[] = plan.objects.map((o) => ({
    bucket: bucketOf(o),
    key: o.key,
    first: o.firstSeq,
    last: o.lastSeq,
  }));
  const freshKeys = new Set(fresh.map((e) => `${e.bucket}/${e.key}`));
  const stale = journal.filter(
    (e) => compareSeq(e.first, plan.firstSeq) >= 0 && !freshKeys.has(`${e.bucket}/${e.key}`),
  );
  // Entries wholly before this batch are committed (the poller checkpointed past them): forget them.
  const kept = journal.filter((e) => compareSeq(e.first, plan.firstSeq) < 0 && compareSeq(e.last, plan.firstSeq) >= 0);

  await deps.s3.send(
    new PutObjectCommand({
      Bucket: deps.buckets.lake,
      Key: jKey,
      Body: JSON.stringify({
        consumer,
        shardId: plan.shardId,
        batchFirst: plan.firstSeq,
        entries: [...kept, ...fresh],
      }),
      ContentType: 'application/json',
    }),
  );
  const staleByBucket = new Map<string, string[]>();
  for (const e of stale) staleByBucket.set(e.bucket, [...(staleByBucket.get(e.bucket) ?? []), e.key]);
  for (const [bucket, keys] of staleByBucket) {
    const failed = await deleteKeys(deps.s3, bucket, keys);
    if (failed.length)
      throw new LakeWriterError(
        'stale_delete_failed',
        `Could not delete ${failed.length} objects of an earlier attempt: ${failed[0]!.message}`,
      );
  }

  const errors: string[] = [];
  const outcomes = await mapLimit(plan.objects, deps.concurrency ?? 8, async (o) => {
    try {
      await deps.s3.send(
        new PutObjectCommand({
          Bucket: bucketOf(o),
          Key: o.key,
          Body: o.body,
          ContentType: 'application/x-ndjson',
          ContentEncoding: 'gzip',
        }),
      );
      return true;
    } catch (err) {
      errors.push(`${o.key}: ${errorMessage(err)}`);
      return false;
    }
  });
  const written = plan.objects.filter((_, i) => outcomes[i]);
  const failed = plan.objects.filter((_, i) => !outcomes[i]);
  const failedFrom = redeliveryPoint(plan.objects, failed);
  recordLakeBatch({
    rows: plan.rows,
    quarantined: plan.quarantined,
    objects: written.length,
    failedObjects: failed.length,
  });
  if (failed.length)
    logger.warn('lake writer: some objects failed; re-delivering', {
      shardId: plan.shardId,
      failedFrom,
      errors: errors.slice(0, 5),
    });
  return { plan, written, errors, ...(failedFrom !== undefined ? { failedFrom } : {}) };
}

/** Plans and commits one or more shards' records (Lambda sends one shard per batch; tests may mix). */
export async function writeRecords(records: StreamRecord[], deps: LakeWriterDeps): Promise<CommitResult[]> {
  const now = (deps.now ?? (() => new Date()))();
  return Promise.all(
    groupByShard(records).map((rs) => commitPlan(planBatch(rs, deps.registry, now, deps.tables), deps)),
  );
}

/** The lake writer's answer to one Lambda Kinesis event: the partial batch response (see `wholeBatchResponse`). */
export function lakeBatch(event: KinesisStreamEvent, deps: LakeWriterDeps): Promise<KinesisStreamBatchResponse> {
  return wholeBatchResponse(event, async (records) =>
    (await writeRecords(records, deps)).map((r) => ({
      shardId: r.plan.shardId,
      ...(r.failedFrom !== undefined ? { failedFrom: r.failedFrom, error: r.errors.join('; ') } : {}),
    })),
  );
}
