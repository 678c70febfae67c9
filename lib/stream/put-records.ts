import { PutRecordsCommand, type KinesisClient, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { errorMessage } from '../errors.ts';
import { chunkConsecutive } from '../util/chunks.ts';
import { sleep as pause } from '../util/time.ts';
import type { ShardMetricsRecorder } from '../metrics/types.ts';

/** PutRecords limits: 500 entries and 5 MiB (data + partition keys) per call, 1 MiB per entry. */
export const PUT_RECORDS_MAX_ENTRIES = 500;
export const PUT_RECORDS_MAX_BYTES = 5 * 1024 * 1024;
export const RECORD_MAX_BYTES = 1024 * 1024;

export interface PutEntry {
  data: Uint8Array;
  partitionKey: string;
  /** Places the record by this hash (a decimal 128-bit number) instead of its partition key's (an aggregate's). */
  explicitHashKey?: string;
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
  /**
   * Counts what each shard took and refused (the local runtime's stand-in for Kinesis's shard metrics); absent in AWS,
   * where Kinesis publishes them itself.
   */
  metrics?: Pick<ShardMetricsRecorder, 'recordPut'>;
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

/** Bytes an entry counts for against the PutRecords limits (and in IncomingBytes): data plus partition key. */
export function entryBytes(e: PutEntry): number {
  return e.data.byteLength + Buffer.byteLength(e.partitionKey);
}

/** Splits entries into PutRecords calls that respect the entry-count and byte limits, keeping order. */
export function chunkEntries<T extends PutEntry>(entries: T[]): T[][] {
  return chunkConsecutive(entries, entryBytes, PUT_RECORDS_MAX_BYTES, PUT_RECORDS_MAX_ENTRIES);
}

const THROTTLED = 'ProvisionedThroughputExceededException';
/** Stands for the shard of a throttled entry when Kinesis's message does not name it. */
export const UNKNOWN_SHARD = 'stream';

/**
 * Kinesis returns no ShardId for a refused entry, but its throttling message names the shard ("Rate exceeded for shard
 * shardId-000000000001 in stream …").
 */
function throttledShard(message: string | undefined): string {
  return /\bshardId-\d+\b/.exec(message ?? '')?.[0] ?? UNKNOWN_SHARD;
}

/** Per-shard tallies of one PutRecords call, handed to the recorder once per shard. */
class PutTally {
  readonly #byShard = new Map<string, { records: number; bytes: number; throttled: number }>();

  constructor(readonly metrics: Pick<ShardMetricsRecorder, 'recordPut'>) {}

  #of(shardId: string) {
    let t = this.#byShard.get(shardId);
    if (!t) this.#byShard.set(shardId, (t = { records: 0, bytes: 0, throttled: 0 }));
    return t;
  }

  stored(shardId: string, bytes: number): void {
    const t = this.#of(shardId);
    t.records++;
    t.bytes += bytes;
  }

  throttled(shardId: string): void {
    this.#of(shardId).throttled++;
  }

  report(): void {
    for (const [shardId, t] of this.#byShard) this.metrics.recordPut(shardId, t.records, t.bytes, t.throttled);
  }
}

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
  const sleep = options.sleep ?? ((ms: number) => pause(ms));
  const random = options.random ?? Math.random;

  const outcomes: (PutOutcome | undefined)[] = new Array(entries.length);
  let pending = entries.map((_, i) => i);
  const lastError = new Map<number, { code: string; message: string; retryable: boolean }>();

  let attempt = 0;
  while (pending.length > 0) {
    attempt++;
    const retry: number[] = [];
    for (const chunk of chunkEntries(pending.map((i) => ({ ...entries[i]!, i })))) {
      const records: PutRecordsRequestEntry[] = chunk.map((e) => ({
        Data: e.data,
        PartitionKey: e.partitionKey,
        ...(e.explicitHashKey !== undefined ? { ExplicitHashKey: e.explicitHashKey } : {}),
      }));
      const tally = options.metrics && new PutTally(options.metrics);
      try {
        const res = await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: records }));
        const results = res.Records ?? [];
        chunk.forEach((e, j) => {
          const r = results[j];
          if (r && !r.ErrorCode && r.SequenceNumber && r.ShardId) {
            outcomes[e.i] = { ok: true, shardId: r.ShardId, sequenceNumber: r.SequenceNumber, attempts: attempt };
            tally?.stored(r.ShardId, entryBytes(e));
          } else {
            if (r?.ErrorCode === THROTTLED) tally?.throttled(throttledShard(r.ErrorMessage));
            lastError.set(e.i, {
              code: r?.ErrorCode ?? 'MissingResult',
              message: r?.ErrorMessage ?? 'Kinesis returned no result for this entry',
              retryable: true,
            });
            retry.push(e.i);
          }
        });
      } catch (err) {
        const retryable = isRetryableCallError(err);
        const code = (err as { name?: string }).name ?? 'Error';
        for (const e of chunk) {
          if (code === THROTTLED) tally?.throttled(throttledShard(errorMessage(err)));
          lastError.set(e.i, { code, message: errorMessage(err), retryable });
          if (retryable) retry.push(e.i);
          else
            outcomes[e.i] = {
              ok: false,
              errorCode: code,
              errorMessage: errorMessage(err),
              attempts: attempt,
              retryable: false,
            };
        }
      }
      tally?.report();
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
