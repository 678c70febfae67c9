import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsClients } from '../../lib/aws/clients.ts';
import type { Envelope } from '../../lib/envelope.ts';
import { compactLake } from '../../lib/compact/compact.ts';
import { produce } from '../../lib/produce/producer.ts';
import { syntheticEvents } from '../../lib/produce/synthetic.ts';
import { resolveParams } from '../../lib/query/params.ts';
import { loadSavedQueries, savedSql } from '../../lib/query/saved.ts';
import type { QueryService } from '../../lib/query/service.ts';
import { compactorDeps, queryService } from '../../lib/composition.ts';
import { listAll, readJsonl } from '../../lib/aws/s3.ts';
import type { DevRuntime } from '../../local/dev.ts';
import { landInLake, readLake, removeDir, startTestRuntime, syntheticEnvelopes, tempDir, waitFor } from './helpers.ts';

const TABLES = ['transactions', 'taxi_trips', 'clickstream'] as const;
const SENT = { transactions: 60, taxi_trips: 30, clickstream: 30 } as const;
const RESENT = { transactions: 10, taxi_trips: 5, clickstream: 5 } as const;
/** Events landed in the lake directly: the clickstream event sent three times, the transactions sent three times and twice. */
const EXTRA = { transactions: 2, taxi_trips: 0, clickstream: 1 } as const;
const ALL = "dt >= '2000-01-01'";
/** An hour boundary in the past, so compaction closes both hours around it. */
const BOUNDARY = '2026-01-20T11:00:00.000Z';
const at = (ms: number) => new Date(Date.parse(BOUNDARY) + ms).toISOString();
/** Transactions happening at `eventTime` (their own time field and the envelope's). */
const dated = (es: Envelope[], eventTime: string) =>
  es.map((e) => ({
    ...e,
    event_time: eventTime,
    data: { ...(e.data as object), trans_date_trans_time: `${eventTime.slice(0, 10)} ${eventTime.slice(11, 19)}` },
  }));

describe('one row per event id in the lake tables, whatever the lake holds', () => {
  let rt: DevRuntime;
  let dir: string;
  let svc: QueryService;
  const saved = loadSavedQueries().filter((q) => q.name !== 'lake_health');
  const sent = new Map<string, unknown[]>();
  /** A clickstream event (event time = received time) sent three times across BOUNDARY. */
  let click: Envelope[];
  /** A transaction sent three times, an hour apart in receipt but not in event time. */
  let tx: Envelope[];
  let tie: { e: Envelope; key: string }[];
  let baseline: Record<string, unknown>;

  const rows = (sql: string) => svc.run({ sql }).then((r) => r.rows);
  const lakeRowCount = async () => (await readLake(rt.config)).rows.length;

  /** Every row of every table and every saved query's result (what a user can see). */
  async function snapshot(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const t of TABLES) out[t] = await rows(`SELECT * FROM ${t} WHERE ${ALL} ORDER BY id`);
    for (const q of saved) {
      const period =
        q.name === 'invalid_rate' ? `2020-01-01..${new Date().toISOString().slice(0, 10)}` : '2020-01-01..2030-12-31';
      out[q.name] = (await svc.run({ sql: savedSql(q, 'duckdb'), params: resolveParams(q.params, { period }) })).rows;
    }
    return out;
  }

  async function expectOneRowPerId(): Promise<void> {
    for (const t of TABLES) {
      const [[n, ids]] = (await rows(`SELECT count(*), count(DISTINCT id) FROM ${t} WHERE ${ALL}`)) as [
        [number, number],
      ];
      expect(n, t).toBe(ids);
      expect(n, t).toBe(SENT[t] + EXTRA[t]);
    }
  }

  beforeAll(async () => {
    dir = tempDir('dedupe');
    rt = await startTestRuntime(dir);
    svc = queryService(rt.config, { rowLimit: 10_000, maxUnfilteredScanBytes: 1e12 });
    for (const t of TABLES) {
      const events = [...syntheticEvents(t, SENT[t], { seed: 5 })].map((e) => e.value);
      sent.set(t, events);
      await produce(
        events.map((e, index) => ({ text: JSON.stringify(e), index })),
        { endpoint: rt.apiUrl, apiKey: rt.apiKey, type: t },
      );
    }
    const total = Object.values(SENT).reduce((a, n) => a + n, 0);
    expect(await waitFor(lakeRowCount, (n) => n >= total, 150_000)).toBe(total);
    // The first copies of the events sent three times, each in an object of its own.
    const [c] = syntheticEnvelopes('clickstream', 1, 77);
    click = [-100, 200, 1000].map((ms) => ({ ...c!, received_at: at(ms), event_time: at(ms) }));
    const [x] = dated(syntheticEnvelopes('transactions', 1, 77), at(-5400_000));
    tx = [0, 1800_000, 3600_000].map((ms) => ({ ...x!, received_at: at(-3600_000 + ms) }));
    await landInLake(rt.config, [click[0]!]);
    await landInLake(rt.config, [tx[0]!]);
    // Two copies received at the same instant (two re-drives of one record), with different content, in two objects:
    // the object key decides, in both engines and in compaction alike.
    const [z] = dated(syntheticEnvelopes('transactions', 1, 78, at(-7000_000)), at(-9000_000));
    tie = [];
    for (const amt of [1.25, 2.5]) {
      const e = { ...z!, data: { ...(z!.data as object), amt } };
      tie.push({ e, key: (await landInLake(rt.config, [e]))[0]! });
    }
    baseline = await snapshot();
  }, 300_000);

  afterAll(async () => {
    await svc?.deps.engine.close();
    await rt?.stop();
    removeDir(dir);
  });

  it('a client that retries after a lost acknowledgement stores a second copy, which no table or saved query shows', async () => {
    await expectOneRowPerId();
    // The retry: the same events sent again, as new requests (new received time, new objects).
    for (const t of TABLES) {
      const again = sent.get(t)!.slice(0, RESENT[t]);
      await produce(
        again.map((e, index) => ({ text: JSON.stringify(e), index })),
        { endpoint: rt.apiUrl, apiKey: rt.apiKey, type: t },
      );
    }
    const physical =
      Object.values(SENT).reduce((a, n) => a + n, 0) + Object.values(RESENT).reduce((a, n) => a + n, 0) + 4;
    expect(await waitFor(lakeRowCount, (n) => n >= physical, 150_000)).toBe(physical);
    // Copies two and three of the events sent three times: the clickstream ones in the next hour.
    for (const e of [...click.slice(1), ...tx.slice(1)]) await landInLake(rt.config, [e]);
    expect(await lakeRowCount()).toBe(physical + 4);

    await expectOneRowPerId();
    expect(await snapshot()).toEqual(baseline);
    // The copy received first is the row: for the clickstream event, the one in the hour before the boundary.
    expect(
      await rows(
        `SELECT CAST(received_at AS VARCHAR), hour FROM clickstream WHERE dt = '2026-01-20' AND id = '${click[0]!.id}'`,
      ),
    ).toEqual([['2026-01-20 10:59:59.9', 10]]);
    expect(
      await rows(
        `SELECT CAST(received_at AS VARCHAR) FROM transactions WHERE dt = '2026-01-20' AND id = '${tx[0]!.id}'`,
      ),
    ).toEqual([['2026-01-20 10:00:00']]);
    const first = [...tie].sort((a, b) => (a.key < b.key ? -1 : 1))[0]!;
    expect(await rows(`SELECT amt FROM transactions WHERE dt = '2026-01-20' AND id = '${first.e.id}'`)).toEqual([
      [(first.e.data as { amt: number }).amt],
    ]);
  }, 300_000);

  it('a dt filter still reads only that day: the rule is per day, so the partition filter is pushed below it', async () => {
    const { s3 } = awsClients(rt.config);
    const sizeOf = async (prefix: string) =>
      (await listAll(s3, rt.config.buckets.lake, prefix)).reduce((a, o) => a + o.Size!, 0);
    const one = await svc.run({ sql: "SELECT count(*) FROM clickstream WHERE dt = '2026-01-20'" });
    expect(one.rows).toEqual([[1]]);
    expect(one.info.bytesScanned).toBe(await sizeOf('events/clickstream/dt=2026-01-20/'));
    const today = new Date().toISOString().slice(0, 10);
    const day = await svc.run({ sql: `SELECT count(*) FROM clickstream WHERE dt = '${today}'` });
    expect(day.info.bytesScanned).toBe(await sizeOf(`events/clickstream/dt=${today}/`));
    expect(day.info.bytesScanned).toBeLessThan(await sizeOf('events/clickstream/'));
    // An hour filter sits above the per-day window, so the day is read, and the estimate says so: the guard's
    // estimate, the bytes reported and the day's objects are one number. The stored copies (_raw) prune by hour.
    const dayBytes = await sizeOf('events/clickstream/dt=2026-01-20/');
    const hourBytes = await sizeOf('events/clickstream/dt=2026-01-20/hour=10/');
    expect(hourBytes).toBeLessThan(dayBytes);
    // (A service of its own: the listing the estimate reads is cached for 30 s, and the test before landed copies.)
    const fresh = queryService(rt.config);
    const hourSql = "SELECT count(*) FROM clickstream WHERE dt = '2026-01-20' AND hour = 10";
    expect((await fresh.check({ sql: hourSql })).estimate.map((e) => e.bytes)).toEqual([dayBytes]);
    expect((await svc.run({ sql: hourSql })).info.bytesScanned).toBe(dayBytes);
    const rawSql = "SELECT count(*) FROM clickstream_raw WHERE dt = '2026-01-20' AND hour = 10";
    // (Those are Athena's Glue tables; the guard prices them the same everywhere.)
    expect((await fresh.check({ sql: rawSql })).estimate.map((e) => e.bytes)).toEqual([hourBytes]);
  }, 120_000);

  it('compaction keeps one row per event id per partition-hour, drops later copies against what is compacted, and changes nothing a reader sees', async () => {
    const { s3 } = awsClients(rt.config);
    // The copies compaction can drop: every row of an id in a partition-hour but the first.
    const copies = new Map<string, number>();
    let stored = 0;
    for (const key of (await listAll(s3, rt.config.buckets.lake, 'events/')).map((o) => o.Key!)) {
      for (const r of await readJsonl<Envelope>(s3, rt.config.buckets.lake, key)) {
        const k = `${key.slice(0, key.lastIndexOf('/'))}|${r.id}`;
        copies.set(k, (copies.get(k) ?? 0) + 1);
        stored++;
      }
    }
    const duplicates = [...copies.values()].reduce((a, n) => a + n - 1, 0);
    // The API retries (same hour), the transaction's two later copies, the clickstream event's third copy.
    expect(duplicates).toBeGreaterThanOrEqual(RESENT.transactions + RESENT.taxi_trips + 2 + 1);

    const before = new Date(Date.now() + 2 * 3600_000).toISOString().slice(0, 13);
    const result = await compactLake(compactorDeps(rt.config), { before });
    expect(result).toMatchObject({ failed: [], unreadable: [], duplicates, rows: stored - duplicates });
    expect((await listAll(s3, rt.config.buckets.lake, 'events/')).length).toBe(0);

    // In the stored Parquet: one row per id in each partition-hour; the clickstream event once on each side of the
    // boundary (the views show the first).
    const lakeDir = path.join(dir, 's3', rt.config.buckets.lake);
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    try {
      const parquet = `read_parquet('${lakeDir}/compacted/*/*/*/**/*.parquet._S3rver_object', filename = true, union_by_name = true)`;
      const perHour = await c.runAndReadAll(
        `SELECT regexp_replace(filename, '/[^/]+$', '') AS d, count(*) - count(DISTINCT id) FROM ${parquet} GROUP BY 1 HAVING count(*) <> count(DISTINCT id)`,
      );
      expect(perHour.getRows()).toEqual([]);
      const clicks = await c.runAndReadAll(
        `SELECT CAST(received_at AS VARCHAR) FROM ${parquet} WHERE id = '${click[0]!.id}' ORDER BY 1`,
      );
      expect(clicks.getRows().map((r) => r[0])).toEqual(['2026-01-20 10:59:59.9', '2026-01-20 11:00:00.2']);
    } finally {
      c.closeSync();
      db.closeSync();
    }
    expect(await snapshot()).toEqual(baseline);
    await expectOneRowPerId();
    const first = [...tie].sort((a, b) => (a.key < b.key ? -1 : 1))[0]!;
    expect(await rows(`SELECT amt FROM transactions WHERE dt = '2026-01-20' AND id = '${first.e.id}'`)).toEqual([
      [(first.e.data as { amt: number }).amt],
    ]);
    // Still pruned once compacted: the day's Parquet objects and nothing else.
    const day = await svc.run({ sql: "SELECT count(*) FROM clickstream WHERE dt = '2026-01-20'" });
    expect(day.info.bytesScanned).toBe(
      (await listAll(s3, rt.config.buckets.lake, 'compacted/clickstream/dt=2026-01-20/')).reduce(
        (a, o) => a + o.Size!,
        0,
      ),
    );

    // A later retry of a compacted event lands as JSONL in its compacted hour: hidden at once, and dropped by the next
    // run against the Parquet already there (no new Parquet object).
    const parquetBefore = (await listAll(s3, rt.config.buckets.lake, 'compacted/')).map((o) => o.Key!);
    await landInLake(rt.config, [{ ...tx[0]!, received_at: at(3600_000 * 5) }]);
    expect(await snapshot()).toEqual(baseline);
    expect(await compactLake(compactorDeps(rt.config), { before })).toMatchObject({
      partitions: 1,
      sourceObjects: 1,
      parquetObjects: 0,
      rows: 0,
      duplicates: 1,
    });
    expect((await listAll(s3, rt.config.buckets.lake, 'compacted/')).map((o) => o.Key!)).toEqual(parquetBefore);
    expect(await snapshot()).toEqual(baseline);

    // A copy received before the compacted one (a record delayed on its way) ranks first: compaction keeps it and
    // every reader sees it instead, still once.
    await landInLake(rt.config, [
      { ...tx[0]!, received_at: at(-3600_000 - 60_000), data: { ...(tx[0]!.data as object), amt: 1234.5 } },
    ]);
    const earlier = async () =>
      rows(
        `SELECT CAST(received_at AS VARCHAR), amt FROM transactions WHERE dt = '2026-01-20' AND id = '${tx[0]!.id}'`,
      );
    expect(await earlier()).toEqual([['2026-01-20 09:59:00', 1234.5]]);
    expect(await compactLake(compactorDeps(rt.config), { before })).toMatchObject({ rows: 1, duplicates: 0 });
    expect(await earlier()).toEqual([['2026-01-20 09:59:00', 1234.5]]);
    await expectOneRowPerId();
  }, 300_000);
});
