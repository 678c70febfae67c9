import type pg from 'pg';
import { errorMessage } from '../errors.ts';
import { readingDatabase } from './db.ts';
import { DatabaseUnavailableError } from './errors.ts';
import { MIGRATIONS, migrationVersion, OLTP_TABLES, type OltpTable } from './migrations.ts';

/** Progress of one sink consumer on one shard (the `sink_progress` table). */
export interface SinkProgress {
  consumer: string;
  shardId: string;
  sequenceNumber: string;
  /** Stream arrival time of the newest record of the last batch. */
  lastReceivedAt: string | null;
  lastAppliedAt: string;
  /** How long the newest applied record waited between reaching the stream and being applied (ms). */
  latencyMs: number | null;
  /** Time since the last batch was applied (ms): grows while the sink is stopped or the database is down. */
  idleMs: number;
  applied: number;
  duplicates: number;
  rejected: number;
  batches: number;
}

/** One row of the latest-transactions list, joined back to its customer, merchant and city. */
export interface LatestTransaction {
  trans_num: string;
  timestamp: string | null;
  amount: string | null;
  is_fraud: boolean | null;
  cc_num: string;
  customer: string;
  merchant: string | null;
  category: string | null;
  city: string | null;
  state: string | null;
  source: string;
  redrive_job: string | null;
  applied_at: string;
}

export interface OltpStatus {
  /** `SELECT version()`: which engine answered (PostgreSQL, PGlite, Aurora). */
  server: string;
  /** Migration the database is at, and the newest this release has. */
  migration: { current: number; latest: number };
  /** Exact row counts. */
  tables: Record<OltpTable, number>;
  sink: SinkProgress[];
  latest: LatestTransaction[];
}

const iso = (v: Date | string | null): string | null => (v === null ? null : new Date(v).toISOString());

/** The newest `limit` transactions by their own time (ties by trans_num; the console's list). */
export async function latestTransactions(pool: pg.Pool, limit = 20): Promise<LatestTransaction[]> {
  const { rows } = await pool.query<
    Omit<LatestTransaction, 'timestamp' | 'applied_at'> & { timestamp: Date | null; applied_at: Date }
  >(
    `SELECT t.trans_num, t."timestamp", t.amount::text AS amount, t.is_fraud, cu.cc_num,
            concat_ws(' ', cu.first, cu.last) AS customer, m.name AS merchant, m.category, ci.name AS city, ci.state,
            t.source, t.redrive_job, t.applied_at
       FROM "transaction" t
       JOIN customer cu ON cu.id = t.customer_id
       LEFT JOIN merchant m ON m.id = t.merchant_id
       LEFT JOIN address a ON a.id = cu.address_id
       LEFT JOIN city ci ON ci.id = a.city_id
      ORDER BY t."timestamp" DESC NULLS LAST, t.trans_num
      LIMIT $1`,
    [Math.max(1, Math.min(500, Math.floor(limit)))],
  );
  return rows.map((r) => ({ ...r, timestamp: iso(r.timestamp), applied_at: iso(r.applied_at)! }));
}

/**
 * What `tributary db status` and the console's OLTP page show: exact rows per table, the migration, the sink's
 * progress per shard and (with `latest`) the newest transactions. A database that was never migrated reports
 * migration 0 and empty tables rather than failing.
 */
export async function oltpStatus(pool: pg.Pool, options: { latest?: number } = {}): Promise<OltpStatus> {
  return readingDatabase(() => readStatus(pool, options));
}

async function readStatus(pool: pg.Pool, options: { latest?: number }): Promise<OltpStatus> {
  let server: string;
  try {
    server = (await pool.query<{ version: string }>('SELECT version()')).rows[0]!.version;
  } catch (err) {
    throw new DatabaseUnavailableError(
      `Cannot reach the database: ${errorMessage(err)}. Is \`tributary dev\` running, or DATABASE_URL set?`,
      { cause: err },
    );
  }
  const latestVersion = MIGRATIONS.at(-1)!.version;
  const tables = Object.fromEntries(OLTP_TABLES.map((t) => [t, 0])) as Record<OltpTable, number>;
  const current = await migrationVersion(pool);
  if (!current) return { server, migration: { current: 0, latest: latestVersion }, tables, sink: [], latest: [] };
  const counts = await pool.query<{ t: OltpTable; n: string }>(
    OLTP_TABLES.map((t) => `SELECT '${t}' AS t, count(*) AS n FROM "${t}"`).join(' UNION ALL '),
  );
  for (const r of counts.rows) tables[r.t] = Number(r.n);
  const progress = await pool.query<{
    consumer: string;
    shard_id: string;
    sequence_number: string;
    last_received_at: Date | null;
    last_applied_at: Date;
    now: Date;
    applied: string;
    duplicates: string;
    rejected: string;
    batches: string;
  }>('SELECT *, now() AS now FROM sink_progress ORDER BY consumer, shard_id');
  const sink = progress.rows.map((r) => ({
    consumer: r.consumer,
    shardId: r.shard_id,
    sequenceNumber: r.sequence_number,
    lastReceivedAt: iso(r.last_received_at),
    lastAppliedAt: iso(r.last_applied_at)!,
    latencyMs: r.last_received_at
      ? Math.max(0, new Date(r.last_applied_at).getTime() - new Date(r.last_received_at).getTime())
      : null,
    idleMs: Math.max(0, new Date(r.now).getTime() - new Date(r.last_applied_at).getTime()),
    applied: Number(r.applied),
    duplicates: Number(r.duplicates),
    rejected: Number(r.rejected),
    batches: Number(r.batches),
  }));
  const latest = options.latest ? await latestTransactions(pool, options.latest) : [];
  return { server, migration: { current, latest: latestVersion }, tables, sink, latest };
}
