import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import { errorMessage } from '../errors.ts';
import { newId } from '../ids.ts';
import { quarantineRecord, type QuarantineReason, type QuarantineStage } from '../quarantine/record.ts';
import { writeQuarantine } from '../quarantine/write.ts';
import type { FieldError, Registry } from '../registry/registry.ts';
import { putRecordsReliably, type PutOptions } from '../stream/put-records.ts';
import { prepareEvents, type EventsRequest } from '../events/prepare.ts';

export interface IngestDeps {
  registry: Registry;
  kinesis: KinesisClient;
  s3: S3Client;
  streamName: string;
  quarantineBucket: string;
  putOptions?: PutOptions;
  now?: () => Date;
}

/** What the ingest API hands to `ingestEvents`: one body of one type. */
export type IngestRequest = EventsRequest & {
  /**
   * How its rejections are quarantined: the stage they are filed under (default `ingest`) and a name for the object
   * that is the same when the same events are sent again (a re-run file load overwrites its own objects).
   */
  quarantine?: { stage: QuarantineStage; unique: string };
};

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
    const quarantinedAt = (deps.now ?? (() => new Date()))().toISOString();
    const stage = req.quarantine?.stage ?? 'ingest';
    const records = rejections.map((r) => {
      r.raw = parsed.rawOf(r.index);
      return quarantineRecord({
        id: r.id,
        stage,
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
      await writeQuarantine(deps.s3, deps.quarantineBucket, records, stage, req.quarantine?.unique ?? newId());
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
