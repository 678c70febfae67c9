/**
 * Quarantine benchmark: 100k quarantined records (three types, every stage and reason, a week of quarantine times) in
 * the local S3 emulator, written as the pipeline writes them (gzip JSONL objects of up to 100 records). Measures the
 * console's list requests (server-side filters + paging, the index re-listing the bucket as it does in service) as
 * p50/p95 against the 300 ms target, next to the same counts through the SQL engine (DuckDB over the `quarantine`
 * table: what an operator would run without the index), and a re-drive job's throughput against its rate limit.
 */
import { rmSync } from 'node:fs';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { awsClients } from '../lib/aws/clients.ts';
import { serializeEnvelope } from '../lib/envelope.ts';
import {
  quarantineObjects,
  quarantineRecord,
  QUARANTINE_REASONS,
  type QuarantineRecord,
  type QuarantineStage,
} from '../lib/quarantine/record.ts';
import { QuarantineIndex } from '../lib/quarantine/quarantine-index.ts';
import type { QuarantineFilter } from '../lib/quarantine/filter.ts';
import { QuarantineService } from '../lib/quarantine/service.ts';
import { syntheticEvents, SYNTHETIC_TYPES } from '../lib/produce/synthetic.ts';
import { defaultRegistry } from '../lib/registry/registry.ts';
import { queryService } from '../lib/composition.ts';
import { mapLimit } from '../lib/util/concurrency.ts';
import { median, now, percentile, progress, QUICK, startBenchRuntime } from './util.ts';

export interface ListFigure {
  name: string;
  filter: QuarantineFilter;
  offset: number;
  total: number;
  p50: number;
  p95: number;
  max: number;
  /** The same count through the SQL engine (median ms). */
  sqlMs?: number;
}

export interface QuarantineBenchResult {
  records: number;
  objects: number;
  writeSeconds: number;
  coldLoadMs: number;
  heapMiB: number;
  listMs: number;
  requests: number;
  lists: ListFigure[];
  p95: number;
  target: number;
  sqlMedianMs: number;
  ratioSqlToIndex: number;
  /** `ratioToRate`: the most records put in any one-second window over the rate limit (≤ 1 keeps the promise). */
  redrive: {
    records: number;
    rate: number;
    seconds: number;
    recordsPerSec: number;
    maxInOneSecond: number;
    onStream: number;
    accepted: number;
    failedAgain: number;
    ratioToRate: number;
  };
}

const DAY_MS = 86_400_000;

/** Records of one synthetic request: a type, a stage, a reason, a time; 1 in 10 hold an event that is valid again. */
function* benchRecords(
  total: number,
): Generator<{ records: QuarantineRecord[]; stage: QuarantineStage; unique: string }> {
  const registry = defaultRegistry();
  const stages: QuarantineStage[] = ['ingest', 'ingest', 'ingest', 'lake-writer', 'redrive'];
  const start = Date.now() - 7 * DAY_MS;
  let made = 0;
  for (let obj = 0; made < total; obj++) {
    const type = SYNTHETIC_TYPES[obj % SYNTHETIC_TYPES.length]!;
    const stage = stages[obj % stages.length]!;
    const reason = stage === 'lake-writer' ? 'invalid_envelope' : QUARANTINE_REASONS[Math.floor(obj / 3) % 3]!;
    const at = new Date(start + Math.floor((obj * 7 * DAY_MS) / Math.ceil(total / 100))).toISOString();
    const n = Math.min(100, total - made);
    const records: QuarantineRecord[] = [];
    let i = 0;
    for (const e of syntheticEvents(type, n, { seed: obj + 1, invalidRatio: 0 })) {
      const data = e.value as Record<string, unknown>;
      const valid = (made + i) % 10 === 0;
      const id = `bench-${made + i}`;
      const payload =
        stage === 'lake-writer'
          ? serializeEnvelope({ id, type, v: 1, received_at: at, event_time: at, source: 'producer', data }).replace(
              '"v":1,',
              '',
            )
          : JSON.stringify(
              valid
                ? data
                : {
                    ...data,
                    ...(type === 'transactions'
                      ? { gender: 'X' }
                      : type === 'taxi_trips'
                        ? { CALL_TYPE: 'Z' }
                        : { metadata: 'broken' }),
                  },
            );
      records.push(
        quarantineRecord({
          id,
          stage,
          reason,
          errors: [
            {
              path: type === 'transactions' ? '/gender' : type === 'taxi_trips' ? '/CALL_TYPE' : '/metadata',
              keyword: 'enum',
              message: 'must be one of the allowed values',
            },
          ],
          type,
          v: registry.version(type).v,
          receivedAt: at,
          quarantinedAt: at,
          payload,
          source: 'api',
        }),
      );
      i++;
    }
    made += n;
    yield { records, stage, unique: `bench-${String(obj).padStart(6, '0')}` };
  }
}

/** Arrival times (ms) of every record on every shard, read from the start. */
async function readStreamArrivals(kinesis: KinesisClient, streamName: string): Promise<number[]> {
  const out: number[] = [];
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: streamName }))).Shards ?? [];
  for (const sh of shards) {
    let it = (
      await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: streamName,
          ShardId: sh.ShardId!,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
    ).ShardIterator;
    while (it) {
      const res = await kinesis.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10_000 }));
      for (const r of res.Records ?? []) out.push(r.ApproximateArrivalTimestamp!.getTime());
      if (!res.Records?.length) break;
      it = res.NextShardIterator;
    }
  }
  return out;
}

/** Runs the benchmark against a fresh local runtime (no consumers: the stream only has to accept re-driven records). */
export async function runQuarantineBench(): Promise<QuarantineBenchResult> {
  const total = QUICK ? 10_000 : 100_000;
  const { rt, dataDir } = await startBenchRuntime('quarantine', { consumers: false, apiKey: 'bench' });
  const { s3, kinesis } = awsClients(rt.config);
  const bucket = rt.config.buckets.quarantine;
  const sql = queryService(rt.config, { maxUnfilteredScanBytes: Number.MAX_SAFE_INTEGER });
  try {
    const t0 = now();
    const puts: { key: string; body: Buffer }[] = [];
    let records = 0;
    for (const b of benchRecords(total)) {
      for (const o of quarantineObjects(b.records, b.stage, b.unique)) puts.push({ key: o.key, body: o.body });
      records += b.records.length;
    }
    progress(`quarantine: writing ${puts.length} objects (${records} records)`);
    await mapLimit(puts, 16, (p) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: p.key, Body: p.body })));
    const writeSeconds = (now() - t0) / 1000;

    const index = new QuarantineIndex(s3, bucket);
    const heap0 = process.memoryUsage().heapUsed;
    const c0 = now();
    await index.refresh();
    const coldLoadMs = now() - c0;
    const heapMiB = (process.memoryUsage().heapUsed - heap0) / 1024 / 1024;
    const listTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const l0 = now();
      await index.refresh();
      listTimes.push(now() - l0);
    }
    // The console's settings: the index re-lists the bucket when its view is older than 2 s.
    const svc = new QuarantineService(
      { registry: defaultRegistry(), kinesis, s3, streamName: rt.config.streamName, bucket, index },
      { maxStaleMs: 2000 },
    );
    const since = new Date(Date.now() - 2 * DAY_MS).toISOString();
    const cases: { name: string; filter: QuarantineFilter; offset: number; where: string }[] = [
      { name: 'newest page, no filter', filter: { status: 'all' }, offset: 0, where: 'true' },
      { name: 'type', filter: { type: 'transactions' }, offset: 0, where: "type = 'transactions'" },
      {
        name: 'type + stage + reason',
        filter: { type: 'taxi_trips', stage: 'ingest', reason: 'schema_violation' },
        offset: 0,
        where: "type = 'taxi_trips' AND stage = 'ingest' AND reason = 'schema_violation'",
      },
      {
        name: 'last 2 days',
        filter: { from: since },
        offset: 0,
        where: `quarantined_at >= TIMESTAMP '${since.replace('T', ' ').replace('Z', '')}'`,
      },
      {
        name: 'text in payload',
        filter: { q: 'bench-4242' },
        offset: 0,
        where: "(payload LIKE '%bench-4242%' OR id LIKE '%bench-4242%')",
      },
      {
        name: 'text in error path',
        filter: { q: '/call_type' },
        offset: 0,
        where: "lower(CAST(errors AS VARCHAR)) LIKE '%/call_type%'",
      },
      { name: 'page 100 of a filter', filter: { type: 'clickstream' }, offset: 4950, where: "type = 'clickstream'" },
    ];
    const rounds = QUICK ? 10 : 40;
    const all: number[] = [];
    const lists: ListFigure[] = [];
    const perCase = new Map<string, number[]>();
    // Interleaved, with real time passing, so the periodic re-listing lands inside measured requests as in service.
    for (let r = 0; r < rounds; r++) {
      for (const c of cases) {
        const q0 = now();
        await svc.list(c.filter, { offset: c.offset, limit: 50 });
        const ms = now() - q0;
        all.push(ms);
        perCase.set(c.name, [...(perCase.get(c.name) ?? []), ms]);
      }
      await new Promise((res) => setTimeout(res, 150));
    }
    const sqlTimes: number[] = [];
    for (const c of cases) {
      const times = perCase.get(c.name)!;
      const page = await svc.list(c.filter, { offset: c.offset, limit: 50 });
      // The SQL engine over the same records: a count with the same filter, three runs, median.
      const runs: number[] = [];
      let sqlCount = -1;
      for (let i = 0; i < 3; i++) {
        const s0 = now();
        const res = await sql.run({
          sql: `SELECT count(*) AS n FROM quarantine WHERE ${c.where}`,
          allowFullScan: true,
        });
        runs.push(now() - s0);
        sqlCount = Number(res.rows[0]![0]);
      }
      if (sqlCount !== page.total) progress(`quarantine: WARNING ${c.name}: index ${page.total} vs SQL ${sqlCount}`);
      sqlTimes.push(median(runs));
      lists.push({
        name: c.name,
        filter: c.filter,
        offset: c.offset,
        total: page.total,
        p50: median(times),
        p95: percentile(times, 95),
        max: Math.max(...times),
        sqlMs: median(runs),
      });
    }

    // Re-drive: 2,000 records that are valid again, at the default rate of 500/s (2 shards allow 2,000/s).
    const redriveCount = QUICK ? 500 : 2000;
    const valid = [...index.matching({ stage: 'ingest' })]
      .filter((e) => Number(e.record.id.slice(6)) % 10 === 0)
      .slice(0, redriveCount)
      .map((e) => e.qid);
    const r0 = now();
    const job = await svc.startRedrive({ qids: valid }, { by: 'bench', role: 'operator' });
    const final = await svc.wait(job.id);
    const seconds = (now() - r0) / 1000;
    // The truth about the limit is what the stream saw: the records' arrival times (no consumer runs, so the stream
    // holds exactly the re-driven records). The busiest one-second window must hold at most `rate` of them.
    const arrivals = (await readStreamArrivals(kinesis, rt.config.streamName)).sort((a, b) => a - b);
    let maxWindow = 0;
    for (let i = 0, j = 0; i < arrivals.length; i++) {
      while (arrivals[i]! - arrivals[j]! >= 1000) j++;
      maxWindow = Math.max(maxWindow, i - j + 1);
    }
    const p95 = percentile(all, 95);
    const sqlMedianMs = median(sqlTimes);
    return {
      records,
      objects: puts.length,
      writeSeconds,
      coldLoadMs,
      heapMiB,
      listMs: median(listTimes),
      requests: all.length,
      lists,
      p95,
      target: 300,
      sqlMedianMs,
      ratioSqlToIndex: sqlMedianMs / median(all),
      redrive: {
        records: valid.length,
        rate: final.rate,
        seconds,
        recordsPerSec: final.processed / seconds,
        maxInOneSecond: maxWindow,
        onStream: arrivals.length,
        accepted: final.accepted,
        failedAgain: final.failed,
        ratioToRate: maxWindow / final.rate,
      },
    };
  } finally {
    await sql.deps.engine.close();
    await rt.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
