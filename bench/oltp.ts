/**
 * OLTP sink throughput: synthetic transactions as two shards' batches of 500 (what Lambda hands the sink), applied by
 * `sinkRecords` (set-based statements, one database transaction per chunk), against the baseline of the system we
 * replace done right: one database transaction per event with five parameterized upserts, on one connection.
 * Both run against the same engine in the same run: Postgres when DATABASE_URL is set (a fresh database on that
 * server), and the embedded PGlite that `tributary dev` uses.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { buildEnvelope, serializeEnvelope } from '../lib/envelope.ts';
import { createPool } from '../lib/oltp/db.ts';
import { migrate } from '../lib/oltp/migrations.ts';
import { sinkRecords, type OltpSinkDeps } from '../lib/oltp/sink.ts';
import { syntheticEvents } from '../lib/produce/synthetic.ts';
import { defaultRegistry } from '../lib/registry/registry.ts';
import type { StreamRecord } from '../lib/stream/records.ts';
import { startPglite } from '../local/emulators/index.ts';
import { testDatabase } from '../tests/integration/db.ts';
import { envInt, now, progress, QUICK } from './util.ts';

export interface OltpEngineResult {
  engine: string;
  events: number;
  /** Sink: events applied per second, first delivery. */
  eventsPerSec: number;
  /** Sink: the same batches delivered again (every event a duplicate). */
  redeliveryEventsPerSec: number;
  baselineEvents: number;
  baselineEventsPerSec: number;
  ratio: number;
  rows: Record<string, number>;
  exact: boolean;
}

export interface OltpBenchResult {
  engines: OltpEngineResult[];
  target: number;
}

const BASELINE_SQL = [
  `INSERT INTO city AS c (name, state, population, as_of) VALUES ($1, $2, $3, $4)
   ON CONFLICT (name, state) DO UPDATE SET population = COALESCE(EXCLUDED.population, c.population) RETURNING id`,
  `INSERT INTO address AS a (street, zip, lat, long, city_id, as_of) VALUES ($1, $2, $3, $4, $5, $6)
   ON CONFLICT (street, zip) DO UPDATE SET lat = EXCLUDED.lat RETURNING id`,
  `INSERT INTO customer AS cu (cc_num, first, last, gender, job, dob, address_id, as_of) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
   ON CONFLICT (cc_num) DO UPDATE SET first = EXCLUDED.first RETURNING id`,
  `INSERT INTO merchant AS m (name, category, lat, long, as_of) VALUES ($1, $2, $3, $4, $5)
   ON CONFLICT (name, category) DO UPDATE SET lat = EXCLUDED.lat RETURNING id`,
  `INSERT INTO "transaction" (trans_num, customer_id, merchant_id, amount, "timestamp", unix_time, is_fraud, received_at, source)
   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (trans_num) DO NOTHING`,
];

type Txn = Record<string, string | number | null>;

/** The legacy loader's shape, parameterized: BEGIN, five upserts, COMMIT, per event. */
async function baselineApply(client: pg.Client, t: Txn, at: string): Promise<void> {
  await client.query('BEGIN');
  const city = (await client.query(BASELINE_SQL[0]!, [t.city, t.state, t.city_pop, at])).rows[0].id;
  const address = (await client.query(BASELINE_SQL[1]!, [t.street, t.zip, t.lat, t.long, city, at])).rows[0].id;
  const customer = (
    await client.query(BASELINE_SQL[2]!, [t.cc_num, t.first, t.last, t.gender, t.job, t.dob, address, at])
  ).rows[0].id;
  const merchant = (await client.query(BASELINE_SQL[3]!, [t.merchant, t.category, t.merch_lat, t.merch_long, at]))
    .rows[0].id;
  await client.query(BASELINE_SQL[4]!, [
    t.trans_num,
    customer,
    merchant,
    t.amt,
    `${t.trans_date_trans_time}+00`,
    t.unix_time,
    t.is_fraud === 1,
    at,
    'bench',
  ]);
  await client.query('COMMIT');
}

function records(count: number, seed: number): { records: StreamRecord[][]; events: Txn[] } {
  const registry = defaultRegistry();
  const type = registry.get('transactions');
  const events = [...syntheticEvents('transactions', count, { seed })].map((e) => e.value as Txn);
  const shards: StreamRecord[][] = [[], []];
  let seq = 10n ** 20n;
  events.forEach((data, i) => {
    const built = buildEnvelope({ type, v: 1, data, receivedAt: new Date().toISOString(), source: 'producer' });
    if (!built.ok) throw new Error(`synthetic event ${i} does not envelope: ${JSON.stringify(built.errors)}`);
    seq += 1n;
    const shard = i % 2;
    shards[shard]!.push({
      shardId: `shardId-00000000000${shard}`,
      sequenceNumber: seq.toString(),
      partitionKey: String(data.cc_num),
      data: Buffer.from(serializeEnvelope(built.envelope)),
      arrivedAt: Date.now(),
    });
  });
  return { records: shards, events };
}

async function countRows(pool: pg.Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ t: string; n: string }>(
    `SELECT 'city' AS t, count(*) AS n FROM city UNION ALL SELECT 'address', count(*) FROM address UNION ALL SELECT 'customer', count(*) FROM customer
     UNION ALL SELECT 'merchant', count(*) FROM merchant UNION ALL SELECT 'transaction', count(*) FROM "transaction"`,
  );
  return Object.fromEntries(rows.map((r) => [r.t, Number(r.n)]));
}

/** Two shards' batches of `batch`, the shards concurrently (as two Lambda pollers), batches of a shard in order. */
async function runSink(deps: OltpSinkDeps, shards: StreamRecord[][], batch: number): Promise<number> {
  const t0 = now();
  await Promise.all(
    shards.map(async (rs) => {
      for (let i = 0; i < rs.length; i += batch) {
        const [r] = await sinkRecords(rs.slice(i, i + batch), deps);
        if (r!.failedFrom !== undefined || r!.rejected)
          throw new Error(`sink batch did not apply cleanly: ${JSON.stringify(r)}`);
      }
    }),
  );
  return (shards.reduce((n, s) => n + s.length, 0) / (now() - t0)) * 1000;
}

async function benchEngine(
  engine: string,
  sinkUrl: string,
  baselineUrl: string,
  events: number,
  baselineEvents: number,
): Promise<OltpEngineResult> {
  const pool = createPool(sinkUrl, { max: 4 });
  const basePool = createPool(baselineUrl, { max: 1 });
  try {
    await migrate(pool);
    await migrate(basePool);
    // Quarantine writes would fail loudly: valid synthetic events must never need one.
    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      forcePathStyle: true,
    });
    const deps: OltpSinkDeps = { pool, s3, quarantineBucket: 'quarantine' };
    const { records: shards } = records(events, 42);
    progress(`oltp ${engine}: sink, ${events} events`);
    const eventsPerSec = await runSink(deps, shards, 500);
    const redeliveryEventsPerSec = await runSink(deps, shards, 500);
    const rows = await countRows(pool);
    s3.destroy();

    const { events: legacy } = records(baselineEvents, 43);
    progress(`oltp ${engine}: baseline, ${baselineEvents} events one transaction each`);
    const client = new pg.Client({ connectionString: baselineUrl });
    await client.connect();
    const at = new Date().toISOString();
    const t0 = now();
    for (const t of legacy) await baselineApply(client, t, at);
    const baselineEventsPerSec = (legacy.length / (now() - t0)) * 1000;
    await client.end();
    return {
      engine,
      events,
      eventsPerSec,
      redeliveryEventsPerSec,
      baselineEvents,
      baselineEventsPerSec,
      ratio: eventsPerSec / baselineEventsPerSec,
      rows,
      exact: rows.transaction === events,
    };
  } finally {
    await pool.end();
    await basePool.end();
  }
}

export async function runOltpBench(): Promise<OltpBenchResult> {
  const events = envInt('BENCH_OLTP_EVENTS', QUICK ? 6_000 : 30_000);
  const baselineEvents = QUICK ? 1_000 : 3_000;
  const engines: OltpEngineResult[] = [];
  if (process.env.DATABASE_URL) {
    const sink = await testDatabase('bench_sink');
    const base = await testDatabase('bench_baseline');
    try {
      engines.push(await benchEngine('postgres', sink.url, base.url, events, baselineEvents));
    } finally {
      await sink.drop();
      await base.drop();
    }
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tributary-bench-pglite-'));
  const pgl = await startPglite('127.0.0.1', 0, dir);
  try {
    // PGlite is one backend: sink and baseline share it (the baseline runs after the sink, on its own tables' rows).
    const url = `postgres://postgres@127.0.0.1:${pgl.port}/postgres`;
    engines.push(
      await benchEngine('pglite', url, url, Math.min(events, QUICK ? 4_000 : 10_000), Math.min(baselineEvents, 1_000)),
    );
  } finally {
    await pgl.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return { engines, target: 2_000 };
}
