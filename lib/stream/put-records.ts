import { PutRecordsCommand, type KinesisClient, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { errorMessage } from '../errors.ts';

/** PutRecords limits: 500 entries and 5 MiB (data + partition keys) per call, 1 MiB per entry. */
export const PUT_RECORDS_MAX_ENTRIES = 500;
export const PUT_RECORDS_MAX_BYTES = 5 * 1024 * 1024;
export const RECORD_MAX_BYTES = 1024 * 1024;

export interface PutEntry {
  data: Uint8Array;
  partitionKey: string;
}

export type PutOutcome =
  | { ok: true; shardId: string; sequenceNumber: string; attempts: number }
  | { ok: false; errorCode: string; errorMessage: string; attempts: number; retryable: boolean };

export interface PutOptions {
  /** Attempts per entry, the first included. */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Give up retrying after this many ms in total (keeps a Lambda or HTTP request inside its timeout). */
  deadlineMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const RETRYABLE_CALL_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'ThrottlingException',
  'KMSThrottlingException',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerError',
  'TimeoutError',
  'RequestTimeout',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
]);

function isRetryableCallError(err: unknown): boolean {
  const e = err as { name?: string; code?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  if (e?.$retryable) return true;
  if (e?.name && RETRYABLE_CALL_ERRORS.has(e.name)) return true;
  if (e?.code && RETRYABLE_CALL_ERRORS.has(e.code)) return true;
  const status = e?.$metadata?.httpStatusCode;
  return status !== undefined && status >= 500;
}

/** Splits entries into PutRecords calls that respect the entry-count and byte limits, keeping order. */
export function chunkEntries<T extends PutEntry>(entries: T[]): T[][] {
  const chunks: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const e of entries) {
    const size = e.data.byteLength + Buffer.byteLength(e.partitionKey);
    if (cur.length && (cur.length >= PUT_RECORDS_MAX_ENTRIES || bytes + size > PUT_RECORDS_MAX_BYTES)) {
      chunks.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(e);
    bytes += size;
  }
  if (cur.length) chunks.push(cur);
  return chunks;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Puts entries on a stream and retries what Kinesis refuses: per-entry failures (throttling, internal errors) and
 * retryable call errors, with full-jitter exponential backoff until attempts or the deadline run out. Returns one
 * outcome per entry, in input order; nothing is dropped without an outcome saying so.
 */
export async function putRecordsReliably(
  kinesis: KinesisClient,
  streamName: string,
  entries: PutEntry[],
  options: PutOptions = {},
): Promise<PutOutcome[]> {
  const maxAttempts = options.maxAttempts ?? 6;
  const base = options.baseDelayMs ?? 50;
  const cap = options.maxDelayMs ?? 2_000;
  const deadline = Date.now() + (options.deadlineMs ?? 20_000);
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;

  const outcomes: (PutOutcome | undefined)[] = new Array(entries.length);
  let pending = entries.map((_, i) => i);
  const lastError = new Map<number, { code: string; message: string; retryable: boolean }>();

  let attempt = 0;
  while (pending.length > 0) {
    attempt++;
    const retry: number[] = [];
    for (const chunk of chunkEntries(pending.map((i) => ({ ...entries[i]!, i })))) {
      const records: PutRecordsRequestEntry[] = chunk.map((e) => ({ Data: e.data, PartitionKey: e.partitionKey }));
      try {
        const res = await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: records }));
        const results = res.Records ?? [];
        chunk.forEach((e, j) => {
          const r = results[j];
          if (r && !r.ErrorCode && r.SequenceNumber && r.ShardId) {
            outcomes[e.i] = { ok: true, shardId: r.ShardId, sequenceNumber: r.SequenceNumber, attempts: attempt };
          } else {
            lastError.set(e.i, { code: r?.ErrorCode ?? 'MissingResult', message: r?.ErrorMessage ?? 'Kinesis returned no result for this entry', retryable: true });
            retry.push(e.i);
          }
        });
      } catch (err) {
        const retryable = isRetryableCallError(err);
        const code = (err as { name?: string }).name ?? 'Error';
        for (const e of chunk) {
          lastError.set(e.i, { code, message: errorMessage(err), retryable });
          if (retryable) retry.push(e.i);
          else outcomes[e.i] = { ok: false, errorCode: code, errorMessage: errorMessage(err), attempts: attempt, retryable: false };
        }
      }
    }
    pending = retry;
    if (!pending.length) break;
    const delay = Math.floor(random() * Math.min(cap, base * 2 ** (attempt - 1)));
    if (attempt >= maxAttempts || Date.now() + delay > deadline) break;
    await sleep(delay);
  }
  for (const i of pending) {
    const e = lastError.get(i) ?? { code: 'Unknown', message: 'not put', retryable: true };
    outcomes[i] = { ok: false, errorCode: e.code, errorMessage: e.message, attempts: attempt, retryable: e.retryable };
  }
  return outcomes as PutOutcome[];
}
