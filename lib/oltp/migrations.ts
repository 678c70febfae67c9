import { createHash } from 'node:crypto';
import type pg from 'pg';
import { withTransaction } from './db.ts';
import { MigrationError } from './errors.ts';

/** One schema change, applied once per database in version order, inside one transaction with the others pending. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The OLTP schema. Never edit a released migration: its checksum is recorded where it ran, and a changed one stops the
 * sink (a database silently different from the code is how rows go missing). Add a new version instead.
 *
 * Every dimension row keeps `as_of`, the event time of the newest event that set it, so events applied out of order
 * (two shards, a re-drive days later) leave the newest values in place, whatever the arrival order.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'normalized transactions',
    sql: `
CREATE TABLE city (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL,
  state       text NOT NULL,
  population  integer CHECK (population >= 0),
  as_of       timestamptz NOT NULL,
  UNIQUE (name, state)
);

CREATE TABLE address (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  street      text NOT NULL,
  zip         text NOT NULL,
  lat         double precision CHECK (lat BETWEEN -90 AND 90),
  long        double precision CHECK (long BETWEEN -180 AND 180),
  city_id     bigint NOT NULL REFERENCES city (id),
  as_of       timestamptz NOT NULL,
  UNIQUE (street, zip)
);
CREATE INDEX address_city_id_idx ON address (city_id);

CREATE TABLE customer (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- Text, never a number: 19-digit card numbers do not fit a bigint and leading zeros matter.
  cc_num      text NOT NULL UNIQUE CHECK (cc_num ~ '^[0-9]{15,19}$'),
  first       text,
  last        text,
  gender      text CHECK (gender IN ('M', 'F')),
  job         text,
  dob         date,
  address_id  bigint REFERENCES address (id),
  as_of       timestamptz NOT NULL
);
CREATE INDEX customer_address_id_idx ON customer (address_id);

CREATE TABLE merchant (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL,
  category    text NOT NULL,
  lat         double precision CHECK (lat BETWEEN -90 AND 90),
  long        double precision CHECK (long BETWEEN -180 AND 180),
  as_of       timestamptz NOT NULL,
  UNIQUE (name, category)
);

CREATE TABLE "transaction" (
  trans_num    text PRIMARY KEY,
  customer_id  bigint NOT NULL REFERENCES customer (id),
  merchant_id  bigint REFERENCES merchant (id),
  amount       numeric(15, 2),
  "timestamp"  timestamptz,
  unix_time    bigint,
  is_fraud     boolean,
  -- Where the row came from: the envelope's received time and source, and the re-drive job when it was re-driven.
  received_at  timestamptz NOT NULL,
  source       text NOT NULL,
  redrive_job  text,
  applied_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX transaction_customer_id_idx ON "transaction" (customer_id);
CREATE INDEX transaction_merchant_id_idx ON "transaction" (merchant_id);
CREATE INDEX transaction_applied_at_idx ON "transaction" (applied_at DESC);

-- One row per consumer and shard, written in the same database transaction as the events it counts.
CREATE TABLE sink_progress (
  consumer          text NOT NULL,
  shard_id          text NOT NULL,
  sequence_number   text NOT NULL,
  last_received_at  timestamptz,
  last_applied_at   timestamptz NOT NULL,
  applied           bigint NOT NULL DEFAULT 0,
  duplicates        bigint NOT NULL DEFAULT 0,
  rejected          bigint NOT NULL DEFAULT 0,
  batches           bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (consumer, shard_id)
);
`,
  },
  {
    version: 2,
    name: 'card numbers of 8 to 19 digits',
    // ISO/IEC 7812 card numbers are 8 to 19 digits, and the card-fraud data set has 11- to 14-digit ones that the
    // 15-19 check refused. Same constraint name, so a refusal still points at /cc_num; every existing row passes.
    sql: `
ALTER TABLE customer DROP CONSTRAINT customer_cc_num_check;
ALTER TABLE customer ADD CONSTRAINT customer_cc_num_check CHECK (cc_num ~ '^[0-9]{8,19}$');
`,
  },
  {
    version: 3,
    name: 'transactions by their own time',
    // The console's latest transactions are the newest by transaction time, read from this index's head rather than
    // by sorting the table; the order (DESC NULLS LAST, then trans_num) is the query's, so ties are stable.
    sql: `
CREATE INDEX transaction_timestamp_idx ON "transaction" ("timestamp" DESC NULLS LAST, trans_num);
`,
  },
  {
    version: 4,
    name: 'import registry and table leases',
    // Table imports (lib/imports/registry.ts): every dropped export file, one lease per tenant/table whose fence only
    // grows (the row is never deleted, so a fence is never handed out twice), and what each table last applied. One
    // file per export version: the partial unique index refuses a second one for a version while the first is queued,
    // running, held or applied (a refused, rejected or failed one keeps its record and frees the version for a fixed
    // file).
    sql: `
CREATE TABLE import_file (
  id            text PRIMARY KEY,
  tenant        text NOT NULL,
  table_name    text NOT NULL,
  version       text NOT NULL,
  object_key    text NOT NULL,
  etag          text NOT NULL,
  size          bigint NOT NULL CHECK (size >= 0),
  status        text NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'running', 'held', 'applied', 'failed', 'refused', 'rejected')),
  counts        jsonb,
  error         text,
  bad_rows      jsonb,
  fence         bigint,
  registered_at timestamptz NOT NULL DEFAULT now(),
  started_at    timestamptz,
  finished_at   timestamptz
);
CREATE UNIQUE INDEX import_file_version_idx ON import_file (tenant, table_name, version)
  WHERE status NOT IN ('refused', 'rejected', 'failed');
CREATE INDEX import_file_queue_idx ON import_file (tenant, table_name, status, version);

CREATE TABLE import_lease (
  tenant      text NOT NULL,
  table_name  text NOT NULL,
  holder      text NOT NULL,
  fence       bigint NOT NULL CHECK (fence > 0),
  expires_at  timestamptz NOT NULL,
  PRIMARY KEY (tenant, table_name)
);

CREATE TABLE import_table (
  tenant           text NOT NULL,
  table_name       text NOT NULL,
  applied_version  text NOT NULL,
  applied_file     text NOT NULL REFERENCES import_file (id),
  snapshot_key     text NOT NULL,
  applied_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, table_name)
);
`,
  },
  {
    version: 5,
    name: 'import jobs: published, held for approval, resumable publishing',
    // The import job (lib/imports/job.ts) ends when an export's operations are on the stream: that is `published`
    // (applying them to Postgres is the applier's, and an import's `applied` is read off the target table). A held
    // export waits for an operator (approved_by/at, or rejected); `published_ops` is how many operations, in key
    // order, are on the stream already, so a job that stopped resumes after them.
    sql: `
ALTER TABLE import_file DROP CONSTRAINT import_file_status_check;
UPDATE import_file SET status = 'published' WHERE status = 'applied';
ALTER TABLE import_file ADD CONSTRAINT import_file_status_check
  CHECK (status IN ('queued', 'running', 'held', 'published', 'failed', 'refused', 'rejected'));
ALTER TABLE import_file ADD COLUMN published_ops bigint NOT NULL DEFAULT 0 CHECK (published_ops >= 0);
ALTER TABLE import_file ADD COLUMN decided_by text;
ALTER TABLE import_file ADD COLUMN decided_at timestamptz;
ALTER TABLE import_table RENAME COLUMN applied_version TO published_version;
ALTER TABLE import_table RENAME COLUMN applied_file TO published_file;
ALTER TABLE import_table RENAME COLUMN applied_at TO published_at;
`,
  },
  {
    version: 6,
    name: 'import commits',
    // An import is committed once its operations, snapshot and definition are saved in the lake and its publishing
    // may begin: from then on it is only ever resumed from what it saved, never recomputed, failed or held, so the
    // operations on the stream always belong to the file that ends published.
    sql: `
ALTER TABLE import_file ADD COLUMN committed_at timestamptz;
`,
  },
  {
    version: 7,
    name: 'raw file loads',
    // Raw event files dropped under raw/<type>/ (lib/imports/raw-files.ts): one row per object (key and ETag), claimed
    // by one loader at a time; a claim older than `claimed_at + 15 minutes` is a loader that died and may be taken over.
    sql: `
CREATE TABLE raw_file (
  id            text PRIMARY KEY,
  event_type    text NOT NULL,
  object_key    text NOT NULL,
  etag          text NOT NULL,
  size          bigint NOT NULL CHECK (size >= 0),
  status        text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'loading', 'loaded', 'failed')),
  counts        jsonb,
  first_errors  jsonb,
  error         text,
  registered_at timestamptz NOT NULL DEFAULT now(),
  claimed_at    timestamptz,
  finished_at   timestamptz
);
CREATE INDEX raw_file_status_idx ON raw_file (status, registered_at);
`,
  },
  {
    version: 8,
    name: 'where an import put its operations',
    // Per shard, the highest sequence number the import job's puts got: the import is applied once the applier's
    // progress on each of those shards (sink_progress, consumer import-applier) has reached it.
    sql: `
ALTER TABLE import_file ADD COLUMN put_sequences jsonb;
`,
  },
  {
    version: 9,
    name: 'raw file loads cut off',
    // How many loaders of a raw file stopped before finishing (a claim taken over once stale): a file too large for
    // one run of the import function would otherwise be loaded again from the start, and cut off again, forever.
    sql: `
ALTER TABLE raw_file ADD COLUMN cut_off integer NOT NULL DEFAULT 0;
`,
  },
];

/** The tables of the normalized schema, parents first (the order `tributary db status` lists them in). */
export const OLTP_TABLES = ['city', 'address', 'customer', 'merchant', 'transaction'] as const;
export type OltpTable = (typeof OLTP_TABLES)[number];

/** The database's migration: the highest version applied, 0 when it was never migrated. */
export async function migrationVersion(pool: pg.Pool): Promise<number> {
  // Two statements: a query naming a table that does not exist fails when parsed, whatever branch would run.
  const exists = await pool.query<{ t: string | null }>(`SELECT to_regclass('schema_migrations')::text AS t`);
  if (exists.rows[0]?.t == null) return 0;
  const { rows } = await pool.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
  return Number(rows[0]?.v ?? 0);
}

/** Checksum of a migration's text, recorded beside its version. */
export function migrationChecksum(m: Migration): string {
  return createHash('sha256').update(m.sql).digest('hex').slice(0, 16);
}

export interface MigrateResult {
  /** Versions applied by this call (empty when the database was current). */
  applied: number[];
  /** The database's version afterwards. */
  version: number;
}

// Any fixed number: every process that migrates this database takes the same lock, so two sinks starting at once
// apply each migration once.
const MIGRATION_LOCK = 727_274_001;

/**
 * Brings the database to the newest migration. Takes a transaction-scoped advisory lock so concurrent starters
 * serialize; refuses to run against a database whose recorded migrations differ from these (edited or newer), saying
 * what to do instead.
 */
export async function migrate(pool: pg.Pool, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrateResult> {
  return withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number; checksum: string }>(
      'SELECT version, checksum FROM schema_migrations ORDER BY version',
    );
    const known = new Map(migrations.map((m) => [m.version, m]));
    for (const r of rows) {
      const m = known.get(r.version);
      if (!m) {
        throw new MigrationError(
          `The database is at migration ${r.version}, which this release does not know (it knows up to ${migrations.at(-1)?.version ?? 0}); run a newer tributary against it.`,
        );
      }
      if (migrationChecksum(m) !== r.checksum) {
        throw new MigrationError(
          `Migration ${m.version} (${m.name}) differs from the one applied to this database; restore it and add the change as a new migration.`,
        );
      }
    }
    const done = new Set(rows.map((r) => r.version));
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        migrationChecksum(m),
      ]);
      applied.push(m.version);
    }
    return { applied, version: Math.max(0, ...rows.map((r) => r.version), ...applied) };
  });
}
