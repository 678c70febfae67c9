import type pg from 'pg';
import { quoteIdent as ident } from '../catalog/types.ts';
import { failureKind, withTransaction } from '../oltp/db.ts';
import { TableChangedError } from './errors.ts';
import { postgresType, type TableDef } from './tables.ts';

/*
 * Applies import operations to a Postgres table per imported table (schema `imports`, created from the definition):
 * the definition's columns, plus the tenant, the export version that last set the row and whether that version
 * deleted it. Order-safe and idempotent: an operation changes a row only when its version is later (as text) than the
 * row's, and a delete leaves a tombstone with its version, so an older insert arriving late cannot bring the row back.
 * Whatever order operations arrive in, and however often, each key ends as its latest version says — the same table.
 */

export const IMPORTS_SCHEMA = 'imports';

/** One operation of an export's delta, as it travels on the stream. */
export interface ImportOperation {
  tenant: string;
  version: string;
  op: 'insert' | 'update' | 'delete';
  /** Every column of the new row (for a delete, the key columns; others absent or null). */
  row: Record<string, unknown>;
}

const META = ['tributary_tenant', 'tributary_version', 'tributary_deleted', 'tributary_applied_at'] as const;

/** `imports."<table>"`. */
export const importTableName = (def: TableDef): string => `${ident(IMPORTS_SCHEMA)}.${ident(def.name)}`;

/**
 * Creates the table of an imported table when it does not exist, and refuses one whose columns differ from the
 * definition (a changed definition is not applied over old rows).
 *
 * @throws TableChangedError naming both column lists.
 */
export async function ensureImportTable(pool: pg.Pool, def: TableDef): Promise<void> {
  await withTransaction(pool, async (client) => {
    // One creator at a time, for every table (they share the schema): two appliers starting together must not race
    // on CREATE.
    await client.query("SELECT pg_advisory_xact_lock(hashtext('tributary.imports'))");
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident(IMPORTS_SCHEMA)}`);
    const cols = def.columns.map((c) => `${ident(c.name)} ${postgresType(c)}`);
    const key = ['tributary_tenant', ...def.primaryKey].map(ident).join(', ');
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${importTableName(def)} (
         tributary_tenant text NOT NULL,
         ${cols.join(',\n         ')},
         tributary_version text NOT NULL,
         tributary_deleted boolean NOT NULL DEFAULT false,
         tributary_applied_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (${key})
       )`,
    );
    const { rows } = await client.query<{ column_name: string; type: string }>(
      `SELECT a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type
         FROM pg_attribute a
        WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum`,
      [importTableName(def)],
    );
    const have = rows.filter((r) => !(META as readonly string[]).includes(r.column_name));
    // As Postgres spells the types (format_type): `timestamp` is `timestamp without time zone`, no space in numeric.
    const want = def.columns.map((c) => ({
      column_name: c.name,
      type: c.type === 'timestamp' ? 'timestamp without time zone' : postgresType(c).replace(/, /g, ','),
    }));
    const pk = await client.query<{ name: string }>(
      `SELECT a.attname AS name
         FROM pg_index i
         CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE i.indrelid = $1::regclass AND i.indisprimary
        ORDER BY k.n`,
      [importTableName(def)],
    );
    const haveKey = pk.rows.map((r) => r.name);
    const wantKey = ['tributary_tenant', ...def.primaryKey];
    const same =
      have.length === want.length &&
      have.every((h, i) => h.column_name === want[i]!.column_name && h.type === want[i]!.type) &&
      haveKey.join(',') === wantKey.join(',');
    if (!same)
      throw new TableChangedError(
        `${importTableName(def)} has columns ${have.map((h) => `${h.column_name} ${h.type}`).join(', ')} (key ${haveKey.slice(1).join(', ')}), but tables/${def.name}.json defines ${want.map((w) => `${w.column_name} ${w.type}`).join(', ')} (key ${def.primaryKey.join(', ')}). Changing an imported table's columns or key is not supported: restore the definition, or import under a new table name.`,
      );
  });
}

/** The tenant's rows in the target table (not deleted); none while the applier has not created it. */
export async function importRows(pool: pg.Pool, def: TableDef, tenant: string): Promise<number> {
  try {
    const { rows } = await pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${importTableName(def)} WHERE tributary_tenant = $1 AND NOT tributary_deleted`,
      [tenant],
    );
    return Number(rows[0]!.n);
  } catch (err) {
    if ((err as { code?: string }).code === '42P01') return 0;
    throw err;
  }
}

/** The value of a column as text for its typed array parameter (NULL stays NULL); undefined for what has no text. */
function text(v: unknown): string | null | undefined {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : undefined;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : v.toISOString();
  return undefined;
}

/** An operation the table refused (a value not of its column's type, a missing key), with the database's reason. */
export interface RejectedOperation {
  op: ImportOperation;
  error: string;
}

export interface ApplyResult {
  applied: number;
  /**
   * Operations that changed nothing: their key already holds this version or a later one (a replay, an older export
   * arriving late), or a later version of the key was in the same call.
   */
  skipped: number;
  rejected: RejectedOperation[];
}

/**
 * Applies operations to the table: one set-based statement, in one database transaction; per key the latest version
 * among them wins, and it changes the row only when that version is later than the row's. Values are cast to the
 * columns' types before keys are compared, so `1.50` and `1.5` are one numeric key. A chunk the database refuses for
 * its data (SQLSTATE 22, 23) is split until the operations it refuses are alone; those come back as rejected and the
 * rest are applied, so one bad value never blocks the others.
 */
export async function applyOperations(pool: pg.Pool, def: TableDef, ops: ImportOperation[]): Promise<ApplyResult> {
  const result: ApplyResult = { applied: 0, skipped: 0, rejected: [] };
  const valid: ImportOperation[] = [];
  for (const o of ops) {
    const bad = def.columns.find((c) => o.row[c.name] !== undefined && text(o.row[c.name]) === undefined);
    if (bad)
      result.rejected.push({
        op: o,
        error: `${bad.name}: ${JSON.stringify(o.row[bad.name])} is not a ${bad.type} value`,
      });
    else valid.push(o);
  }
  const run = async (chunk: ImportOperation[]): Promise<void> => {
    if (!chunk.length) return;
    try {
      const n = await applyChunk(pool, def, chunk);
      result.applied += n;
      result.skipped += chunk.length - n;
    } catch (err) {
      if (failureKind(err) !== 'rejected') throw err;
      if (chunk.length === 1) {
        result.rejected.push({ op: chunk[0]!, error: (err as Error).message });
        return;
      }
      const half = Math.ceil(chunk.length / 2);
      await run(chunk.slice(0, half));
      await run(chunk.slice(half));
    }
  };
  await run(valid);
  return result;
}

async function applyChunk(pool: pg.Pool, def: TableDef, ops: ImportOperation[]): Promise<number> {
  const columns = def.columns.map((c) => c.name);
  const params = [
    ops.map((o) => o.tenant),
    ops.map((o) => o.version),
    ops.map((o) => o.op === 'delete'),
    ...columns.map((c) =>
      ops.map((o) => (o.op === 'delete' && !def.primaryKey.includes(c) ? null : (text(o.row[c]) ?? null))),
    ),
  ];
  const arrays = def.columns.map((_, i) => `$${i + 4}::text[]`);
  const raw = ['t', 'v', 'd', ...columns.map((_, i) => `c${i}`)];
  const key = ['tributary_tenant', ...def.primaryKey];
  const keyIn = (alias: string) => [`${alias}.t`, ...def.primaryKey.map((k) => `${alias}.c${columns.indexOf(k)}`)];
  const rest = columns.filter((c) => !def.primaryKey.includes(c));
  const update = [
    ...rest.map((c) => `${ident(c)} = EXCLUDED.${ident(c)}`),
    'tributary_version = EXCLUDED.tributary_version',
    'tributary_deleted = EXCLUDED.tributary_deleted',
    'tributary_applied_at = now()',
  ];
  const sql = `
    WITH ops AS (
      SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[], ${arrays.join(', ')}) AS o(${raw.join(', ')})
    ),
    typed AS (
      SELECT t, v, d, ${def.columns.map((c, i) => `c${i}::${postgresType(c)} AS c${i}`).join(', ')} FROM ops
    ),
    latest AS (
      SELECT DISTINCT ON (${keyIn('o').join(', ')}) * FROM typed o
       ORDER BY ${keyIn('o').join(', ')}, o.v COLLATE "C" DESC
    )
    INSERT INTO ${importTableName(def)} (${[...key, ...rest, 'tributary_version', 'tributary_deleted'].map(ident).join(', ')})
    SELECT l.t, ${[...def.primaryKey, ...rest].map((c) => `l.c${columns.indexOf(c)}`).join(', ')}, l.v, l.d
      FROM latest l
    ON CONFLICT (${key.map(ident).join(', ')}) DO UPDATE SET ${update.join(', ')}
     WHERE ${importTableName(def)}.tributary_version COLLATE "C" < EXCLUDED.tributary_version COLLATE "C"`;
  return withTransaction(pool, async (client) => (await client.query(sql, params)).rowCount ?? 0);
}
