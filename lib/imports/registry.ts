import { createHash } from 'node:crypto';
import type pg from 'pg';
import { withTransaction } from '../oltp/db.ts';
import { compareSeq } from '../stream/records.ts';
import { type BadRow, ExportKeyError, ImportNotFoundError, ImportStateError } from './errors.ts';

/*
 * The import registry, in the operational Postgres (migration 4): every dropped export file with its status, counts,
 * timings and error; one lease per tenant/table, so one import of a table runs at a time; and what each table last
 * applied. Leases expire (a crashed job never blocks a table for good) and carry a fencing token that only grows: every
 * registry write a job makes checks, in the same statement, that its lease is still the current one, so a job that
 * lost its lease (stalled past expiry, then woke up) changes nothing. Times are the database's clock, the one clock
 * every instance shares.
 */

/** Where exports are dropped in the imports bucket. */
export const EXPORTS_PREFIX = 'exports/';

/**
 * `published`: the export's operations are all on the stream and its snapshot is the table's base for the next delta
 * (the job's end; applying them to Postgres is the applier's). `held`: the delete guard stopped it for an operator.
 */
export type ImportStatus = 'queued' | 'running' | 'held' | 'published' | 'failed' | 'refused' | 'rejected';

export interface ImportCounts {
  insert: number;
  update: number;
  delete: number;
  unchanged: number;
  rows: number;
  /** The published version the delta was computed against ('' for a table's first export). */
  base?: string;
}

export interface ImportFile {
  id: string;
  tenant: string;
  table: string;
  version: string;
  key: string;
  etag: string;
  size: number;
  status: ImportStatus;
  counts?: ImportCounts;
  error?: string;
  badRows?: BadRow[];
  /** The fencing token of the job that last ran it. */
  fence?: number;
  /** Operations on the stream already, in key order (a resumed job sends the rest). */
  publishedOps: number;
  /** Per shard, the highest sequence number its puts got (where the applier must reach for it to be applied). */
  putSequences?: Record<string, string>;
  /**
   * When its operations, snapshot and definition were saved in the lake and publishing began: from then on the file
   * is only ever resumed from those, never recomputed, failed, held or rejected.
   */
  committedAt?: string;
  /** Who approved or rejected it when it was held, and when. */
  decidedBy?: string;
  decidedAt?: string;
  registeredAt: string;
  startedAt?: string;
  finishedAt?: string;
}

/** One tenant/table as the console shows it (see {@link ImportRegistry.tableStates}). */
export interface TableState {
  tenant: string;
  table: string;
  /** The export its next delta is computed against. */
  published?: { version: string; file: string; at: string };
  /** The last job to take its lease; `live` while that lease has not expired (a job holds the table). */
  lease?: { holder: string; fence: number; expiresAt: string; live: boolean };
  /** Files per status, all of them. */
  statuses: Partial<Record<ImportStatus, number>>;
  /** The newest files by version, newest first. */
  files: ImportFile[];
}

/** A job's hold on one tenant/table: valid while it is the lease's current holder and fence and not expired. */
export interface Lease {
  tenant: string;
  table: string;
  holder: string;
  fence: number;
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const TABLE = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * The parts of an export's key: `exports/<tenant>/<table>/<version>/<file>`. Tenants and versions are letters,
 * digits, `.`, `_` and `-` (versions sort as text); a table is a defined table's name.
 *
 * @throws ExportKeyError saying where the file belongs.
 */
export function parseExportKey(key: string): { tenant: string; table: string; version: string; file: string } {
  const where = `Drop exports at ${EXPORTS_PREFIX}<tenant>/<table>/<version>/<file>.csv.gz`;
  if (!key.startsWith(EXPORTS_PREFIX))
    throw new ExportKeyError(`${JSON.stringify(key)} is not under ${EXPORTS_PREFIX}. ${where}.`);
  const parts = key.slice(EXPORTS_PREFIX.length).split('/');
  if (parts.length !== 4 || parts.some((p) => p === ''))
    throw new ExportKeyError(
      `${JSON.stringify(key)} is not ${EXPORTS_PREFIX}<tenant>/<table>/<version>/<file>. ${where}.`,
    );
  const [tenant, table, version, file] = parts as [string, string, string, string];
  if (!SEGMENT.test(tenant))
    throw new ExportKeyError(
      `Tenant ${JSON.stringify(tenant)}: use letters, digits, '.', '_' and '-' (at most 128). ${where}.`,
    );
  if (!TABLE.test(table))
    throw new ExportKeyError(
      `Table ${JSON.stringify(table)}: a table name is lower-case letters, digits and '_'. ${where}.`,
    );
  if (!SEGMENT.test(version))
    throw new ExportKeyError(
      `Version ${JSON.stringify(version)}: use letters, digits, '.', '_' and '-' (versions sort as text, e.g. 20201230_V0001). ${where}.`,
    );
  return { tenant, table, version, file };
}

/** The id of a dropped file: the same object delivered twice (S3 events are at least once) registers once. */
export function importFileId(key: string, etag: string): string {
  return createHash('sha256').update(`${key}\0${etag}`).digest('hex').slice(0, 24);
}

interface Row {
  id: string;
  tenant: string;
  table_name: string;
  version: string;
  object_key: string;
  etag: string;
  size: string;
  status: ImportStatus;
  counts: ImportCounts | null;
  error: string | null;
  bad_rows: BadRow[] | null;
  fence: string | null;
  published_ops: string;
  put_sequences: Record<string, string> | null;
  committed_at: Date | null;
  decided_by: string | null;
  decided_at: Date | null;
  registered_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const fromRow = (r: Row): ImportFile => ({
  id: r.id,
  tenant: r.tenant,
  table: r.table_name,
  version: r.version,
  key: r.object_key,
  etag: r.etag,
  size: Number(r.size),
  status: r.status,
  ...(r.counts ? { counts: r.counts } : {}),
  ...(r.error ? { error: r.error } : {}),
  ...(r.bad_rows ? { badRows: r.bad_rows } : {}),
  ...(r.fence !== null ? { fence: Number(r.fence) } : {}),
  publishedOps: Number(r.published_ops),
  ...(r.put_sequences ? { putSequences: r.put_sequences } : {}),
  ...(r.committed_at ? { committedAt: r.committed_at.toISOString() } : {}),
  ...(r.decided_by ? { decidedBy: r.decided_by } : {}),
  ...(r.decided_at ? { decidedAt: r.decided_at.toISOString() } : {}),
  registeredAt: r.registered_at.toISOString(),
  ...(r.started_at ? { startedAt: r.started_at.toISOString() } : {}),
  ...(r.finished_at ? { finishedAt: r.finished_at.toISOString() } : {}),
});

/**
 * The lease is still this job's, read under FOR SHARE: a fenced write takes the lease row's share lock first, so
 * `acquire` (which updates that row) waits until the write commits, and a takeover can never slip in between the
 * check and the write. `clock_timestamp()`, not `now()`: the moment of the check, not of the transaction's start.
 */
const LEASE_HELD = `SELECT 1 FROM import_lease
   WHERE tenant = $1 AND table_name = $2 AND holder = $3 AND fence = $4 AND expires_at > clock_timestamp()
   FOR SHARE`;
/** Statuses a file never leaves. */
const FINAL = "('published', 'failed', 'refused', 'rejected')";
const leaseArgs = (l: Lease) => [l.tenant, l.table, l.holder, l.fence];

/** The registry of dropped exports and the leases of their tables (see the module comment). */
export class ImportRegistry {
  constructor(readonly pool: pg.Pool) {}

  /** Runs `write` in one transaction that first checks (and share-locks) the lease; false when it is not current. */
  async #fenced(lease: Lease, write: (client: pg.PoolClient) => Promise<boolean>): Promise<boolean> {
    return withTransaction(this.pool, async (client) => {
      if (!(await client.query(LEASE_HELD, leaseArgs(lease))).rowCount) return false;
      return write(client);
    });
  }

  /**
   * Registers a dropped file. Idempotent: the same key and ETag is one file (S3 delivers events at least once) — but a
   * file that failed or was refused before it published anything is queued again when it is dropped again (a fixed
   * definition, a fixed later version), since "drop it again" is what its error says. An object written over one that
   * has not started publishing replaces it (the old file fails, saying so); a second file for a version otherwise is
   * registered as refused, saying so: an export version is one file.
   */
  async register(o: { key: string; etag: string; size: number }): Promise<ImportFile> {
    const { tenant, table, version } = parseExportKey(o.key);
    const id = importFileId(o.key, o.etag);
    const insert = (status: ImportStatus, error: string | null) =>
      this.pool.query<Row>(
        `INSERT INTO import_file (id, tenant, table_name, version, object_key, etag, size, status, error, finished_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $8 = 'refused' THEN now() END)
         ON CONFLICT (id) DO NOTHING RETURNING *`,
        [id, tenant, table, version, o.key, o.etag, o.size, status, error],
      );
    const live = (err: unknown) => (err as { code?: string }).code === '23505';
    try {
      const inserted = await insert('queued', null);
      if (!inserted.rowCount) await this.#requeue(id);
      return this.get(id);
    } catch (err) {
      if (!live(err)) throw err;
    }
    // Another file holds the version. The same key written again before its import began: this object replaces it.
    const replaced = await this.pool.query(
      `UPDATE import_file
          SET status = 'failed', finished_at = now(),
              error = 'Replaced by a newer object at the same key (ETag ' || $5 || ') before it was imported; that object is imported instead.'
        WHERE tenant = $1 AND table_name = $2 AND version = $3 AND object_key = $4 AND etag <> $5
          AND status IN ('queued', 'held') AND committed_at IS NULL`,
      [tenant, table, version, o.key, o.etag],
    );
    if (replaced.rowCount) {
      try {
        await insert('queued', null);
        return this.get(id);
      } catch (err) {
        if (!live(err)) throw err;
      }
    }
    const other = await this.pool.query<{ object_key: string }>(
      `SELECT object_key FROM import_file WHERE tenant = $1 AND table_name = $2 AND version = $3 AND status NOT IN ('refused', 'rejected', 'failed')`,
      [tenant, table, version],
    );
    await insert(
      'refused',
      `Version ${version} of ${tenant}/${table} already has a file (${other.rows[0]?.object_key ?? 'another'}); an export version is one file. Drop this one under a new version.`,
    );
    return this.get(id);
  }

  /** A failed or refused file that published nothing, queued again (unless its version has a live file meanwhile). */
  async #requeue(id: string): Promise<void> {
    try {
      await this.pool.query(
        `UPDATE import_file
            SET status = 'queued', error = NULL, bad_rows = NULL, counts = NULL, finished_at = NULL, published_ops = 0
          WHERE id = $1 AND status IN ('failed', 'refused') AND committed_at IS NULL`,
        [id],
      );
    } catch (err) {
      if ((err as { code?: string }).code !== '23505') throw err;
    }
  }

  /** Of these objects under exports/, the ones no file was registered for (the sweep registers them). */
  async unregistered<T extends { key: string; etag: string }>(objects: T[]): Promise<T[]> {
    if (!objects.length) return [];
    const { rows } = await this.pool.query<{ object_key: string; etag: string }>(
      'SELECT object_key, etag FROM import_file WHERE object_key = ANY($1::text[])',
      [objects.map((o) => o.key)],
    );
    const known = new Set(rows.map((r) => `${r.object_key}\0${r.etag}`));
    return objects.filter((o) => !known.has(`${o.key}\0${o.etag}`));
  }

  /** @throws ImportNotFoundError */
  async get(id: string): Promise<ImportFile> {
    const { rows } = await this.pool.query<Row>('SELECT * FROM import_file WHERE id = $1', [id]);
    if (!rows[0]) throw new ImportNotFoundError(id);
    return fromRow(rows[0]);
  }

  /** The newest registered files first, optionally of one tenant/table. */
  async list(filter: { tenant?: string; table?: string; limit?: number } = {}): Promise<ImportFile[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT * FROM import_file
        WHERE ($1::text IS NULL OR tenant = $1) AND ($2::text IS NULL OR table_name = $2)
        ORDER BY registered_at DESC, id LIMIT $3`,
      [filter.tenant ?? null, filter.table ?? null, Math.max(1, Math.min(1000, filter.limit ?? 100))],
    );
    return rows.map(fromRow);
  }

  /**
   * Takes the table's lease for `ttlMs`, or returns undefined while another holder's lease is unexpired. Taking it
   * (new, expired, or already this holder's) raises the fence in the same statement: two callers at once cannot both
   * get it, and every holder's fence is higher than the last one's. `holder` names one job run (a retried step of
   * the same run may take it again); two runs must never share one.
   */
  async acquire(tenant: string, table: string, holder: string, ttlMs: number): Promise<Lease | undefined> {
    const { rows } = await this.pool.query<{ fence: string }>(
      `INSERT INTO import_lease (tenant, table_name, holder, fence, expires_at)
       VALUES ($1, $2, $3, 1, now() + $4::float8 * interval '1 millisecond')
       ON CONFLICT (tenant, table_name) DO UPDATE
         SET holder = EXCLUDED.holder, fence = import_lease.fence + 1, expires_at = EXCLUDED.expires_at
       WHERE import_lease.expires_at <= clock_timestamp() OR import_lease.holder = EXCLUDED.holder
       RETURNING fence`,
      [tenant, table, holder, Math.max(1, Math.floor(ttlMs))],
    );
    return rows[0] ? { tenant, table, holder, fence: Number(rows[0].fence) } : undefined;
  }

  /** Extends the lease while it is still this job's; false once it expired or another took it (stop then). */
  async renew(lease: Lease, ttlMs: number): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE import_lease SET expires_at = now() + $5::float8 * interval '1 millisecond'
        WHERE tenant = $1 AND table_name = $2 AND holder = $3 AND fence = $4 AND expires_at > clock_timestamp()`,
      [...leaseArgs(lease), Math.max(1, Math.floor(ttlMs))],
    );
    return r.rowCount === 1;
  }

  /** Gives the lease up at once (its fence stays, so the next holder's is higher). */
  async release(lease: Lease): Promise<void> {
    await this.pool.query(
      `UPDATE import_lease SET expires_at = now() WHERE tenant = $1 AND table_name = $2 AND holder = $3 AND fence = $4`,
      leaseArgs(lease),
    );
  }

  /**
   * Tables with work left: a queued file (new, or approved), or one left running by a job that stopped. A table whose
   * lease is held is listed too; its run finds it busy and leaves it to the holder.
   */
  async pendingTables(): Promise<{ tenant: string; table: string }[]> {
    const { rows } = await this.pool.query<{ tenant: string; table_name: string }>(
      `SELECT DISTINCT tenant, table_name FROM import_file WHERE status IN ('queued', 'running') ORDER BY 1, 2`,
    );
    return rows.map((r) => ({ tenant: r.tenant, table: r.table_name }));
  }

  /** What the table last published (the base of its next delta), if anything. */
  async published(
    tenant: string,
    table: string,
  ): Promise<{ version: string; file: string; snapshotKey: string } | undefined> {
    const { rows } = await this.pool.query<{ published_version: string; published_file: string; snapshot_key: string }>(
      'SELECT published_version, published_file, snapshot_key FROM import_table WHERE tenant = $1 AND table_name = $2',
      [tenant, table],
    );
    const r = rows[0];
    return r ? { version: r.published_version, file: r.published_file, snapshotKey: r.snapshot_key } : undefined;
  }

  /**
   * The table's next file to import, in version order (as text, byte by byte), under the lease: queued files whose
   * version is not after the last published one are refused first, saying why; a file already running under an older
   * fence (its job died) comes back first. Nothing while a file of the table is held: later versions wait for the
   * operator's decision, since their deltas depend on it.
   */
  async next(lease: Lease): Promise<ImportFile | undefined> {
    const applied = await this.published(lease.tenant, lease.table);
    if (applied) {
      await this.#fenced(lease, async (client) => {
        await client.query(
          `UPDATE import_file
              SET status = 'refused', finished_at = now(),
                  error = 'Version ' || version || ' is not after the last published version ' || $3 || ' of ' || tenant || '/' || table_name || '; exports are applied in version order (as text), so drop it under a later version.'
            WHERE tenant = $1 AND table_name = $2 AND status = 'queued' AND version COLLATE "C" <= $3 COLLATE "C"`,
          [lease.tenant, lease.table, applied.version],
        );
        return true;
      });
    }
    const { rows } = await this.pool.query<Row>(
      `SELECT * FROM import_file
        WHERE tenant = $1 AND table_name = $2 AND (status = 'queued' OR (status = 'running' AND fence < $3))
          AND NOT EXISTS (SELECT 1 FROM import_file h WHERE h.tenant = $1 AND h.table_name = $2 AND h.status = 'held')
        ORDER BY status = 'running' DESC, version COLLATE "C", registered_at
        LIMIT 1`,
      [lease.tenant, lease.table, lease.fence],
    );
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  /**
   * Moves a file to a new status with its counts, error or bad rows, only while the lease is this job's and the file
   * is not final (applied, failed, refused, rejected) nor taken by a later fence; false (and nothing changed)
   * otherwise, so a job that lost its lease stops without touching what the new holder does.
   */
  async transition(
    lease: Lease,
    id: string,
    status: ImportStatus,
    fields: { counts?: ImportCounts; error?: string; badRows?: BadRow[] } = {},
  ): Promise<boolean> {
    return this.#fenced(lease, async (client) => {
      const r = await client.query(
        `UPDATE import_file
            SET status = $5, fence = $3,
                counts = coalesce($6::jsonb, counts), error = $7, bad_rows = coalesce($8::jsonb, bad_rows),
                decided_by = CASE WHEN $5 = 'held' THEN NULL ELSE decided_by END,
                decided_at = CASE WHEN $5 = 'held' THEN NULL ELSE decided_at END,
                started_at = CASE WHEN $5 = 'running' THEN coalesce(started_at, now()) ELSE started_at END,
                finished_at = CASE WHEN $5 IN ${FINAL} THEN now() END
          WHERE id = $4 AND tenant = $1 AND table_name = $2 AND status NOT IN ${FINAL} AND coalesce(fence, 0) <= $3
            AND (committed_at IS NULL OR $5 = 'running')`,
        [
          lease.tenant,
          lease.table,
          lease.fence,
          id,
          status,
          fields.counts ? JSON.stringify(fields.counts) : null,
          fields.error ?? null,
          fields.badRows ? JSON.stringify(fields.badRows) : null,
        ],
      );
      return r.rowCount === 1;
    });
  }

  /**
   * Commits a running file to being published, with its counts: its operations, snapshot and definition are saved in
   * the lake. False (nothing changed) when the lease was lost or it is not running.
   */
  async commit(lease: Lease, id: string, counts: ImportCounts): Promise<boolean> {
    return this.#fenced(lease, async (client) => {
      const r = await client.query(
        `UPDATE import_file
            SET counts = CASE WHEN committed_at IS NULL THEN $5::jsonb ELSE counts END,
                committed_at = coalesce(committed_at, now())
          WHERE id = $4 AND tenant = $1 AND table_name = $2 AND status = 'running' AND fence = $3`,
        [lease.tenant, lease.table, lease.fence, id, JSON.stringify(counts)],
      );
      return r.rowCount === 1;
    });
  }

  /** Records that the first `n` operations (in key order) are on the stream; false when the lease was lost. */
  async progress(lease: Lease, id: string, n: number, sequences: Record<string, string> = {}): Promise<boolean> {
    return this.#fenced(lease, async (client) => {
      // The highest sequence number per shard across every run's puts (the row is this job's: read, merge, write).
      const { rows } = await client.query<{ put_sequences: Record<string, string> | null }>(
        'SELECT put_sequences FROM import_file WHERE id = $1 FOR UPDATE',
        [id],
      );
      const merged = { ...(rows[0]?.put_sequences ?? {}) };
      for (const [shard, seq] of Object.entries(sequences))
        if (merged[shard] === undefined || compareSeq(seq, merged[shard]!) > 0) merged[shard] = seq;
      const r = await client.query(
        `UPDATE import_file SET published_ops = greatest(published_ops, $5), put_sequences = $6::jsonb
          WHERE id = $4 AND tenant = $1 AND table_name = $2 AND status = 'running' AND fence = $3`,
        [lease.tenant, lease.table, lease.fence, id, n, JSON.stringify(merged)],
      );
      return r.rowCount === 1;
    });
  }

  /**
   * Whether the import applier has reached every shard position the file's operations were put at (its progress in
   * `sink_progress`, consumer `import-applier`): then every operation is applied, or quarantined if the table refused
   * it. A file that put nothing is applied as soon as it is published.
   */
  async appliedOnStream(id: string): Promise<boolean> {
    return (await this.appliedOf([await this.get(id)])).has(id);
  }

  /**
   * Of these files, the ids of those applied (see {@link appliedOnStream}), reading the applier's progress once.
   */
  async appliedOf(files: readonly ImportFile[]): Promise<Set<string>> {
    const published = files.filter((f) => f.status === 'published');
    const shards = [...new Set(published.flatMap((f) => Object.keys(f.putSequences ?? {})))];
    const at = new Map<string, string>();
    if (shards.length) {
      const progress = await this.pool.query<{ shard_id: string; sequence_number: string }>(
        `SELECT shard_id, sequence_number FROM sink_progress WHERE consumer = 'import-applier' AND shard_id = ANY($1::text[])`,
        [shards],
      );
      for (const r of progress.rows) at.set(r.shard_id, r.sequence_number);
    }
    return new Set(
      published
        .filter((f) =>
          Object.entries(f.putSequences ?? {}).every(
            ([shard, seq]) => at.has(shard) && compareSeq(at.get(shard)!, seq) >= 0,
          ),
        )
        .map((f) => f.id),
    );
  }

  /**
   * Every tenant/table files were dropped for, with what it last published, who holds its lease, how many files it
   * has per status, and its newest `perTable` files by version (newest first).
   */
  async tableStates(perTable = 20): Promise<TableState[]> {
    const [files, published, leases] = await Promise.all([
      this.pool.query<Row & { statuses: Record<string, number> }>(
        // Versions compare as text byte by byte (COLLATE "C"), as the job takes them, whatever the database's locale.
        `WITH counts AS (
           SELECT tenant, table_name, jsonb_object_agg(status, n) AS statuses
             FROM (SELECT tenant, table_name, status, count(*)::int AS n FROM import_file GROUP BY 1, 2, 3) c
            GROUP BY 1, 2
         ), ranked AS (
           SELECT f.*, row_number() OVER (
                    PARTITION BY tenant, table_name ORDER BY version COLLATE "C" DESC, registered_at DESC, id) AS rn
             FROM import_file f
         )
         SELECT r.*, c.statuses FROM ranked r JOIN counts c USING (tenant, table_name)
          WHERE r.rn <= $1
          ORDER BY r.tenant, r.table_name, r.version COLLATE "C" DESC, r.registered_at DESC, r.id`,
        [Math.max(1, Math.min(200, Math.floor(perTable)))],
      ),
      this.pool.query<{
        tenant: string;
        table_name: string;
        published_version: string;
        published_file: string;
        published_at: Date;
      }>('SELECT tenant, table_name, published_version, published_file, published_at FROM import_table'),
      this.pool.query<{
        tenant: string;
        table_name: string;
        holder: string;
        fence: string;
        expires_at: Date;
        live: boolean;
      }>(
        'SELECT tenant, table_name, holder, fence, expires_at, expires_at > clock_timestamp() AS live FROM import_lease',
      ),
    ]);
    const key = (tenant: string, table: string) => `${tenant}\0${table}`;
    const pub = new Map(published.rows.map((r) => [key(r.tenant, r.table_name), r]));
    const lease = new Map(leases.rows.map((r) => [key(r.tenant, r.table_name), r]));
    const states = new Map<string, TableState>();
    for (const r of files.rows) {
      const k = key(r.tenant, r.table_name);
      let state = states.get(k);
      if (!state) {
        const p = pub.get(k);
        const l = lease.get(k);
        state = {
          tenant: r.tenant,
          table: r.table_name,
          ...(p
            ? { published: { version: p.published_version, file: p.published_file, at: p.published_at.toISOString() } }
            : {}),
          ...(l
            ? {
                lease: {
                  holder: l.holder,
                  fence: Number(l.fence),
                  expiresAt: l.expires_at.toISOString(),
                  live: l.live,
                },
              }
            : {}),
          statuses: r.statuses,
          files: [],
        };
        states.set(k, state);
      }
      state.files.push(fromRow(r));
    }
    return [...states.values()];
  }

  /**
   * Marks a running file published and makes it the table's base for the next delta, with its snapshot, in one
   * transaction and only under the lease; false when the lease was lost or the file is not running (neither changed).
   */
  async markPublished(lease: Lease, id: string, snapshotKey: string, counts: ImportCounts): Promise<boolean> {
    return this.#fenced(lease, async (client) => {
      const done = await client.query<{ version: string }>(
        `UPDATE import_file SET status = 'published', fence = $3, counts = $5::jsonb, error = NULL, finished_at = now()
          WHERE id = $4 AND tenant = $1 AND table_name = $2 AND status = 'running' AND fence = $3
          RETURNING version`,
        [lease.tenant, lease.table, lease.fence, id, JSON.stringify(counts)],
      );
      const version = done.rows[0]?.version;
      if (version === undefined) return false;
      await client.query(
        `INSERT INTO import_table (tenant, table_name, published_version, published_file, snapshot_key)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant, table_name) DO UPDATE
           SET published_version = EXCLUDED.published_version, published_file = EXCLUDED.published_file,
               snapshot_key = EXCLUDED.snapshot_key, published_at = now()`,
        [lease.tenant, lease.table, version, id, snapshotKey],
      );
      return true;
    });
  }

  /**
   * An operator's decision on a held import: approved, it is queued again and its job publishes it without the delete
   * guard; rejected, it is final and the table's later exports go on from the last published one.
   *
   * @throws ImportNotFoundError; ImportStateError (409) when the import is not held.
   */
  async decide(id: string, decision: 'approve' | 'reject', by: string): Promise<ImportFile> {
    const { rows } = await this.pool.query<Row>(
      `UPDATE import_file
          SET status = CASE WHEN $2 = 'approve' THEN 'queued' ELSE 'rejected' END,
              decided_by = $3, decided_at = now(),
              error = CASE WHEN $2 = 'approve' THEN NULL ELSE 'Rejected by ' || $3 || ' while held: ' || coalesce(error, '') END,
              finished_at = CASE WHEN $2 = 'approve' THEN NULL ELSE now() END
        WHERE id = $1 AND status = 'held'
        RETURNING *`,
      [id, decision, by],
    );
    if (rows[0]) return fromRow(rows[0]);
    const file = await this.get(id);
    throw new ImportStateError(
      `Import ${id} is ${file.status}, not held: only a held import can be approved or rejected (\`tributary import show ${id}\`).`,
    );
  }
}
