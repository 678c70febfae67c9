import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { main } from '../../cli/main.ts';
import { createPool } from '../../lib/oltp/db.ts';
import { migrate, MIGRATIONS } from '../../lib/oltp/migrations.ts';
import type { DevRuntime } from '../../local/dev.ts';
import { testDatabase, type TestDatabase } from './db.ts';
import { post, readLake, removeDir, startTestRuntime, tempDir, waitFor } from './helpers.ts';

// A database the previous release set up (migration 1 only: card numbers of 15-19 digits), upgraded by this one.
const RELEASED = MIGRATIONS.filter((m) => m.version === 1);

const today = new Date().toISOString().slice(0, 10);
const txn = (n: number, cc_num: string) => ({
  trans_num: n.toString(16).padStart(32, 'c'),
  trans_date_trans_time: `${today} 10:00:0${n}`,
  cc_num,
  merchant: 'fraud_Heller, Gutmann and Zieme',
  category: 'grocery_pos',
  amt: 107.23,
  first: 'Stephanie',
  last: 'Gill',
  gender: 'F',
  street: '43039 Riley Greens Suite 393',
  city: 'Orient',
  state: 'WA',
  zip: '99160',
  city_pop: 149,
});

async function cc(pool: pg.Pool): Promise<string[]> {
  try {
    return (await pool.query<{ cc_num: string }>('SELECT cc_num FROM customer ORDER BY cc_num')).rows.map(
      (r) => r.cc_num,
    );
  } catch {
    return [];
  }
}

async function cli(args: string[], url: string): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const io = { out: (s: string) => void out.push(s), err: (s: string) => void out.push(s), isTTY: false };
  const saved = process.env.DATABASE_URL;
  process.env.DATABASE_URL = url;
  try {
    return { code: await main(args, io), out: out.join('\n') };
  } finally {
    if (saved === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = saved;
  }
}

describe('an OLTP database of the previous release takes 11- to 14-digit card numbers once upgraded', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let rt: DevRuntime | undefined;
  let dir: string;

  beforeAll(async () => {
    dir = tempDir('oltp-migrate');
    db = await testDatabase('migrate');
    pool = createPool(db.url);
    expect(await migrate(pool, RELEASED)).toEqual({ applied: [1], version: 1 });
  }, 60_000);

  afterAll(async () => {
    await rt?.stop();
    await pool?.end();
    await db?.drop();
    removeDir(dir);
  });

  it('the released schema refuses a 12-digit card number', async () => {
    const insert = pool.query(`INSERT INTO customer (cc_num, as_of) VALUES ('630423337322', now())`);
    await expect(insert).rejects.toMatchObject({ code: '23514', constraint: 'customer_cc_num_check' });
  });

  it('the sink upgrades it on start and loads 11-, 12-, 13- and 14-digit cards sent through the API, end to end', async () => {
    rt = await startTestRuntime(dir, { oltp: true, databaseUrl: db.url });
    expect(
      (await pool.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).rows.map(
        (r) => r.version,
      ),
    ).toEqual(MIGRATIONS.map((m) => m.version));
    const cards = ['60416207185', '630423337322', '4838637940262', '38859492057661', '2703186189652095'];
    const res = await post(rt, 'transactions', JSON.stringify(cards.map((c, i) => txn(i + 1, c))));
    expect(res.json).toMatchObject({ accepted: 5, rejected: 0, failed: 0 });
    const rows = await waitFor(
      () => cc(pool),
      (r) => r.length >= 5,
    );
    expect(rows).toEqual([...cards].sort());
    expect((await pool.query('SELECT count(*)::int AS n FROM "transaction"')).rows[0].n).toBe(5);
    // Nothing was refused by the database on the way.
    const lake = await readLake(rt.config);
    expect(lake.quarantine).toEqual([]);
  }, 180_000);

  it('still refuses what is no card number, at the field, when a record reaches the database without ingest', async () => {
    const insert = pool.query(`INSERT INTO customer (cc_num, as_of) VALUES ('1234567', now())`);
    await expect(insert).rejects.toMatchObject({ code: '23514', constraint: 'customer_cc_num_check' });
    const ok = await pool.query<{ id: string }>(
      `INSERT INTO customer (cc_num, as_of) VALUES ('12345678', now()) RETURNING id`,
    );
    await pool.query('DELETE FROM customer WHERE id = $1', [ok.rows[0]!.id]);
  });
});

describe('tributary db migrate on a database of the previous release', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    db = await testDatabase('migrate_cli');
    pool = createPool(db.url);
    await migrate(pool, RELEASED);
  }, 60_000);
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('applies the new migration, keeps the rows it has, and is a no-op the second time', async () => {
    await pool.query(`INSERT INTO customer (cc_num, as_of) VALUES ('4992346398065154184', now())`);
    const first = await cli(['db', 'migrate', '--json'], db.url);
    expect(first.code, first.out).toBe(0);
    expect(JSON.parse(first.out)).toMatchObject({ applied: [2, 3, 4, 5, 6, 7, 8, 9], version: 9 });
    expect(await cc(pool)).toEqual(['4992346398065154184']);
    await pool.query(`INSERT INTO customer (cc_num, as_of) VALUES ('630423337322', now())`);
    const again = await cli(['db', 'migrate', '--json'], db.url);
    expect(JSON.parse(again.out)).toMatchObject({ applied: [], version: 9 });
    const status = await cli(['db', 'status', '--json'], db.url);
    expect(JSON.parse(status.out).migration).toEqual({ current: 9, latest: 9 });
  });
});
