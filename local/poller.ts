import { randomUUID } from 'node:crypto';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  type _Record,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { listAllShards } from '../lib/aws/kinesis.ts';
import { withRetries } from '../lib/util/retry.ts';
import { sleep } from '../lib/util/time.ts';
import { ConfigError, errorMessage } from '../lib/errors.ts';
import type { KinesisMapping } from '../lib/stream/mappings.ts';
import type { ShardMetricsRecorder } from '../lib/metrics/types.ts';
import { compareSeq } from '../lib/stream/records.ts';
import { newestAge } from '../lib/stream/lag.ts';
import type { CheckpointStore } from './checkpoints.ts';

export type KinesisHandler = (
  event: KinesisStreamEvent,
  context: Context,
) => Promise<KinesisStreamBatchResponse | undefined>;

/**
 * One consumer's event-source mapping as the local poller runs it: the mapping's own settings in Lambda's field names
 * (`lib/stream/mappings.ts`, with the local overrides of `local/dev.ts`), plus what Lambda takes from elsewhere — the
 * function, its timeout and the S3 on-failure destination.
 */
export interface EventSourceMapping extends KinesisMapping {
  name: string;
  handler: KinesisHandler;
  /** S3 on-failure destination: a record of each discarded batch, with its payload. */
  onFailure?: { bucket: string };
  functionTimeoutMs: number;
}

/**
 * Lambda event filtering for Kinesis, as far as the mappings use it: each pattern is an object whose leaves are arrays
 * of exact values or `{"prefix": "…"}` (any may match; a prefix matches strings only; a record field holding an array
 * matches when any element does), matched against the record's data decoded as JSON (data that is not a JSON object
 * never matches). Lambda filters Kinesis records on `data` only, so a pattern with any other top-level key (the
 * partition key, say) is refused, as is any other operator (`numeric`, `exists`, …), when the poller starts, rather
 * than half-emulated.
 */
const isPrefix = (x: unknown): x is { prefix: string } =>
  !!x && typeof x === 'object' && Object.keys(x).length === 1 && typeof (x as { prefix?: unknown }).prefix === 'string';

export function recordFilter(
  criteria: KinesisMapping['filterCriteria'],
): ((record: KinesisStreamRecord['kinesis']) => boolean) | undefined {
  const patterns = (criteria?.filters ?? []).map((f) => JSON.parse(f.pattern) as unknown);
  if (!patterns.length) return undefined;
  const check = (pattern: unknown, where: string): void => {
    if (!pattern || typeof pattern !== 'object' || Array.isArray(pattern))
      throw new ConfigError(`Filter pattern ${where} must be an object.`);
    for (const [k, v] of Object.entries(pattern)) {
      if (Array.isArray(v)) {
        if (v.some((x) => x !== null && typeof x === 'object' && !isPrefix(x)))
          throw new ConfigError(
            `Filter pattern ${where}.${k} uses an operator the local poller does not emulate; only arrays of exact values and {"prefix": "…"} are supported.`,
          );
      } else check(v, `${where}.${k}`);
    }
  };
  patterns.forEach((p, i) => {
    check(p, `#${i + 1}`);
    const other = Object.keys(p as object).filter((k) => k !== 'data');
    if (other.length)
      throw new ConfigError(
        `Filter pattern #${i + 1} filters on ${other.map((k) => JSON.stringify(k)).join(', ')}; Kinesis event source mappings only filter on "data" (the record's JSON).`,
      );
  });
  const matches = (pattern: Record<string, unknown>, value: unknown): boolean =>
    Object.entries(pattern).every(([k, want]) => {
      const got =
        value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[k] : undefined;
      if (!Array.isArray(want)) return matches(want as Record<string, unknown>, got);
      return (Array.isArray(got) ? got : [got]).some(
        (g) =>
          got !== undefined &&
          want.some((w) => (isPrefix(w) ? typeof g === 'string' && g.startsWith(w.prefix) : w === g)),
      );
    });
  return (record) => {
    let data: unknown;
    try {
      data = JSON.parse(Buffer.from(record.data, 'base64').toString('utf8'));
    } catch {
      data = undefined;
    }
    const subject = { data };
    return patterns.some((p) => matches(p as Record<string, unknown>, subject));
  };
}

export interface PollerOptions {
  kinesis: KinesisClient;
  s3: S3Client;
  streamName: string;
  region: string;
  mapping: EventSourceMapping;
  checkpoints: CheckpointStore;
  pollIntervalMs?: number;
  shardRefreshMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  log?: (msg: string) => void;
  /** Counts each GetRecords (OutgoingRecords, IteratorAgeMilliseconds), as Kinesis does for Lambda's pollers in AWS. */
  metrics?: Pick<ShardMetricsRecorder, 'recordRead' | 'recordConsumerLag'>;
}

export interface ShardStats {
  shardId: string;
  state: 'waiting-for-parent' | 'polling' | 'ended';
  checkpoint?: string;
  invocations: number;
  /** GetRecords calls answered (empty ones included): how a test knows the shard was read, with or without records. */
  reads: number;
  records: number;
  failures: number;
  onFailureBatches: number;
  iteratorAgeMs: number;
}

class FunctionError extends Error {}

/** Lambda's invocation payload limit: a Kinesis batch is cut at the batch size or 6 MB, whichever comes first. */
export const MAX_INVOKE_PAYLOAD_BYTES = 6 * 1024 * 1024;
// Per-record JSON around the base64 data in the event (ids, ARNs, timestamps).
const RECORD_EVENT_OVERHEAD = 512;

/** How many records from the front of `buffer` fit one invocation. */
export function batchLength(buffer: readonly Pick<_Record, 'Data'>[], batchSize: number): number {
  let bytes = 64;
  let n = 0;
  while (n < buffer.length && n < batchSize) {
    const size = Math.ceil((buffer[n]!.Data?.byteLength ?? 0) / 3) * 4 + RECORD_EVENT_OVERHEAD;
    if (n > 0 && bytes + size > MAX_INVOKE_PAYLOAD_BYTES) break;
    bytes += size;
    n++;
  }
  return n;
}

/**
 * A local stand-in for Lambda's Kinesis event-source mapping: one worker per shard, batch size and batching window,
 * ReportBatchItemFailures (checkpoint just before the lowest failed record), bisect on function error (splits do not
 * use up retries), maximum retry attempts and record age, then an S3 on-failure record with the batch; checkpoints
 * persisted after every batch; children start only after their parents are fully processed.
 */
export class ShardPoller {
  readonly #o: Required<Omit<PollerOptions, 'log' | 'metrics'>> &
    Pick<PollerOptions, 'metrics'> & { log: (msg: string) => void };
  readonly #abort = new AbortController();
  readonly #workers = new Map<string, Promise<void>>();
  readonly #stats = new Map<string, ShardStats>();
  readonly #uuid = randomUUID();
  #loop?: Promise<void>;

  readonly #filter: ReturnType<typeof recordFilter>;

  constructor(options: PollerOptions) {
    if (options.mapping.parallelizationFactor !== 1) {
      throw new ConfigError(
        `${options.mapping.name}: the local poller runs one batch per shard at a time; parallelizationFactor ${options.mapping.parallelizationFactor} is not emulated.`,
      );
    }
    this.#filter = recordFilter(options.mapping.filterCriteria);
    this.#o = {
      pollIntervalMs: 250,
      shardRefreshMs: 2_000,
      retryBaseMs: 100,
      retryMaxMs: 5_000,
      log: () => {},
      ...options,
    };
  }

  get streamArn(): string {
    return `arn:aws:kinesis:${this.#o.region}:000000000000:stream/${this.#o.streamName}`;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stops polling; an in-flight invocation finishes and is checkpointed first. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
    await Promise.allSettled(this.#workers.values());
  }

  stats(): ShardStats[] {
    return [...this.#stats.values()].map((s) => ({
      ...s,
      checkpoint: this.#o.checkpoints.get(s.shardId)?.sequenceNumber,
    }));
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      try {
        await this.#refreshShards();
      } catch (err) {
        this.#o.log(`[${this.#o.mapping.name}] cannot list shards: ${errorMessage(err)}`);
      }
      await sleep(this.#o.shardRefreshMs, signal);
    }
  }

  async #refreshShards(): Promise<void> {
    const shards: Shard[] = await listAllShards(this.#o.kinesis, this.#o.streamName);
    const known = new Set(shards.map((s) => s.ShardId!));
    for (const shard of shards) {
      const id = shard.ShardId!;
      if (this.#workers.has(id) || this.#o.checkpoints.get(id)?.ended) {
        if (!this.#stats.has(id)) this.#stats.set(id, this.#emptyStats(id, 'ended'));
        continue;
      }
      const parents = [shard.ParentShardId, shard.AdjacentParentShardId].filter((p): p is string => !!p);
      // A parent that has aged out of the stream has nothing left to read.
      const waiting = parents.filter((p) => known.has(p) && !this.#o.checkpoints.get(p)?.ended);
      if (waiting.length) {
        this.#stats.set(id, this.#emptyStats(id, 'waiting-for-parent'));
        continue;
      }
      this.#stats.set(id, { ...(this.#stats.get(id) ?? this.#emptyStats(id, 'polling')), state: 'polling' });
      const worker = this.#worker(id).catch((err) =>
        this.#o.log(`[${this.#o.mapping.name}] ${id} stopped: ${errorMessage(err)}`),
      );
      this.#workers.set(
        id,
        worker.finally(() => this.#workers.delete(id)),
      );
    }
  }

  #emptyStats(shardId: string, state: ShardStats['state']): ShardStats {
    return { shardId, state, invocations: 0, reads: 0, records: 0, failures: 0, onFailureBatches: 0, iteratorAgeMs: 0 };
  }

  async #iterator(shardId: string, after?: string): Promise<string | undefined> {
    const cp = after ?? this.#o.checkpoints.get(shardId)?.sequenceNumber;
    const res = await this.#o.kinesis.send(
      new GetShardIteratorCommand({
        StreamName: this.#o.streamName,
        ShardId: shardId,
        ...(cp
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: cp }
          : { ShardIteratorType: this.#o.mapping.startingPosition }),
      }),
    );
    return res.ShardIterator;
  }

  async #worker(shardId: string): Promise<void> {
    const { mapping } = this.#o;
    const signal = this.#abort.signal;
    let iterator = await this.#iterator(shardId);
    let lastRead: string | undefined;
    const buffer: _Record[] = [];
    // Keep reading while a batch is being processed (as Lambda's pollers do), up to two batches ahead.
    const readAhead = mapping.batchSize * 2;
    let windowStart = 0;
    let open = true;
    let inflight: Promise<void> | undefined;
    while (!signal.aborted) {
      let got = 0;
      if (open && iterator && buffer.length < readAhead) {
        try {
          const res = await this.#o.kinesis.send(
            new GetRecordsCommand({ ShardIterator: iterator, Limit: Math.min(10_000, readAhead - buffer.length) }),
          );
          const recs = res.Records ?? [];
          got = recs.length;
          const read = this.#stats.get(shardId);
          if (read) read.reads++;
          const last = recs[recs.length - 1];
          // kinesalite reports MillisBehindLatest 0 for an open shard (and the time since a closed shard ended on its
          // last read), so the age comes from the newest record read; a read that finds nothing is caught up.
          const age = last
            ? Math.max(
                res.MillisBehindLatest ?? 0,
                Date.now() - (last.ApproximateArrivalTimestamp?.getTime() ?? Date.now()),
              )
            : 0;
          this.#o.metrics?.recordRead(shardId, got, age);
          if (last) {
            buffer.push(...recs);
            lastRead = last.SequenceNumber;
            if (!windowStart) windowStart = Date.now();
            const stats = this.#stats.get(shardId);
            if (stats) stats.iteratorAgeMs = age;
          }
          iterator = res.NextShardIterator;
          if (!iterator) open = false;
        } catch (err) {
          const name = (err as { name?: string }).name;
          if (name === 'ExpiredIteratorException') {
            iterator = await this.#iterator(shardId, lastRead);
            continue;
          }
          this.#o.log(`[${mapping.name}] ${shardId} GetRecords failed: ${errorMessage(err)}`);
          await sleep(this.#o.retryMaxMs, signal);
          continue;
        }
      }
      const fits = batchLength(buffer, mapping.batchSize);
      const full = fits >= mapping.batchSize || fits < buffer.length;
      const due =
        buffer.length > 0 &&
        (full || !open || Date.now() - windowStart >= mapping.maximumBatchingWindowInSeconds * 1000);
      if (due && !inflight) {
        const batch = buffer.splice(0, fits);
        windowStart = buffer.length ? Date.now() : 0;
        inflight = this.#process(shardId, batch).finally(() => (inflight = undefined));
        continue;
      }
      if (!open && buffer.length === 0 && !inflight) {
        this.#o.checkpoints.set(shardId, { ended: true });
        const s = this.#stats.get(shardId);
        if (s) s.state = 'ended';
        this.#o.log(`[${mapping.name}] ${shardId} closed and fully processed`);
        return;
      }
      // Caught up: nothing read, nothing waiting, nothing being processed.
      if (got === 0 && open && !buffer.length && !inflight)
        this.#o.metrics?.recordConsumerLag(mapping.name, shardId, 0);
      if (got === 0 || due || buffer.length >= readAhead) {
        const wait =
          buffer.length && !due
            ? Math.max(10, mapping.maximumBatchingWindowInSeconds * 1000 - (Date.now() - windowStart))
            : this.#o.pollIntervalMs;
        await Promise.race([sleep(Math.min(wait, this.#o.pollIntervalMs), signal), ...(inflight ? [inflight] : [])]);
      }
    }
    await inflight;
  }

  #event(shardId: string, records: _Record[]): KinesisStreamEvent {
    const arn = this.streamArn;
    return {
      Records: records.map(
        (r): KinesisStreamRecord => ({
          kinesis: {
            kinesisSchemaVersion: '1.0',
            partitionKey: r.PartitionKey!,
            sequenceNumber: r.SequenceNumber!,
            data: Buffer.from(r.Data!).toString('base64'),
            approximateArrivalTimestamp: (r.ApproximateArrivalTimestamp?.getTime() ?? Date.now()) / 1000,
          },
          eventSource: 'aws:kinesis',
          eventVersion: '1.0',
          eventID: `${shardId}:${r.SequenceNumber}`,
          eventName: 'aws:kinesis:record',
          invokeIdentityArn: 'arn:aws:iam::000000000000:role/tributary-local',
          awsRegion: this.#o.region,
          eventSourceARN: arn,
        }),
      ),
    };
  }

  #context(): Context {
    const deadline = Date.now() + this.#o.mapping.functionTimeoutMs;
    const name = this.#o.mapping.name;
    return {
      callbackWaitsForEmptyEventLoop: false,
      functionName: name,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:${this.#o.region}:000000000000:function:${name}`,
      memoryLimitInMB: '1024',
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${name}`,
      logStreamName: 'local',
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => {},
      fail: () => {},
      succeed: () => {},
    };
  }

  /** Invokes the function; returns the index of the first record to retry, or -1 when the batch succeeded. */
  async #invoke(shardId: string, records: _Record[]): Promise<number> {
    const { mapping } = this.#o;
    const stats = this.#stats.get(shardId);
    if (stats) stats.invocations++;
    let timer: NodeJS.Timeout | undefined;
    try {
      const res = await Promise.race([
        mapping.handler(this.#event(shardId, records), this.#context()),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new FunctionError(`Task timed out after ${mapping.functionTimeoutMs} ms`)),
            mapping.functionTimeoutMs,
          );
        }),
      ]);
      const failures = mapping.functionResponseTypes.includes('ReportBatchItemFailures')
        ? ((res as KinesisStreamBatchResponse | undefined)?.batchItemFailures ?? [])
        : [];
      if (!failures.length) return -1;
      let lowest = -1;
      for (const f of failures) {
        const i = records.findIndex((r) => r.SequenceNumber === f.itemIdentifier);
        // Lambda treats an identifier it cannot match as a failure of the whole batch.
        if (i < 0) return 0;
        if (lowest < 0 || i < lowest) lowest = i;
      }
      if (stats) stats.failures++;
      return lowest;
    } catch (err) {
      if (stats) stats.failures++;
      this.#o.log(`[${mapping.name}] ${shardId} function error: ${errorMessage(err)}`);
      throw new FunctionError(errorMessage(err));
    } finally {
      clearTimeout(timer);
    }
  }

  async #process(shardId: string, read: _Record[]): Promise<void> {
    const { mapping } = this.#o;
    const signal = this.#abort.signal;
    // Filtered-out records are never delivered; the checkpoint moves past them with the batch they were read in.
    const filter = this.#filter;
    const batch = filter ? read.filter((r) => filter(this.#event(shardId, [r]).Records[0]!.kinesis)) : read;
    const queue: { records: _Record[]; attempts: number }[] = batch.length ? [{ records: batch, attempts: 0 }] : [];
    while (queue.length) {
      const item = queue[0]!;
      if (mapping.maximumRecordAgeInSeconds >= 0) {
        const cutoff = Date.now() - mapping.maximumRecordAgeInSeconds * 1000;
        let n = 0;
        while (
          n < item.records.length &&
          (item.records[n]!.ApproximateArrivalTimestamp?.getTime() ?? Date.now()) < cutoff
        )
          n++;
        if (n > 0) {
          await this.#discard(shardId, item.records.slice(0, n), 'RecordAgeExceeded', item.attempts);
          item.records = item.records.slice(n);
          if (!item.records.length) {
            queue.shift();
            continue;
          }
        }
      }
      let from: number;
      let functionError = false;
      // Each invocation, its first and every retry, says how far behind this consumer is (lib/stream/lag.ts).
      this.#o.metrics?.recordConsumerLag(
        mapping.name,
        shardId,
        newestAge(item.records.map((r) => r.ApproximateArrivalTimestamp?.getTime() ?? Date.now())),
      );
      try {
        from = await this.#invoke(shardId, item.records);
      } catch {
        from = 0;
        functionError = true;
      }
      if (from < 0) {
        this.#commit(shardId, item.records);
        queue.shift();
        continue;
      }
      if (from > 0) {
        this.#commit(shardId, item.records.slice(0, from));
        item.records = item.records.slice(from);
      }
      if (functionError && mapping.bisectBatchOnFunctionError && item.records.length > 1) {
        // Splitting a batch does not use up a retry (Lambda semantics).
        const mid = Math.ceil(item.records.length / 2);
        queue.splice(
          0,
          1,
          { records: item.records.slice(0, mid), attempts: item.attempts },
          { records: item.records.slice(mid), attempts: item.attempts },
        );
      } else {
        item.attempts++;
        if (mapping.maximumRetryAttempts >= 0 && item.attempts > mapping.maximumRetryAttempts) {
          await this.#discard(shardId, item.records, 'RetryAttemptsExhausted', item.attempts);
          queue.shift();
          continue;
        }
      }
      const delay = Math.min(this.#o.retryMaxMs, this.#o.retryBaseMs * 2 ** Math.max(0, item.attempts - 1));
      await sleep(delay, signal);
      if (signal.aborted) return;
    }
    if (filter) this.#commit(shardId, read, read.length - batch.length);
  }

  #commit(shardId: string, records: _Record[], count = records.length): void {
    if (!records.length) return;
    const last = records[records.length - 1]!.SequenceNumber!;
    const prev = this.#o.checkpoints.get(shardId)?.sequenceNumber;
    if (!prev || compareSeq(last, prev) > 0) this.#o.checkpoints.set(shardId, { sequenceNumber: last });
    const s = this.#stats.get(shardId);
    if (s) s.records += count;
  }

  /** Writes an S3 on-failure record (metadata + the invocation payload) and checkpoints past the batch. */
  async #discard(shardId: string, records: _Record[], condition: string, attempts: number): Promise<void> {
    const { mapping } = this.#o;
    const first = records[0]!;
    const last = records[records.length - 1]!;
    if (mapping.onFailure) {
      const now = new Date();
      const iso = now.toISOString();
      const key = `aws/lambda/${this.#uuid}/${shardId}/${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.replace(/:/g, '.').slice(0, 19)}-${randomUUID()}`;
      const body = {
        version: '1.0',
        timestamp: iso,
        requestContext: {
          requestId: randomUUID(),
          functionArn: `arn:aws:lambda:${this.#o.region}:000000000000:function:${mapping.name}`,
          condition,
          approximateInvokeCount: attempts,
        },
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        KinesisBatchInfo: {
          shardId,
          startSequenceNumber: first.SequenceNumber,
          endSequenceNumber: last.SequenceNumber,
          approximateArrivalOfFirstRecord: first.ApproximateArrivalTimestamp?.toISOString(),
          approximateArrivalOfLastRecord: last.ApproximateArrivalTimestamp?.toISOString(),
          batchSize: records.length,
          streamArn: this.streamArn,
        },
        payload: JSON.stringify(this.#event(shardId, records)),
      };
      // Keep trying: the records leave the stream's reach once checkpointed, so this write must land first.
      const onFailure = mapping.onFailure;
      try {
        await withRetries(
          () =>
            this.#o.s3.send(
              new PutObjectCommand({
                Bucket: onFailure.bucket,
                Key: key,
                Body: JSON.stringify(body),
                ContentType: 'application/json',
              }),
            ),
          {
            attempts: Number.POSITIVE_INFINITY,
            baseMs: this.#o.retryBaseMs,
            maxMs: this.#o.retryMaxMs,
            signal: this.#abort.signal,
            onRetry: (err, attempt) =>
              this.#o.log(`[${mapping.name}] on-failure write failed (attempt ${attempt}): ${errorMessage(err)}`),
          },
        );
      } catch {
        return; // stopping: the batch is not checkpointed and is read again on the next start
      }
    }
    this.#o.log(
      `[${mapping.name}] ${shardId} discarded ${records.length} records (${condition}) to the on-failure destination`,
    );
    const s = this.#stats.get(shardId);
    if (s) s.onFailureBatches++;
    this.#commit(shardId, records);
  }
}
