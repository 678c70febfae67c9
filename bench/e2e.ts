/**
 * End to end, locally: the real runtime (`startDev`: kinesalite + s3rver children, ingest API over HTTP, lake writer
 * behind the shard poller) in this process; N valid transactions of the current hour sent with `produce()`; throughput
 * from the first send until every row is in the lake, and per-event freshness from the HTTP response that accepted the
 * event to the first ListObjectsV2 that shows the lake object holding it.
 * Baseline: raw kinesalite PutRecords of the same envelope bytes (500 per call, same concurrency) on a stream of its own
 * in the same emulator, once before and once after the end-to-end run.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  PutRecordsCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Context, KinesisStreamEvent } from 'aws-lambda';
import { createHandler as createLakeWriterHandler } from '../functions/lake-writer/handler.ts';
import { awsClients, destroyAwsClients } from '../lib/aws/clients.ts';
import type { IngestResult } from '../lib/ingest/ingest.ts';
import { planBatch } from '../lib/lake/plan.ts';
import { produce, type ProduceSummary } from '../lib/produce/producer.ts';
import { defaultRegistry } from '../lib/registry/registry.ts';
import { lakeWriterDeps } from '../lib/composition.ts';
import { listAll, readJsonl } from '../lib/aws/s3.ts';
import type { PutEntry } from '../lib/stream/put-records.ts';
import type { StreamRecord } from '../lib/stream/records.ts';
import { mapLimit } from '../lib/util/concurrency.ts';
import { LOCAL_MAPPINGS, startDev, type DevOptions, type DevRuntime } from '../local/dev.ts';
import { ensureStream } from '../local/setup.ts';
import { BATCH, TYPE, envelopes, transactions } from './fixtures.ts';
import { seqNumber } from './lake-writer.ts';
import { envInt, mean, now, percentile, progress, QUICK, sleep } from './util.ts';

const CONCURRENCY = 4;
const LIST_EVERY_MS = 100;

export interface BaselinePass {
  records: number;
  calls: number;
  retriedEntries: number;
  seconds: number;
  recordsPerSec: number;
}

export interface E2eResult {
  events: number;
  accepted: number;
  rejected: number;
  failed: number;
  /** Events whose row never showed up before the deadline (0 when complete). */
  missing: number;
  complete: boolean;
  startupMs: number;
  produce: Pick<ProduceSummary, 'requests' | 'retries' | 'seconds'> & { eventsPerSec: number };
  /** From the first send until the last row is visible in the lake. */
  seconds: number;
  eventsPerSec: number;
  /** After the last HTTP response, how long until the lake held everything. */
  drainSeconds: number;
  freshnessMs: { min: number; p50: number; p95: number; p99: number; max: number; mean: number };
  baseline: { passes: BaselinePass[]; recordsPerSec: number };
  ratio: number;
  avgEventBytes: number;
  avgEnvelopeBytes: number;
  avgPartitionKeyBytes: number;
  avgBodyBytes: number;
  eventHours: number;
  poller: {
    shards: number;
    invocations: number;
    records: number;
    failures: number;
    onFailureBatches: number;
    avgRecordsPerInvocation: number;
    batchSize: number;
    maxBatchingWindowMs: number;
  };
  lake: { objects: number; partitions: number; objectsPerInvocation: number; bytes: number };
  quarantine: { objects: number };
  watcher: { lists: number; listMsP50: number; listMsMax: number; reads: number };
  /** Mean wall time of the real lake-writer handler on batches of the measured average size (for the cost model). */
  lakeWriterInvocation: {
    batches: number;
    recordsPerBatch: number;
    meanMs: number;
    planMeanMs: number;
    s3MeanMs: number;
    /** S3 requests the handler made per batch, counted on the client: objects it planned, and journal PUTs/GETs/deletes. */
    objectsPerBatch: number;
    journalPutsPerBatch: number;
    journalGetsPerBatch: number;
    deletesPerBatch: number;
  };
  /** Raw kinesalite GetRecords rate (Limit 2000, one reader per shard, as the poller reads) on the baseline stream (diagnostic). */
  kinesaliteGetRecords: { records: number; calls: number; recordsPerSec: number; meanCallMs: number };
  /**
   * Backlog: the most rows accepted but not yet visible in the lake at any moment, the rows visible when the producer
   * finished, and the mean time per lake-writer invocation per shard over the run. (The poller's own iterator-age stat
   * cannot serve: kinesalite reports MillisBehindLatest 0 on open shards.)
   */
  maxBacklogRows: number;
  rowsInLakeWhenProduced: number;
  lakeRowsPerSecDuringIngest: number;
  cycleMsPerShard: number;
  /** Latency of every AWS SDK call the runtime and the bench made during the run, by command (as the caller saw it). */
  calls: Record<string, { count: number; p50Ms: number; p95Ms: number; maxMs: number }>;
  /** CPU used during the run (first send -> last row visible), in % of one core, per process (Linux /proc; NaN elsewhere). */
  cpu: { main: number; kinesalite: number; s3rver: number };
  /** Raw s3rver PutObject rate for lake-sized objects (diagnostic). */
  s3rverPut: { objects: number; objectBytes: number; concurrency: number; putsPerSec: number; meanMs: number };
  logs: string[];
  target: { eventsPerSec: number; freshnessP95Ms: number };
}

/** Times every call through an SDK client until the returned function is called (which removes the middleware). */
/** Times every call through the two SDK clients until the returned function is called (which removes the middleware). */
function timeCalls(kinesis: KinesisClient, s3: S3Client, into: Map<string, number[]>): () => void {
  const name = 'benchCallTimer';
  const timer =
    <A, R>(next: (args: A) => Promise<R>, context: { commandName?: string }) =>
    async (args: A): Promise<R> => {
      const t = now();
      try {
        return await next(args);
      } finally {
        const key = context.commandName ?? '?';
        const list = into.get(key) ?? [];
        list.push(now() - t);
        into.set(key, list);
      }
    };
  kinesis.middlewareStack.add(timer, { step: 'initialize', name });
  s3.middlewareStack.add(timer, { step: 'initialize', name });
  return () => {
    kinesis.middlewareStack.remove(name);
    s3.middlewareStack.remove(name);
  };
}

/** CPU seconds a process has used so far (user + system), from /proc; NaN when unavailable. */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime) in clock ticks; the slice above starts at field 3.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

function processCpu(runtime: DevRuntime): { main: number; kinesalite: number; s3rver: number } {
  const byName = (n: string) => runtime.emulators.find((e) => e.name === n)?.child.pid;
  const u = process.cpuUsage();
  return {
    main: (u.user + u.system) / 1e6,
    kinesalite: cpuSeconds(byName('kinesalite')),
    s3rver: cpuSeconds(byName('s3rver')),
  };
}

/** PutRecords of `entries` in calls of 500 with `concurrency` calls in flight, re-putting entries Kinesis refuses. */
async function rawPutRecords(
  kinesis: KinesisClient,
  stream: string,
  entries: PutEntry[],
  concurrency: number,
): Promise<BaselinePass> {
  const chunks: PutEntry[][] = [];
  for (let i = 0; i < entries.length; i += BATCH) chunks.push(entries.slice(i, i + BATCH));
  let calls = 0;
  let retried = 0;
  const t0 = now();
  await mapLimit(chunks, concurrency, async (chunk) => {
    let pending = chunk;
    for (let attempt = 1; pending.length; attempt++) {
      calls++;
      const res = await kinesis.send(
        new PutRecordsCommand({
          StreamName: stream,
          Records: pending.map((e) => ({ Data: e.data, PartitionKey: e.partitionKey })),
        }),
      );
      const results = res.Records ?? [];
      const again = pending.filter((_, i) => !!results[i]?.ErrorCode || !results[i]?.SequenceNumber);
      if (again.length && attempt >= 10)
        throw new Error(`baseline PutRecords: ${again.length} entries still refused after ${attempt} attempts`);
      retried += again.length;
      pending = again;
    }
  });
  const seconds = (now() - t0) / 1000;
  return { records: entries.length, calls, retriedEntries: retried, seconds, recordsPerSec: entries.length / seconds };
}

/** Watches the lake: lists it every ~100 ms, notes when each object key is first seen and reads which ids it holds. */
class LakeWatcher {
  readonly firstSeen = new Map<string, number>();
  readonly idSeen = new Map<string, number>();
  readonly listMs: number[] = [];
  reads = 0;
  errors: string[] = [];
  #stopped = false;
  #queue: string[] = [];
  #readers = 0;
  #loop?: Promise<void>;
  #bytes = new Map<string, number>();

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {}

  start(): void {
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
    while (this.#readers > 0) await sleep(10);
  }

  get bytes(): number {
    let b = 0;
    for (const v of this.#bytes.values()) b += v;
    return b;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const t = now();
      try {
        const objects = await listAll(this.s3, this.bucket, this.prefix);
        const seen = now();
        this.listMs.push(seen - t);
        for (const o of objects) {
          if (!o.Key || this.firstSeen.has(o.Key)) continue;
          this.firstSeen.set(o.Key, seen);
          this.#bytes.set(o.Key, o.Size ?? 0);
          this.#queue.push(o.Key);
        }
        this.#pump();
      } catch (err) {
        if (this.errors.length < 5) this.errors.push(`list: ${(err as Error).message}`);
      }
      await sleep(Math.max(0, LIST_EVERY_MS - (now() - t)));
    }
  }

  #pump(): void {
    while (this.#readers < 4 && this.#queue.length) {
      const key = this.#queue.shift()!;
      this.#readers++;
      void this.#read(key).finally(() => {
        this.#readers--;
        this.#pump();
      });
    }
  }

  async #read(key: string): Promise<void> {
    const at = this.firstSeen.get(key)!;
    for (let attempt = 1; ; attempt++) {
      try {
        const rows = await readJsonl<{ id: string }>(this.s3, this.bucket, key);
        this.reads++;
        for (const r of rows) if (!this.idSeen.has(r.id)) this.idSeen.set(r.id, at);
        return;
      } catch (err) {
        if (attempt >= 5) {
          if (this.errors.length < 5) this.errors.push(`read ${key}: ${(err as Error).message}`);
          return;
        }
        await sleep(50 * attempt);
      }
    }
  }
}

const fakeContext = (): Context => ({
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'lake-writer',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:lake-writer',
  memoryLimitInMB: '512',
  awsRequestId: 'bench',
  logGroupName: '/aws/lambda/lake-writer',
  logStreamName: 'bench',
  getRemainingTimeInMillis: () => 60_000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
});

/**
 * Times the real lake-writer handler (Powertools batch processing, planBatch, journal GET + PUT, object PUTs) on
 * batches of `size` fresh envelopes of the current hour, one after another on a shard of its own, as Lambda would.
 */
async function timeLakeWriter(
  runtime: DevRuntime,
  size: number,
  batches: number,
): Promise<E2eResult['lakeWriterInvocation']> {
  const registry = defaultRegistry();
  const handler = createLakeWriterHandler(() => lakeWriterDeps(runtime.config));
  const to = Date.now();
  const from = Math.floor(to / 3600_000) * 3600_000;
  const set = transactions(size * batches, 777, { from, to: Math.max(from + 1000, to) });
  const env = envelopes(registry, set.bodies);
  const shardId = 'shardId-bench-timing';
  const ms: number[] = [];
  const planMs: number[] = [];
  let objects = 0;
  // Count the S3 requests the handler makes (nothing else uses this client while it runs: ingest is idle).
  const s3 = awsClients(runtime.config).s3;
  const calls = new Map<string, number>();
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      calls.set(context.commandName ?? '?', (calls.get(context.commandName ?? '?') ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'benchRequestCounter' },
  );
  try {
    for (let b = 0; b < batches; b++) {
      const slice = env.entries.slice(b * size, (b + 1) * size);
      const arrival = Date.now() / 1000;
      const records: StreamRecord[] = slice.map((e, j) => ({
        shardId,
        sequenceNumber: seqNumber(10_000_000 + b * size + j),
        partitionKey: e.partitionKey,
        data: Buffer.from(e.data),
        arrivedAt: arrival * 1000,
      }));
      const event: KinesisStreamEvent = {
        Records: records.map((r) => ({
          kinesis: {
            kinesisSchemaVersion: '1.0',
            partitionKey: r.partitionKey,
            sequenceNumber: r.sequenceNumber,
            data: r.data.toString('base64'),
            approximateArrivalTimestamp: arrival,
          },
          eventSource: 'aws:kinesis',
          eventVersion: '1.0',
          eventID: `${shardId}:${r.sequenceNumber}`,
          eventName: 'aws:kinesis:record',
          invokeIdentityArn: 'arn:aws:iam::000000000000:role/bench',
          awsRegion: runtime.config.region,
          eventSourceARN: `arn:aws:kinesis:${runtime.config.region}:000000000000:stream/${runtime.config.streamName}`,
        })),
      };
      const t0 = now();
      const res = await handler(event, fakeContext());
      ms.push(now() - t0);
      if (res.batchItemFailures.length)
        throw new Error(`lake-writer timing batch ${b} reported ${res.batchItemFailures.length} failures`);
      const t1 = now();
      const plan = planBatch(records, registry);
      planMs.push(now() - t1);
      objects += plan.objects.length;
    }
  } finally {
    s3.middlewareStack.remove('benchRequestCounter');
  }
  const meanMs = mean(ms);
  const planMeanMs = mean(planMs);
  const count = (name: string) => calls.get(name) ?? 0;
  return {
    batches,
    recordsPerBatch: size,
    meanMs,
    planMeanMs,
    s3MeanMs: meanMs - planMeanMs,
    objectsPerBatch: objects / batches,
    journalPutsPerBatch: (count('PutObjectCommand') - objects) / batches,
    journalGetsPerBatch: count('GetObjectCommand') / batches,
    deletesPerBatch: count('DeleteObjectsCommand') / batches,
  };
}

/** Reads up to `limit` records of a stream back with GetRecords (Limit 2000), one reader per shard in parallel. */
async function getRecordsRate(
  kinesis: KinesisClient,
  stream: string,
  limit: number,
): Promise<E2eResult['kinesaliteGetRecords']> {
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
  const perShard = Math.ceil(limit / Math.max(1, shards.length));
  const ms: number[] = [];
  let records = 0;
  const t0 = now();
  await Promise.all(
    shards.map(async (sh) => {
      let it = (
        await kinesis.send(
          new GetShardIteratorCommand({ StreamName: stream, ShardId: sh.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }),
        )
      ).ShardIterator;
      let got = 0;
      while (it && got < perShard) {
        const t = now();
        const res = await kinesis.send(new GetRecordsCommand({ ShardIterator: it, Limit: 2_000 }));
        ms.push(now() - t);
        const n = res.Records?.length ?? 0;
        if (!n) break;
        got += n;
        it = res.NextShardIterator;
      }
      records += got;
    }),
  );
  const seconds = (now() - t0) / 1000;
  return { records, calls: ms.length, recordsPerSec: records / seconds, meanCallMs: mean(ms) };
}

/** Raw PutObject rate of s3rver for objects the size of a lake object (into a bucket the pipeline does not read). */
async function s3rverPutRate(
  s3: S3Client,
  bucket: string,
  objectBytes: number,
  count: number,
  concurrency: number,
): Promise<E2eResult['s3rverPut']> {
  const body = Buffer.alloc(Math.max(1, Math.round(objectBytes)), 0x61);
  const ms: number[] = [];
  const t0 = now();
  await mapLimit(
    Array.from({ length: count }, (_, i) => i),
    concurrency,
    async (i) => {
      const t = now();
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `bench/put-rate/${i}.bin`, Body: body }));
      ms.push(now() - t);
    },
  );
  const seconds = (now() - t0) / 1000;
  return { objects: count, objectBytes: body.byteLength, concurrency, putsPerSec: count / seconds, meanMs: mean(ms) };
}

/** `tune` passes event-source-mapping overrides to startDev (to try other settings by hand; `npm run bench` uses none). */
export async function runE2eBench(tune: Pick<DevOptions, 'mapping' | 'pollIntervalMs'> = {}): Promise<E2eResult> {
  const n = envInt('BENCH_E2E_EVENTS', QUICK ? 5_000 : 30_000);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tributary-bench-'));
  const logs: string[] = [];
  progress(`e2e: starting the local runtime in ${dataDir}`);
  let runtime: DevRuntime | undefined;
  try {
    runtime = await startDev({
      dataDir,
      reset: true,
      ports: { api: 0, kinesis: 0, s3: 0 },
      console: false,
      // The lake path alone, as measured before the OLTP sink existed (section 7 measures the sink on its own).
      oltp: false,
      log: (m) => logs.length < 200 && logs.push(m),
      ...tune,
    });
    const rt = runtime;
    const { kinesis, s3 } = awsClients(rt.config);
    const registry = defaultRegistry();

    // Live traffic: event times within the current hour (up to now), so rows land in one or two partitions.
    const to = Date.now();
    const from = Math.floor(to / 3600_000) * 3600_000;
    const set = transactions(n, 20_260_115, { from, to: Math.max(from + 1000, to) });
    const env = envelopes(registry, set.bodies);
    const eventHours = new Set(
      set.lines.map((l) => (JSON.parse(l) as { trans_date_trans_time: string }).trans_date_trans_time.slice(0, 13)),
    ).size;
    const avgBodyBytes = set.bodies.reduce((a, b) => a + Buffer.byteLength(b), 0) / set.bodies.length;

    // Baseline, pass 1: raw PutRecords on a stream of its own (the lake writer does not read it).
    const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: rt.config.streamName }));
    const shards = summary.StreamDescriptionSummary?.OpenShardCount ?? 2;
    const baselineStream = 'bench-baseline';
    await ensureStream(kinesis, baselineStream, shards);
    progress(
      `e2e: baseline pass 1 (raw PutRecords of ${env.entries.length} envelopes, ${CONCURRENCY} calls in flight)`,
    );
    const passes: BaselinePass[] = [await rawPutRecords(kinesis, baselineStream, env.entries, CONCURRENCY)];

    // The end-to-end run.
    const watcher = new LakeWatcher(s3, rt.config.buckets.lake, `events/${TYPE}/`);
    watcher.start();
    const acceptedAt = new Map<string, number>();
    const timedFetch: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const at = now();
      const text = await res.text();
      if (text.includes('"results"')) {
        try {
          for (const r of (JSON.parse(text) as IngestResult).results)
            if (r.status === 'accepted' && !acceptedAt.has(r.id)) acceptedAt.set(r.id, at);
        } catch {
          /* the producer reports it */
        }
      }
      return new Response(text, {
        status: res.status,
        statusText: res.statusText,
        headers: { 'content-type': res.headers.get('content-type') ?? 'application/json' },
      });
    };
    progress(`e2e: sending ${n} events (batch ${BATCH}, concurrency ${CONCURRENCY}) to ${rt.apiUrl}`);
    const callTimes = new Map<string, number[]>();
    const stopTiming = timeCalls(kinesis, s3, callTimes);
    const cpu0 = processCpu(rt);
    const t0 = now();
    const produced = await produce(
      set.lines.map((text, index) => ({ text, index })),
      {
        endpoint: rt.apiUrl,
        apiKey: rt.apiKey,
        type: TYPE,
        batch: BATCH,
        concurrency: CONCURRENCY,
        fetchImpl: timedFetch,
      },
    );
    const tProduced = now();
    progress(
      `e2e: producer done in ${produced.seconds.toFixed(1)} s (${produced.accepted} accepted, ${produced.rejected} rejected, ${produced.failed} failed); waiting for the lake`,
    );

    const expected = [...acceptedAt.keys()];
    if (expected.length !== produced.accepted)
      logs.push(
        `bench: the producer counted ${produced.accepted} accepted events but responses named ${expected.length}`,
      );
    const deadline = now() + Math.max(60_000, n * 2);
    let missing = expected.length;
    let lastReport = now();
    while (now() < deadline) {
      missing = 0;
      for (const id of expected) if (!watcher.idSeen.has(id)) missing++;
      if (missing === 0) break;
      if (now() - lastReport > 5_000) {
        progress(`e2e: ${expected.length - missing}/${expected.length} rows in the lake`);
        lastReport = now();
      }
      await sleep(50);
    }
    const cpu1 = processCpu(rt);
    stopTiming();
    const tCpu = now();
    await watcher.stop();
    const complete = missing === 0;
    let tEnd = t0;
    const fresh: number[] = [];
    for (const id of expected) {
      const seen = watcher.idSeen.get(id);
      if (seen === undefined) continue;
      tEnd = Math.max(tEnd, seen);
      fresh.push(seen - acceptedAt.get(id)!);
    }
    const seconds = (tEnd - t0) / 1000;
    // Rows accepted but not yet in the lake, over time: +1 at accept, -1 when first visible (visibility first on ties).
    const steps: [number, number][] = [];
    for (const id of expected) {
      steps.push([acceptedAt.get(id)!, 1]);
      const seen = watcher.idSeen.get(id);
      if (seen !== undefined) steps.push([seen, -1]);
    }
    steps.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let backlog = 0;
    let maxBacklogRows = 0;
    for (const [, d] of steps) maxBacklogRows = Math.max(maxBacklogRows, (backlog += d));
    let rowsInLakeWhenProduced = 0;
    for (const seen of watcher.idSeen.values()) if (seen <= tProduced) rowsInLakeWhenProduced++;
    progress(
      `e2e: ${complete ? 'all' : `${expected.length - missing}/${expected.length}`} rows in the lake after ${seconds.toFixed(1)} s`,
    );

    // Let the poller record the last invocations (objects become visible just before its stats are updated).
    const statsDeadline = now() + 3_000;
    let stats = rt.poller.stats();
    while (stats.reduce((a, s) => a + s.records, 0) < produced.accepted && now() < statsDeadline) {
      await sleep(50);
      stats = rt.poller.stats();
    }
    const invocations = stats.reduce((a, s) => a + s.invocations, 0);
    const records = stats.reduce((a, s) => a + s.records, 0);
    const lakeObjects = (await listAll(s3, rt.config.buckets.lake, 'events/')).filter((o) =>
      o.Key!.endsWith('.jsonl.gz'),
    );
    const partitions = new Set(lakeObjects.map((o) => o.Key!.slice(0, o.Key!.lastIndexOf('/')))).size;
    const quarantineObjects = (await listAll(s3, rt.config.buckets.quarantine)).length;

    // Baseline, pass 2, now that kinesalite holds the run's data too.
    progress('e2e: baseline pass 2');
    passes.push(await rawPutRecords(kinesis, baselineStream, env.entries, CONCURRENCY));
    const baselineRate = mean(passes.map((p) => p.recordsPerSec));

    // Diagnostics and cost-model inputs, after the measured run so they do not disturb it.
    const avgRecordsPerInvocation = invocations ? records / invocations : NaN;
    const timingSize = Math.max(
      1,
      Math.round(Number.isFinite(avgRecordsPerInvocation) ? avgRecordsPerInvocation : BATCH),
    );
    progress(`e2e: timing the lake-writer handler on batches of ${timingSize}`);
    const lakeWriterInvocation = await timeLakeWriter(rt, timingSize, QUICK ? 4 : 12);
    const kinesaliteGetRecords = await getRecordsRate(kinesis, baselineStream, env.entries.length);
    const avgObjectBytes = lakeObjects.length ? watcher.bytes / Math.max(1, watcher.firstSeen.size) : 50_000;
    const s3rverPut = await s3rverPutRate(s3, rt.config.buckets.athenaResults, avgObjectBytes, QUICK ? 40 : 200, 8);

    const eventsPerSec = seconds > 0 ? produced.accepted / seconds : NaN;
    return {
      events: n,
      accepted: produced.accepted,
      rejected: produced.rejected,
      failed: produced.failed,
      missing,
      complete,
      startupMs: rt.startupMs,
      produce: {
        requests: produced.requests,
        retries: produced.retries,
        seconds: produced.seconds,
        eventsPerSec: produced.accepted / ((tProduced - t0) / 1000),
      },
      seconds,
      eventsPerSec,
      drainSeconds: (tEnd - tProduced) / 1000,
      freshnessMs: {
        min: fresh.reduce((a, b) => Math.min(a, b), Infinity),
        p50: percentile(fresh, 50),
        p95: percentile(fresh, 95),
        p99: percentile(fresh, 99),
        max: fresh.reduce((a, b) => Math.max(a, b), -Infinity),
        mean: mean(fresh),
      },
      baseline: { passes, recordsPerSec: baselineRate },
      ratio: eventsPerSec / baselineRate,
      avgEventBytes: set.avgEventBytes,
      avgEnvelopeBytes: env.avgEnvelopeBytes,
      avgPartitionKeyBytes: env.avgPartitionKeyBytes,
      avgBodyBytes,
      eventHours,
      poller: {
        shards: stats.length,
        invocations,
        records,
        failures: stats.reduce((a, s) => a + s.failures, 0),
        onFailureBatches: stats.reduce((a, s) => a + s.onFailureBatches, 0),
        avgRecordsPerInvocation,
        batchSize: tune.mapping?.batchSize ?? LOCAL_MAPPINGS['lake-writer'].batchSize,
        maxBatchingWindowMs:
          (tune.mapping?.maximumBatchingWindowInSeconds ??
            LOCAL_MAPPINGS['lake-writer'].maximumBatchingWindowInSeconds) * 1000,
      },
      lake: {
        objects: lakeObjects.length,
        partitions,
        objectsPerInvocation: invocations ? lakeObjects.length / invocations : NaN,
        bytes: watcher.bytes,
      },
      quarantine: { objects: quarantineObjects },
      watcher: {
        lists: watcher.listMs.length,
        listMsP50: percentile(watcher.listMs, 50),
        listMsMax: Math.max(...watcher.listMs),
        reads: watcher.reads,
      },
      lakeWriterInvocation,
      kinesaliteGetRecords,
      maxBacklogRows,
      rowsInLakeWhenProduced,
      lakeRowsPerSecDuringIngest: rowsInLakeWhenProduced / ((tProduced - t0) / 1000),
      calls: Object.fromEntries(
        [...callTimes].map(([k, v]) => [
          k.replace(/Command$/, ''),
          {
            count: v.length,
            p50Ms: percentile(v, 50),
            p95Ms: percentile(v, 95),
            maxMs: v.reduce((a, b) => Math.max(a, b), 0),
          },
        ]),
      ),
      cpu: {
        main: ((cpu1.main - cpu0.main) / ((tCpu - t0) / 1000)) * 100,
        kinesalite: ((cpu1.kinesalite - cpu0.kinesalite) / ((tCpu - t0) / 1000)) * 100,
        s3rver: ((cpu1.s3rver - cpu0.s3rver) / ((tCpu - t0) / 1000)) * 100,
      },
      cycleMsPerShard: invocations ? (seconds * 1000 * stats.length) / invocations : NaN,
      s3rverPut,
      logs: [...logs, ...watcher.errors.map((e) => `watcher ${e}`)],
      target: { eventsPerSec: 5_000, freshnessP95Ms: 5_000 },
    };
  } finally {
    progress('e2e: stopping the runtime');
    await runtime?.stop();
    destroyAwsClients();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
