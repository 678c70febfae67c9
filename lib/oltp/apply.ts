import type pg from 'pg';
import type { TransactionRow } from './rows.ts';

/** The columns of `unnest(...)`, in parameter order, with the SQL type each text parameter is cast to. */
const COLUMNS: [keyof TransactionRow | 'ord', string][] = [
  ['ord', 'integer'],
  ['trans_num', 'text'],
  ['cc_num', 'text'],
  ['first', 'text'],
  ['last', 'text'],
  ['gender', 'text'],
  ['job', 'text'],
  ['dob', 'date'],
  ['street', 'text'],
  ['zip', 'text'],
  ['lat', 'double precision'],
  ['long', 'double precision'],
  ['city', 'text'],
  ['state', 'text'],
  ['city_pop', 'integer'],
  ['merchant', 'text'],
  ['category', 'text'],
  ['merch_lat', 'double precision'],
  ['merch_long', 'double precision'],
  ['amount', 'numeric'],
  ['timestamp', 'timestamptz'],
  ['unix_time', 'bigint'],
  ['is_fraud', 'boolean'],
  ['as_of', 'timestamptz'],
  ['received_at', 'timestamptz'],
  ['source', 'text'],
  ['redrive_job', 'text'],
];

const q = (c: string) => `"${c}"`;

/**
 * Applies many events in one statement (one round trip): the events arrive as one array per column; events whose
 * transaction already exists are dropped first, so re-applying an event changes nothing; each dimension is upserted
 * once per key (the newest event's values win, by event time, whatever order events arrive in) and returns its id to
 * the next step; the transactions go in last. Everything runs in the caller's database transaction, so the events of
 * a statement are applied completely or not at all.
 *
 * Every upsert uses DO UPDATE (even when nothing changes) because only updated or inserted rows come back from
 * RETURNING, and every key of the batch must come back to be joined on.
 */
export const APPLY_SQL = `
WITH ev AS (
  SELECT * FROM unnest(${COLUMNS.map((_, i) => `$${i + 1}::text[]`).join(', ')})
    AS e(${COLUMNS.map(([c]) => q(c)).join(', ')})
),
typed AS (
  SELECT ${COLUMNS.map(([c, type]) => (type === 'text' ? q(c) : `${q(c)}::${type} AS ${q(c)}`)).join(', ')} FROM ev
),
fresh AS (
  SELECT DISTINCT ON (t.trans_num) t.* FROM typed t
  WHERE NOT EXISTS (SELECT 1 FROM "transaction" x WHERE x.trans_num = t.trans_num)
  ORDER BY t.trans_num, t.ord
),
city_rows AS (
  INSERT INTO city AS c (name, state, population, as_of)
  SELECT DISTINCT ON (city, state) city, state, city_pop, as_of FROM fresh
  WHERE city IS NOT NULL AND state IS NOT NULL
  ORDER BY city, state, as_of DESC, ord DESC
  ON CONFLICT (name, state) DO UPDATE SET
    population = CASE WHEN EXCLUDED.as_of >= c.as_of THEN COALESCE(EXCLUDED.population, c.population) ELSE c.population END,
    as_of = GREATEST(c.as_of, EXCLUDED.as_of)
  RETURNING c.id, c.name, c.state
),
address_rows AS (
  INSERT INTO address AS a (street, zip, lat, long, city_id, as_of)
  SELECT DISTINCT ON (f.street, f.zip) f.street, f.zip, f.lat, f.long, cr.id, f.as_of FROM fresh f
  LEFT JOIN city_rows cr ON cr.name = f.city AND cr.state = f.state
  WHERE f.street IS NOT NULL AND f.zip IS NOT NULL
  ORDER BY f.street, f.zip, f.as_of DESC, f.ord DESC
  ON CONFLICT (street, zip) DO UPDATE SET
    lat = CASE WHEN EXCLUDED.as_of >= a.as_of THEN COALESCE(EXCLUDED.lat, a.lat) ELSE a.lat END,
    long = CASE WHEN EXCLUDED.as_of >= a.as_of THEN COALESCE(EXCLUDED.long, a.long) ELSE a.long END,
    city_id = CASE WHEN EXCLUDED.as_of >= a.as_of THEN EXCLUDED.city_id ELSE a.city_id END,
    as_of = GREATEST(a.as_of, EXCLUDED.as_of)
  RETURNING a.id, a.street, a.zip
),
customer_rows AS (
  INSERT INTO customer AS cu (cc_num, first, last, gender, job, dob, address_id, as_of)
  SELECT DISTINCT ON (f.cc_num) f.cc_num, f.first, f.last, f.gender, f.job, f.dob, ar.id, f.as_of FROM fresh f
  LEFT JOIN address_rows ar ON ar.street = f.street AND ar.zip = f.zip
  ORDER BY f.cc_num, f.as_of DESC, f.ord DESC
  ON CONFLICT (cc_num) DO UPDATE SET
    first = CASE WHEN EXCLUDED.as_of >= cu.as_of THEN COALESCE(EXCLUDED.first, cu.first) ELSE cu.first END,
    last = CASE WHEN EXCLUDED.as_of >= cu.as_of THEN COALESCE(EXCLUDED.last, cu.last) ELSE cu.last END,
    gender = CASE WHEN EXCLUDED.as_of >= cu.as_of THEN COALESCE(EXCLUDED.gender, cu.gender) ELSE cu.gender END,
    job = CASE WHEN EXCLUDED.as_of >= cu.as_of THEN COALESCE(EXCLUDED.job, cu.job) ELSE cu.job END,
    dob = CASE WHEN EXCLUDED.as_of >= cu.as_of THEN COALESCE(EXCLUDED.dob, cu.dob) ELSE cu.dob END,
    address_id = CASE WHEN EXCLUDED.as_of >= cu.as_of THEN COALESCE(EXCLUDED.address_id, cu.address_id) ELSE cu.address_id END,
    as_of = GREATEST(cu.as_of, EXCLUDED.as_of)
  RETURNING cu.id, cu.cc_num
),
merchant_rows AS (
  INSERT INTO merchant AS m (name, category, lat, long, as_of)
  SELECT DISTINCT ON (merchant, category) merchant, category, merch_lat, merch_long, as_of FROM fresh
  WHERE merchant IS NOT NULL AND category IS NOT NULL
  ORDER BY merchant, category, as_of DESC, ord DESC
  ON CONFLICT (name, category) DO UPDATE SET
    lat = CASE WHEN EXCLUDED.as_of >= m.as_of THEN COALESCE(EXCLUDED.lat, m.lat) ELSE m.lat END,
    long = CASE WHEN EXCLUDED.as_of >= m.as_of THEN COALESCE(EXCLUDED.long, m.long) ELSE m.long END,
    as_of = GREATEST(m.as_of, EXCLUDED.as_of)
  RETURNING m.id, m.name, m.category
),
inserted AS (
  INSERT INTO "transaction" (trans_num, customer_id, merchant_id, amount, "timestamp", unix_time, is_fraud, received_at, source, redrive_job)
  SELECT f.trans_num, cr.id, mr.id, f.amount::numeric(15, 2), f."timestamp", f.unix_time, f.is_fraud, f.received_at, f.source, f.redrive_job
  FROM fresh f
  LEFT JOIN customer_rows cr ON cr.cc_num = f.cc_num
  LEFT JOIN merchant_rows mr ON mr.name = f.merchant AND mr.category = f.category
  ON CONFLICT (trans_num) DO NOTHING
  RETURNING trans_num
)
SELECT trans_num FROM inserted`;

/**
 * Runs {@link APPLY_SQL} for `rows` on `client` (inside the caller's transaction) and returns the trans_nums it
 * inserted; the others were already there.
 */
export async function applyRows(client: pg.ClientBase, rows: TransactionRow[]): Promise<Set<string>> {
  const params = COLUMNS.map(([c]) => (c === 'ord' ? rows.map((_, i) => String(i)) : rows.map((r) => r[c])));
  // Unnamed on purpose: PGlite's socket server multiplexes every connection onto one backend, where a named
  // statement prepared by one pg client collides with the same name from the next.
  const res = await client.query<{ trans_num: string }>(APPLY_SQL, params);
  return new Set(res.rows.map((r) => r.trans_num));
}
