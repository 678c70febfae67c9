import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createPool } from '../../lib/oltp/db.ts';
import { oltpStatus } from '../../lib/oltp/status.ts';
import type { QuarantineService } from '../../lib/quarantine/service.ts';
import { quarantineService } from '../../lib/composition.ts';
import type { DevRuntime } from '../../local/dev.ts';
import { main } from '../../cli/main.ts';
import { startTestPglite, testDatabase, type TestDatabase } from './db.ts';
import {
  duplicates,
  post,
  readLake,
  removeDir,
  runtimePerTest,
  sendTransactions,
  startTestRuntime,
  tempDir,
  waitFor,
} from './helpers.ts';

const OPERATOR = { role: 'operator' as const, by: 'oncall' };
const today = new Date().toISOString().slice(0, 10);

async function transNums(pool: pg.Pool): Promise<string[]> {
  try {
    return (await pool.query<{ trans_num: string }>('SELECT trans_num FROM "transaction" ORDER BY trans_num')).rows.map(
      (r) => r.trans_num,
    );
  } catch {
    return []; // the database is restarting
  }
}

describe('OLTP sink in the local runtime: API → stream → Postgres, exactly once', () => {
  let db: TestDatabase;
  let rt: DevRuntime;
  let dir: string;
  let pool: pg.Pool;
  let svc: QuarantineService;
  let ids: string[];
  const bad = {
    trans_num: 'f'.repeat(32),
    cc_num: '4000000000000009999',
    trans_date_trans_time: `${today} 12:00:00`,
    amt: 1e13,
    merchant: "O'Hara",
    category: 'misc',
  };

  beforeAll(async () => {
    dir = tempDir('oltp-pipeline');
    db = await testDatabase('pipeline');
    rt = await startTestRuntime(dir, { oltp: true, databaseUrl: db.url });
    pool = createPool(db.url);
    svc = quarantineService(rt.config);
    ids = await sendTransactions(rt, 300, 7);
    expect((await post(rt, 'transactions', JSON.stringify(bad))).json).toMatchObject({ accepted: 1, rejected: 0 });
  }, 180_000);

  afterAll(async () => {
    await rt?.stop();
    await pool?.end();
    await db?.drop();
    removeDir(dir);
  });

  it('applies every produced transaction once and quarantines the one the database refuses', async () => {
    const rows = await waitFor(
      () => transNums(pool),
      (r) => r.length >= 300,
    );
    expect(rows).toEqual([...new Set(ids)].sort());
    const q = await waitFor(
      () => svc.list({ stage: 'oltp-sink' }),
      (p) => p.total === 1,
    );
    expect(q.items.map((i) => [i.record.id, i.record.reason, i.record.errors[0]!.path])).toEqual([
      [bad.trans_num, 'db_rejected', '/amt'],
    ]);
    // The lake took all 301 (the database's limits are not the lake's).
    const lake = await waitFor(
      () => readLake(rt.config),
      (l) => l.rows.length >= 301,
    );
    expect(lake.rows).toHaveLength(301);
    expect(duplicates(lake.rows.map((r) => r.id))).toEqual([]);
  });

  it('tributary db status --json reports the exact rows per table', async () => {
    const out: string[] = [];
    const io = { out: (s: string) => void out.push(s), err: (s: string) => void out.push(s), isTTY: false };
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = db.url;
    try {
      expect(await main(['db', 'status', '--json'], io)).toBe(0);
    } finally {
      if (saved === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved;
    }
    const status = JSON.parse(out.join(''));
    const exact = await oltpStatus(pool);
    expect(status.tables).toEqual(exact.tables);
    expect(status.tables.transaction).toBe(300);
    expect(status.migration).toEqual({ current: 9, latest: 9 });
    expect(status.sink.reduce((n: number, s: { applied: number }) => n + s.applied, 0)).toBe(300);
  });

  it('a fixed, re-driven event is applied once in the database and not written to the lake again', async () => {
    const [entry] = (await svc.list({ stage: 'oltp-sink' })).items;
    // A first fix that is itself invalid: quarantined again (stage redrive), remembering where the event first failed.
    const wrong = await svc.startRedrive(
      {
        qids: [entry!.qid],
        fixes: { [entry!.qid]: { event: JSON.stringify({ ...bad, amt: 13.5, cc_num: 'not a card' }) } },
      },
      OPERATOR,
    );
    expect(await svc.wait(wrong.id)).toMatchObject({ status: 'succeeded', accepted: 0, failed: 1 });
    const [again] = (await svc.list({ stage: 'redrive' })).items;
    expect([again!.record.id, again!.record.origin_stage, again!.record.errors[0]!.path]).toEqual([
      bad.trans_num,
      'oltp-sink',
      '/cc_num',
    ]);
    const job = await svc.startRedrive(
      { qids: [again!.qid], fixes: { [again!.qid]: { event: JSON.stringify({ ...bad, amt: 13.5 }) } } },
      OPERATOR,
    );
    expect(await svc.wait(job.id)).toMatchObject({ status: 'succeeded', accepted: 1 });
    const rows = await waitFor(
      () => transNums(pool),
      (r) => r.length >= 301,
      60_000,
    );
    expect(rows).toHaveLength(301);
    const row = (
      await pool.query('SELECT amount::text AS amount, source, redrive_job FROM "transaction" WHERE trans_num = $1', [
        bad.trans_num,
      ])
    ).rows;
    expect(row).toEqual([{ amount: '13.50', source: 'redrive', redrive_job: job.id }]);
    // Wait for the lake writer to have read the re-driven record too, then check it skipped it.
    await waitFor(
      async () => rt.poller.stats().reduce((n, s) => n + s.records, 0),
      (n) => n >= 302,
      60_000,
    );
    const lake = await readLake(rt.config);
    expect(lake.rows.filter((r) => r.id === bad.trans_num).map((r) => r.source)).toEqual(['api']);
    expect(lake.rows).toHaveLength(301);
  });
});

describe('OLTP sink survives its database going away mid-batch', () => {
  const s = runtimePerTest();

  it('a PGlite restart mid-batch: the batch fails, is retried, and every event lands exactly once', async () => {
    const pgl = await startTestPglite();
    const pool = createPool(pgl.url);
    try {
      s.dir = tempDir('oltp-restart');
      s.rt = await startTestRuntime(s.dir, { oltp: true, databaseUrl: pgl.url, mapping: { batchSize: 500 } });
      const sent = await sendTransactions(s.rt, 3000, 11);
      const before = await waitFor(
        () => transNums(pool),
        (r) => r.length > 0,
        60_000,
        50,
      );
      await pgl.restart(1_000);
      const rows = await waitFor(
        () => transNums(pool),
        (r) => r.length >= 3000,
        180_000,
      );
      // The database went away with events still to apply, and the sink saw batches fail and delivered them again.
      expect(before.length).toBeLessThan(3000);
      expect(s.rt.sinkPoller!.stats().reduce((n, x) => n + x.failures, 0)).toBeGreaterThan(0);
      expect(rows).toEqual([...new Set(sent)].sort());
      const status = await oltpStatus(pool);
      expect(status.sink.reduce((n, p) => n + p.applied, 0)).toBe(3000);
      expect((await quarantineService(s.rt.config).list({ stage: 'oltp-sink' })).total).toBe(0);
    } finally {
      await pool.end();
      await s.rt?.stop();
      s.rt = undefined;
      await pgl.stop();
    }
  }, 300_000);

  it.runIf(!!process.env.DATABASE_URL)(
    'Postgres: connections terminated mid-batch, again and again: nothing lost, nothing twice',
    async () => {
      const db = await testDatabase('terminate');
      const pool = createPool(db.url);
      try {
        s.dir = tempDir('oltp-terminate');
        s.rt = await startTestRuntime(s.dir, { oltp: true, databaseUrl: db.url, mapping: { batchSize: 200 } });
        const dbName = new URL(db.url).pathname.slice(1);
        const sending = sendTransactions(s.rt, 2000, 13);
        let kills = 0;
        const killer = (async () => {
          const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
          await admin.connect();
          try {
            for (let i = 0; i < 40 && (await transNums(pool)).length < 2000; i++) {
              const r = await admin.query(
                'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
                [dbName],
              );
              kills += r.rows.length;
              await new Promise((res) => setTimeout(res, 150));
            }
          } finally {
            await admin.end();
          }
        })();
        const sent = await sending;
        await killer;
        const rows = await waitFor(
          () => transNums(pool),
          (r) => r.length >= 2000,
          180_000,
        );
        expect(kills).toBeGreaterThan(0);
        expect(s.rt.sinkPoller!.stats().reduce((n, x) => n + x.failures, 0)).toBeGreaterThan(0);
        expect(rows).toEqual([...new Set(sent)].sort());
        expect((await oltpStatus(pool)).sink.reduce((n, p) => n + p.applied, 0)).toBe(2000);
      } finally {
        await pool.end();
        await s.rt?.stop();
        s.rt = undefined;
        await db.drop();
      }
    },
    300_000,
  );
});
