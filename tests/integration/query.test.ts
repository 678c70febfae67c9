import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsClients } from '../../lib/aws/clients.ts';
import type { Envelope } from '../../lib/envelope.ts';
import { produce } from '../../lib/produce/producer.ts';
import { syntheticEvents } from '../../lib/produce/synthetic.ts';
import { isNumericType } from '../../lib/query/engine.ts';
import { QueryForbiddenError, QueryRefusedError } from '../../lib/query/errors.ts';
import { resolveParams } from '../../lib/query/params.ts';
import { loadSavedQueries, savedSql } from '../../lib/query/saved.ts';
import type { QueryService } from '../../lib/query/service.ts';
import { csvText } from '../../lib/util/csv.ts';
import { queryService } from '../../lib/composition.ts';
import { Catalog } from '../../lib/catalog/catalog.ts';
import { s3rverLayout } from '../../lib/catalog/duckdb.ts';
import { DuckDbEngine } from '../../lib/query/duckdb-engine.ts';
import { defaultRegistry } from '../../lib/registry/registry.ts';
import { listAll } from '../../lib/aws/s3.ts';
import type { DevRuntime } from '../../local/dev.ts';
import { readLake, removeDir, startTestRuntime, tempDir, waitFor, type LakeContents } from './helpers.ts';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const PERIOD = '2026-01-01..2026-01-31';
const COUNTS = { transactions: 400, taxi_trips: 200, clickstream: 200 } as const;
const INVALID = 0.05;

type Row = Record<string, unknown>;
const round = (n: number, d: number) => Math.round(n * 10 ** d) / 10 ** d;
// biome-ignore lint/suspicious/noExplicitAny: rows of three event types, read field by field in the assertions.
const dataOf = (e: Envelope) => e.data as Record<string, any>;

/** A hash of every file under a directory: paths, sizes and contents (s3rver keeps each object as a file). */
function treeHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      h.update(`${path.relative(dir, p)}\0`);
      if (e.isDirectory()) walk(p);
      else h.update(`${statSync(p).size}\0`).update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex');
}

async function csvOf(chunks: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const c of chunks) out += c;
  return out;
}

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const i of items) {
    const k = key(i);
    const list = m.get(k);
    if (list) list.push(i);
    else m.set(k, [i]);
  }
  return m;
}

describe('query layer on DuckDB over the running local pipeline', () => {
  let rt: DevRuntime;
  let dir: string;
  let svc: QueryService;
  let lake: LakeContents;
  const byType = (type: string) => lake.rows.filter((r) => r.type === type);
  const saved = loadSavedQueries();

  async function runSaved(name: string, raw: Record<string, string>): Promise<Row[]> {
    const q = saved.find((x) => x.name === name)!;
    const { columns, rows } = await svc.run({
      sql: savedSql(q, 'duckdb'),
      params: resolveParams(q.params, raw),
      saved: name,
    });
    return rows.map((r) => Object.fromEntries(columns.map((c, i) => [c.name, r[i]])));
  }

  beforeAll(async () => {
    dir = tempDir('query');
    rt = await startTestRuntime(dir);
    for (const [type, count] of Object.entries(COUNTS)) {
      const events = [...syntheticEvents(type, count, { seed: 42, invalidRatio: INVALID })];
      await produce(
        events.map((e, index) => ({ text: e.raw ?? JSON.stringify(e.value), index })),
        { endpoint: rt.apiUrl, apiKey: rt.apiKey, type },
      );
    }
    const valid = Object.values(COUNTS).reduce((a, n) => a + n - Math.round(n * INVALID), 0);
    lake = await waitFor(
      () => readLake(rt.config),
      (l) => l.rows.length >= valid,
      150_000,
    );
    expect(lake.rows.length).toBe(valid);
    svc = queryService(rt.config);
  }, 300_000);

  afterAll(async () => {
    await svc?.deps.engine.close();
    await rt?.stop();
    removeDir(dir);
  });

  it('every saved query loads and has SQL for both engines', () => {
    expect(saved.map((q) => q.name)).toEqual([
      'clickstream_sections',
      'failures_by_field',
      'fraud_by_category',
      'invalid_rate',
      'lake_health',
      'redrive_outcomes',
      'taxi_call_types',
      'top_merchants',
    ]);
    for (const q of saved) {
      expect(savedSql(q, 'duckdb').length).toBeGreaterThan(20);
      expect(savedSql(q, 'athena').length).toBeGreaterThan(20);
    }
  });

  it('fraud_by_category: rate and amounts per category per day', async () => {
    const rows = await runSaved('fraud_by_category', { period: PERIOD });
    const tx = byType('transactions');
    const groups = groupBy(tx, (e) => `${e.event_time.slice(0, 10)}|${dataOf(e).category}`);
    expect(rows.length).toBe(groups.size);
    expect(rows.reduce((a, r) => a + (r.transactions as number), 0)).toBe(tx.length);
    for (const r of rows) {
      const g = groups.get(`${r.day}|${r.category}`)!;
      const fraud = g.filter((e) => dataOf(e).is_fraud === 1);
      expect(r.transactions).toBe(g.length);
      expect(r.fraud_transactions).toBe(fraud.length);
      expect(r.fraud_rate).toBeCloseTo(round(fraud.length / g.length, 4), 4);
      expect(r.amount).toBeCloseTo(
        g.reduce((a, e) => a + dataOf(e).amt, 0),
        1,
      );
      expect(r.fraud_amount).toBeCloseTo(
        fraud.reduce((a, e) => a + dataOf(e).amt, 0),
        1,
      );
    }
    // Ordered by day, then category.
    const keys = rows.map((r) => `${r.day}|${r.category}`);
    expect(keys).toEqual([...keys].sort());
  });

  it('a query whose dt filter keeps none of the days the data has says so, with the days there are and a week to try', async () => {
    const q = saved.find((x) => x.name === 'fraud_by_category')!;
    // A saved query's default is the last 7 days; the synthetic data is from January 2026.
    expect(q.params[0]).toMatchObject({ name: 'period', default: 'today-6d..today' });
    const { info, rows } = await svc.run({
      sql: savedSql(q, 'duckdb'),
      params: resolveParams(q.params, { period: '2026-11-24..2026-11-30' }),
      saved: q.name,
    });
    expect(rows).toEqual([]);
    const days = [...new Set(byType('transactions').map((e) => e.event_time.slice(0, 10)))].sort();
    const last = days.at(-1)!;
    const weekBefore = new Date(Date.parse(`${last}T00:00:00Z`) - 6 * 86_400_000).toISOString().slice(0, 10);
    const from = [weekBefore, days[0]!].sort()[1]!;
    expect(info.notice).toBe(
      `The filter on dt keeps none of the days transactions has: its data is from ${days[0]} to ${last}. Try dates in that range, e.g. ${from}..${last} (WHERE dt BETWEEN '${from}' AND '${last}').`,
    );
    // The record other instances read has it too; a query that keeps some day has none.
    expect((await svc.status(info.id)).notice).toBe(info.notice);
    const hit = await svc.run({
      sql: savedSql(q, 'duckdb'),
      params: resolveParams(q.params, { period: `${from}..${last}` }),
    });
    expect(hit.rows.length).toBeGreaterThan(0);
    expect(hit.info).not.toHaveProperty('notice');
    // A filter that rules days out only through another partition column (hour) is not blamed on dt.
    const byHour = await svc.run({ sql: `SELECT count(*) AS n FROM transactions WHERE dt = '${last}' AND hour = 99` });
    expect(byHour.rows).toEqual([[0]]);
    expect(byHour.info).not.toHaveProperty('notice');
  });

  it('top_merchants: ranked by transactions then amount, cut at the limit', async () => {
    const rows = await runSaved('top_merchants', { period: PERIOD, limit: '3' });
    const stats = [...groupBy(byType('transactions'), (e) => dataOf(e).merchant)].map(([merchant, g]) => ({
      merchant,
      n: g.length,
      amt: g.reduce((a, e) => a + dataOf(e).amt, 0),
    }));
    stats.sort((a, b) => b.n - a.n || b.amt - a.amt || a.merchant.localeCompare(b.merchant));
    expect(rows.map((r) => r.rank)).toEqual([1, 2, 3]);
    expect(rows.map((r) => r.merchant)).toEqual(stats.slice(0, 3).map((s) => s.merchant));
    expect(rows.map((r) => r.transactions)).toEqual(stats.slice(0, 3).map((s) => s.n));
  });

  it('taxi_call_types: trips and average duration per call type per hour', async () => {
    const rows = await runSaved('taxi_call_types', { period: PERIOD });
    const trips = byType('taxi_trips');
    const groups = groupBy(
      trips,
      (e) => `${e.event_time.slice(0, 10)}|${Number(e.event_time.slice(11, 13))}|${dataOf(e).CALL_TYPE}`,
    );
    expect(rows.length).toBe(groups.size);
    for (const r of rows) {
      const g = groups.get(`${r.day}|${r.hour}|${r.call_type}`)!;
      const durations = g.map((e) => Math.max((JSON.parse(dataOf(e).POLYLINE) as unknown[]).length - 1, 0) * 15);
      expect(r.trips).toBe(g.length);
      expect(r.avg_duration_s).toBeCloseTo(round(durations.reduce((a, b) => a + b, 0) / g.length, 1), 1);
    }
  });

  it('clickstream_sections: events, users and cart-empty rate per section (partition values decoded)', async () => {
    const rows = await runSaved('clickstream_sections', { period: '2020-01-01..2030-12-31' });
    const clicks = byType('clickstream');
    // The section column is the lake partition, read back as the value itself (the empty section included).
    const groups = groupBy(clicks, (e) => dataOf(e).metadata.section);
    expect(groups.has('')).toBe(true);
    expect(new Set(rows.map((r) => r.section))).toEqual(new Set(groups.keys()));
    for (const r of rows) {
      const g = groups.get(r.section as string)!;
      const empty = g.filter((e) => String(dataOf(e).payload.is_cart_empty).toLowerCase() === 'true').length;
      expect(r.events).toBe(g.length);
      expect(r.users).toBe(new Set(g.map((e) => dataOf(e).payload.userid)).size);
      expect(r.cart_empty_rate).toBeCloseTo(round(empty / g.length, 4), 4);
    }
    expect(rows.map((r) => r.section)).toContain('../admin');
  });

  it('invalid_rate: quarantined vs accepted per type, reason and hour received', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const rows = await runSaved('invalid_rate', { period: `2020-01-01..${today}` });
    const ingest = lake.quarantine.filter((q) => q.stage === 'ingest');
    expect(rows.reduce((a, r) => a + (r.invalid as number), 0)).toBe(ingest.length);
    expect(ingest.length).toBe(Object.values(COUNTS).reduce((a, n) => a + Math.round(n * INVALID), 0));
    const hourOf = (iso: string) => `${iso.slice(0, 13)}:00:00`;
    for (const r of rows) {
      const hour = String(r.hour_start).slice(0, 19).replace('T', ' ');
      const accepted = lake.rows.filter(
        (e) => e.type === r.type && hourOf(e.received_at).replace('T', ' ') === hour,
      ).length;
      const invalidAll = ingest.filter(
        (q) => (q.type ?? '(unknown)') === r.type && hourOf(q.received_at).replace('T', ' ') === hour,
      ).length;
      const invalid = ingest.filter(
        (q) =>
          (q.type ?? '(unknown)') === r.type &&
          q.reason === r.reason &&
          hourOf(q.received_at).replace('T', ' ') === hour,
      ).length;
      expect(r.invalid).toBe(invalid);
      expect(r.accepted).toBe(accepted);
      expect(r.invalid_rate).toBeCloseTo(round(invalid / (accepted + invalidAll), 4), 4);
    }
  });

  it('failures_by_field: one row per type, version, field and rule with its count', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const rows = await runSaved('failures_by_field', { period: `2020-01-01..${today}` });
    const expected = new Map<string, number>();
    for (const q of lake.quarantine) {
      for (const e of q.errors) {
        const k = `${q.type ?? '(unknown)'}|${q.v ?? null}|${e.path}|${e.keyword}`;
        expected.set(k, (expected.get(k) ?? 0) + 1);
      }
    }
    expect(rows.length).toBe(expected.size);
    for (const r of rows) expect(r.failures).toBe(expected.get(`${r.type}|${r.v}|${r.path}|${r.keyword}`));
    expect(rows.map((r) => r.failures)).toEqual([...rows.map((r) => r.failures as number)].sort((a, b) => b - a));
    expect(rows.some((r) => r.type === 'transactions' && r.path === '/gender' && r.keyword === 'enum')).toBe(true);
  });

  it('lake_health: objects and bytes per partition match the bucket listing', async () => {
    const rows = await runSaved('lake_health', { period: '2020-01-01..2030-12-31', small_kb: '2' });
    const { s3 } = awsClients(rt.config);
    const lakeObjects = (await listAll(s3, rt.config.buckets.lake, 'events/')).filter((o) =>
      o.Key!.endsWith('.jsonl.gz'),
    );
    const quarantineObjects = await listAll(s3, rt.config.buckets.quarantine, 'records/');
    const objects = [...lakeObjects, ...quarantineObjects];
    const tableOf = (key: string) => (key.startsWith('records/') ? 'quarantine' : key.split('/')[1]);
    const partitionOf = (key: string) =>
      key
        .split('/')
        .slice(key.startsWith('records/') ? 1 : 2, -1)
        .join('/');
    const groups = groupBy(objects, (o) => `${tableOf(o.Key!)}|${partitionOf(o.Key!)}`);
    expect(quarantineObjects.length).toBeGreaterThan(0);
    expect(rows.length).toBe(groups.size);
    for (const r of rows) {
      const g = groups.get(`${r.table_name}|${r.partition}`)!;
      expect(r.objects).toBe(g.length);
      expect(r.parquet_objects).toBe(0);
      expect(r.bytes).toBe(g.reduce((a, o) => a + o.Size!, 0));
      expect(r.small_objects).toBe(g.filter((o) => o.Size! < 2048).length);
    }
  });

  it('ad-hoc SQL: reserved-word columns, exact card numbers, bytes scanned and cost', async () => {
    const day = byType('taxi_trips')[0]!.event_time.slice(0, 10);
    const { info, columns, rows } = await svc.run({
      sql: `SELECT count(*) AS n, min("timestamp") AS first_ts FROM taxi_trips WHERE dt = $day`,
      params: { day: { type: 'text', value: day } },
    });
    const expected = byType('taxi_trips').filter((e) => e.event_time.startsWith(day));
    expect(columns.map((c) => c.name)).toEqual(['n', 'first_ts']);
    expect(rows).toEqual([[expected.length, Math.min(...expected.map((e) => dataOf(e).TIMESTAMP))]]);
    expect(info.state).toBe('SUCCEEDED');
    // Partition pruning: exactly the objects of that day were read.
    const dayObjects = await listAll(awsClients(rt.config).s3, rt.config.buckets.lake, `events/taxi_trips/dt=${day}/`);
    expect(info.bytesScanned).toBe(dayObjects.reduce((a, o) => a + o.Size!, 0));
    // Below Athena's 10 MB minimum the cost is the minimum: 10 MB at $5/TB.
    expect(info.costUsd).toBeCloseTo((10 / (1024 * 1024)) * 5, 12);
    const card = byType('transactions').find((e) => String(dataOf(e).cc_num).length === 19)!;
    const cc = await svc.run({
      sql: 'SELECT cc_num, data_id FROM transactions WHERE dt >= $from AND id = $id',
      params: { from: { type: 'text', value: '2000-01-01' }, id: { type: 'text', value: card.id } },
    });
    expect(cc.rows).toEqual([[dataOf(card).cc_num, dataOf(card).id]]);
  });

  it('the partition-filter guard refuses a scan whose estimate is over the limit and says which filter to add', async () => {
    const day = byType('transactions')[0]!.event_time.slice(0, 10);
    const { s3 } = awsClients(rt.config);
    const size = async (prefix: string) =>
      (await listAll(s3, rt.config.buckets.lake, prefix)).reduce((a, o) => a + o.Size!, 0);
    const dayBytes = await size(`events/transactions/dt=${day}/`);
    expect(await size('events/transactions/')).toBeGreaterThan(dayBytes);
    // A limit that one day fits in and the whole table does not.
    const guarded = queryService(rt.config, { maxUnfilteredScanBytes: dayBytes });
    try {
      const err = await guarded.start({ sql: 'SELECT count(*) FROM transactions' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QueryRefusedError);
      expect((err as Error).message).toMatch(
        /^This query would scan about [\d.]+ KB \(transactions: [\d.]+ KB in \d+ objects, dt 2026-01-0\d … 2026-01-15, with no filter on dt in the WHERE of the SELECT that reads it\); the scan limit is [\d.]+ KB\. Add a filter on dt to the WHERE of the SELECT that reads transactions, e\.g\. WHERE dt = '2026-01-15' or WHERE dt BETWEEN '2026-01-09' AND '2026-01-15'/,
      );
      // The same query runs with a dt filter (its estimate within the limit and equal to what DuckDB read), or when
      // the caller accepts the full scan.
      const filtered = await guarded.run({ sql: `SELECT count(*) FROM transactions WHERE dt = '${day}'` });
      expect(filtered.rows).toEqual([[byType('transactions').filter((e) => e.event_time.startsWith(day)).length]]);
      expect(filtered.info.estimatedBytes).toBe(dayBytes);
      expect(filtered.info.bytesScanned).toBe(dayBytes);
      const all = await guarded.run({ sql: 'SELECT count(*) FROM transactions', allowFullScan: true });
      expect(all.rows).toEqual([[byType('transactions').length]]);
      // Forms that look filtered to a tokenizer but prune nothing are refused too.
      for (const sql of [
        'SELECT count(*) FROM transactions WHERE dt = dt',
        `SELECT count(*) FROM transactions WHERE dt = '${day}' OR true`,
        `SELECT dt = '${day}' AS d FROM transactions`,
        `SELECT count(*) FROM clickstream c CROSS JOIN (SELECT * FROM transactions) t WHERE c.dt = '${day}'`,
        `SELECT count(*) FROM transactions /* /* */ WHERE dt = '${day}' -- */`,
      ]) {
        await expect(guarded.start({ sql }), sql).rejects.toMatchObject({ code: 'partition_filter_required' });
      }
      await expect(
        guarded.start({
          sql: 'SELECT count(*) FROM transactions',
          allowFullScan: true,
          actor: { by: 'vera', role: 'viewer' },
        }),
      ).rejects.toBeInstanceOf(QueryForbiddenError);
    } finally {
      await guarded.deps.engine.close();
    }
  });

  it("runs the issue's exploit and every other write path nowhere: the lake is byte for byte unchanged and later queries see normal settings", async () => {
    const lakeDir = path.join(dir, 's3', rt.config.buckets.lake);
    const target = path.join(lakeDir, 'events', 'transactions', 'forged.csv');
    const buckets = [lakeDir, path.join(dir, 's3', rt.config.buckets.quarantine)];
    const before = buckets.map(treeHash);
    const setting = async (name: string) =>
      (await svc.run({ sql: `SELECT current_setting('${name}') AS v` })).rows[0]![0];
    const memory = await setting('memory_limit');
    const attempts = [
      `SELECT $$'$$ AS a) t; COPY (SELECT 42) TO $p$${target}$p$; SELECT * FROM (SELECT $$'$$ AS b`,
      `SELECT $$'$$; COPY (SELECT 42) TO '${target}'; SELECT $$'$$`,
      `SELECT E'\\''; COPY (SELECT 42) TO '${target}'; SELECT E'\\''`,
      `SELECT 1 /* /* */ */; COPY (SELECT 42) TO '${target}'`,
      `COPY (SELECT 42) TO '${target}'`,
      `COPY transactions TO '${target}'`,
      `EXPORT DATABASE '${path.join(lakeDir, 'export')}'`,
      `ATTACH '${path.join(lakeDir, 'x.db')}' AS x`,
      `CREATE TABLE x AS SELECT 1`,
      `CREATE OR REPLACE TEMP VIEW transactions AS SELECT 1 AS id`,
      `INSTALL httpfs`,
      `LOAD httpfs`,
      `SET memory_limit = '1MB'`,
      `SET GLOBAL memory_limit = '1MB'`,
      `SET GLOBAL enable_external_access = true`,
      `RESET memory_limit`,
      `PRAGMA memory_limit = '1MB'`,
      `SELECT $$'$$; SET GLOBAL memory_limit='1MB'; SELECT $$'$$`,
      `SELECT * FROM query('SELECT 1')`,
      `SELECT * FROM read_text('${path.join(lakeDir, '**')}')`,
    ];
    for (const sql of attempts) await expect(svc.start({ sql }), sql).rejects.toBeInstanceOf(QueryRefusedError);
    // Lifting the guard lets an operator read files directly, never write them: DuckDB is locked.
    const read = await svc.start({ sql: "SELECT * FROM read_text('/etc/passwd')", allowFullScan: true });
    expect((await svc.wait(read.id)).error).toMatch(/Permission Error|disabled by configuration/);
    expect(buckets.map(treeHash)).toEqual(before);
    expect(await setting('memory_limit')).toBe(memory);
    const day = byType('transactions')[0]!.event_time.slice(0, 10);
    const after = await svc.run({ sql: `SELECT count(*) FROM transactions WHERE dt = '${day}'` });
    expect(after.rows).toEqual([[byType('transactions').filter((e) => e.event_time.startsWith(day)).length]]);
  });

  it('the local engine itself runs nothing but one SELECT: every write path sent to it directly, past the service, fails and leaves the lake and settings as they were', async () => {
    // DuckDB has no read-only mode for the directories it may read (allowed_directories admits writes too), so this
    // is the barrier between a query and the lake, independent of the service's check above: DuckDB's own
    // extractStatements and statement type, on an instance whose configuration is locked.
    const lakeDir = path.join(dir, 's3', rt.config.buckets.lake);
    const target = path.join(lakeDir, 'events', 'transactions', 'forged.csv');
    const buckets = [lakeDir, path.join(dir, 's3', rt.config.buckets.quarantine)];
    const before = buckets.map(treeHash);
    const engine = new DuckDbEngine(new Catalog(defaultRegistry()), s3rverLayout(dir, rt.config.buckets));
    const run = { submittedAt: new Date().toISOString(), timeoutMs: 30_000, rowLimit: 10 };
    const direct = async (sql: string) => {
      const id = await engine.start({ sql, values: [], tables: [], keeps: () => true }, run);
      await engine.settled(id);
      return { id, ...(await engine.status(id)) };
    };
    for (const sql of [
      `COPY (SELECT 42) TO '${target}'`,
      `SELECT 1) t; COPY (SELECT 42) TO '${target}'; SELECT * FROM (SELECT 1`,
      `EXPORT DATABASE '${path.join(lakeDir, 'export')}'`,
      `ATTACH '${path.join(lakeDir, 'x.db')}' AS x`,
      'CREATE TABLE x AS SELECT 1',
      "SET memory_limit = '1MB'",
      "SET GLOBAL memory_limit = '1MB'",
      'SET GLOBAL lock_configuration = false',
      'INSTALL httpfs',
    ]) {
      const st = await direct(sql);
      expect([sql, st.state, st.error]).toEqual([sql, 'FAILED', expect.stringMatching(/\S/)]);
    }
    expect(buckets.map(treeHash)).toEqual(before);
    const settings = await direct("SELECT current_setting('memory_limit'), current_setting('lock_configuration')");
    expect(settings.state).toBe('SUCCEEDED');
    const [memory, locked] = (await engine.results(settings.id, { maxResults: 1 })).rows[0]!;
    expect(memory).not.toMatch(/^1(\.0)? ?Mi?B$/);
    expect(locked).toBe(true);
  });

  it("a viewer sees sensitive columns masked in rows and CSV, may not compute on them, nor read an operator's query that does", async () => {
    const viewer = { by: 'vera', role: 'viewer' as const };
    const operator = { by: 'olu', role: 'operator' as const };
    const txs = byType('transactions');
    const day = txs[0]!.event_time.slice(0, 10);
    const cards = new Set(txs.map((e) => (e.data as { cc_num: string }).cc_num));
    const sql = `SELECT cc_num, first AS name, amt FROM transactions WHERE dt = '${day}' ORDER BY amt, name`;
    const mine = await svc.start({ sql, actor: viewer });
    expect((await svc.wait(mine.id)).state).toBe('SUCCEEDED');
    const masked = await svc.results(mine.id, {}, viewer);
    expect(masked.rows.length).toBe(txs.filter((e) => e.event_time.startsWith(day)).length);
    expect(masked.rows.every((r) => /^•••• \d{4}$/.test(String(r[0])) && /^.••••$/u.test(String(r[1])))).toBe(true);
    // The operator sees the same query's rows in full; the viewer's CSV holds none of the cards.
    const full = await svc.results(mine.id, {}, operator);
    expect(full.rows.every((r) => cards.has(String(r[0])))).toBe(true);
    expect(full.rows.map((r) => `•••• ${String(r[0]).slice(-4)}`)).toEqual(masked.rows.map((r) => r[0]));
    let csv = '';
    for await (const chunk of await svc.csv(mine.id, viewer)) csv += chunk;
    expect(csv.split('\r\n')[0]).toBe('cc_num,name,amt');
    expect([...cards].filter((c) => csv.includes(c))).toEqual([]);
    // Computing on a card is refused to a viewer before it runs…
    await expect(
      svc.start({ sql: `SELECT count(*) FROM transactions WHERE dt = '${day}' AND cc_num LIKE '4%'`, actor: viewer }),
    ).rejects.toThrow(
      /^A viewer sees cc_num, data, first, last, street masked, so can only select them as they are; this query uses cc_num used in an expression/,
    );
    // …and an operator's query that does is not a viewer's to read.
    const theirs = await svc.start({
      sql: `SELECT right(cc_num, 8) AS tail FROM transactions WHERE dt = '${day}'`,
      actor: operator,
    });
    await svc.wait(theirs.id);
    await expect(svc.results(theirs.id, {}, viewer)).rejects.toBeInstanceOf(QueryForbiddenError);
    await expect(svc.csv(theirs.id, viewer)).rejects.toBeInstanceOf(QueryForbiddenError);
    expect((await svc.results(theirs.id, {}, operator)).rows.length).toBeGreaterThan(0);
  });

  it('stops a query at its timeout and on cancel', async () => {
    const slow = 'SELECT count(*) FROM range(100000000000) a, range(10) b WHERE a.range % 7 = b.range';
    const timed = await svc.start({ sql: slow, timeoutMs: 300 });
    const t = await svc.wait(timed.id);
    expect(t.state).toBe('FAILED');
    expect(t.error).toBe('Query timed out after 0.3 s; add filters (dt, hour) or raise the timeout.');
    expect(t.elapsedMs).toBeLessThan(10_000);
    const running = await svc.start({ sql: slow });
    await waitFor(
      () => svc.status(running.id),
      (st) => st.state === 'RUNNING',
      10_000,
      20,
    );
    const cancelled = await svc.cancel(running.id);
    expect(cancelled.state).toBe('CANCELLED');
    expect(cancelled.costUsd).toBeGreaterThan(0);
    expect((await svc.history(5)).find((h) => h.id === running.id)?.state).toBe('CANCELLED');
  });

  it('keeps the row limit, history (with who ran it) and the CSV of each query in the athena-results bucket', async () => {
    const limited = queryService(rt.config, { rowLimit: 7, maxUnfilteredScanBytes: 1e12 });
    try {
      const { info, columns, rows } = await limited.run({
        sql: 'SELECT id, amt FROM transactions ORDER BY id',
        actor: { by: 'alice', role: 'viewer' },
      });
      expect(rows.length).toBe(7);
      expect(info.truncated).toBe(true);
      const ids = byType('transactions')
        .map((e) => e.id)
        .sort();
      expect(rows.map((r) => r[0])).toEqual(ids.slice(0, 7));
      expect(await csvOf(await limited.csv(info.id))).toBe(
        csvText(
          columns.map((c) => ({ name: c.name, numeric: isNumericType(c.type) })),
          rows,
        ),
      );
      const history = await limited.history(100);
      const entry = history.find((h) => h.id === info.id)!;
      expect(entry).toMatchObject({
        state: 'SUCCEEDED',
        rows: 7,
        truncated: true,
        engine: 'duckdb',
        resultKey: `query-results/${info.id}.csv`,
        by: 'alice',
      });
      expect(history.filter((h) => h.id === info.id).length).toBe(1);
      // A page's own query (the Schemas page's failures) runs and is kept, but is not in its user's history.
      const own = await limited.run({ sql: 'SELECT 1 AS one', actor: { by: 'alice', role: 'viewer' }, unlisted: true });
      expect(own.rows).toEqual([[1]]);
      expect((await limited.history(100)).some((h) => h.id === own.info.id)).toBe(false);
      expect((await limited.status(own.info.id)).state).toBe('SUCCEEDED');
      // Newest first.
      const times = history.map((h) => h.submittedAt);
      expect(times).toEqual([...times].sort().reverse());
    } finally {
      await limited.deps.engine.close();
    }
  });

  it('another process (a second service with its own DuckDB) answers status and CSV from S3; rows and cancel stay with the process that runs the query', async () => {
    const other = queryService(rt.config, { maxUnfilteredScanBytes: 1e12 });
    try {
      const done = await svc.run({ sql: "SELECT '=1+2' AS formula, -5 AS n, '-5' AS text_n, 'ok' AS plain" });
      const seen = await other.status(done.info.id);
      expect(seen).toMatchObject({ id: done.info.id, state: 'SUCCEEDED', rows: 1, by: 'local' });
      expect(await csvOf(await other.csv(done.info.id))).toBe("formula,n,text_n,plain\r\n'=1+2,-5,'-5,ok\r\n");
      await expect(other.results(done.info.id)).rejects.toMatchObject({ code: 'elsewhere', status: 409 });
      const slow = await svc.start({
        sql: 'SELECT count(*) FROM range(100000000000) a, range(10) b WHERE a.range % 7 = b.range',
      });
      expect(await other.status(slow.id)).toMatchObject({ state: 'RUNNING' });
      await expect(other.cancel(slow.id)).rejects.toMatchObject({ code: 'elsewhere', status: 409 });
      await expect(other.csv(slow.id)).rejects.toMatchObject({ code: 'not_ready', status: 409 });
      expect((await svc.cancel(slow.id)).state).toBe('CANCELLED');
      expect((await other.status(slow.id)).state).toBe('CANCELLED');
      await expect(other.status('no-such-query')).rejects.toMatchObject({ code: 'unknown_query', status: 404 });
      await expect(other.status('../../etc/passwd')).rejects.toMatchObject({ code: 'unknown_query', status: 404 });
      expect((await svc.history(200)).filter((h) => h.id === slow.id).length).toBe(1);
    } finally {
      await other.deps.engine.close();
    }
  });

  it('tributary queries run prints the saved query result as JSON and CSV', async () => {
    const env = {
      ...process.env,
      TRIBUTARY_S3_ENDPOINT: rt.config.endpoints!.s3,
      TRIBUTARY_KINESIS_ENDPOINT: rt.config.endpoints!.kinesis,
      TRIBUTARY_DATA_DIR: dir,
    };
    const json = await exec(
      process.execPath,
      [
        'bin/tributary.mjs',
        'queries',
        'run',
        'top_merchants',
        '--param',
        `period=${PERIOD}`,
        '--param',
        'limit=2',
        '--json',
      ],
      { cwd: root, env },
    );
    const out = JSON.parse(json.stdout) as {
      columns: { name: string }[];
      rows: unknown[][];
      query: { saved: string; state: string };
    };
    expect(out.columns.map((c) => c.name)).toEqual(['rank', 'merchant', 'transactions', 'amount']);
    expect(out.rows.length).toBe(2);
    expect(out.query).toMatchObject({ saved: 'top_merchants', state: 'SUCCEEDED' });
    const csv = await exec(
      process.execPath,
      [
        'bin/tributary.mjs',
        'query',
        "SELECT category, count(*) AS n FROM transactions WHERE dt >= '2026-01-01' GROUP BY 1 ORDER BY 1",
        '--format',
        'csv',
      ],
      { cwd: root, env },
    );
    const lines = csv.stdout.trim().split('\r\n');
    const cats = groupBy(byType('transactions'), (e) => dataOf(e).category);
    expect(lines[0]).toBe('category,n');
    expect(lines.slice(1)).toEqual([...cats.keys()].sort().map((c) => `${c},${cats.get(c)!.length}`));
    const refused = await exec(
      process.execPath,
      ['bin/tributary.mjs', 'query', 'SELECT * FROM transactions', '--max-unfiltered-scan', '0'],
      { cwd: root, env },
    ).catch((e: { code: number; stderr: string }) => e);
    expect((refused as { code: number }).code).toBe(2);
    expect((refused as { stderr: string }).stderr).toMatch(/refused: .*Add a filter on dt/);
  });
});
