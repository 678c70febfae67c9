import type pg from 'pg';
import { quoteIdent as ident } from '../catalog/types.ts';
import { withTransaction } from '../oltp/db.ts';
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

export interface ApplyResult {
  applied: number;
  /** Operations whose key already holds this version or a later one (a replay, or an older export arriving late). */
  skipped: number;
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
    // One creator at a time: two appliers starting together must not race on CREATE.
    await client.query("SELECT pg_advisory_xact_lock(hashtext('tributary.imports.' || $1))", [def.name]);
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
    const want = def.columns.map((c) => ({ column_name: c.name, type: postgresType(c).replace(/, /g, ',') }));
    const same =
      have.length === want.length &&
      have.every((h, i) => h.column_name === want[i]!.column_name && h.type === want[i]!.type);
    if (!same)
      throw new TableChangedError(
        `${importTableName(def)} has columns ${have.map((h) => `${h.column_name} ${h.type}`).join(', ')}, but tables/${def.name}.json defines ${want.map((w) => `${w.column_name} ${w.type}`).join(', ')}. Changing an imported table's columns is not supported: restore the definition, or import under a new table name.`,
      );
  });
}

/** The value of a column as text for its typed array parameter (NULL stays NULL). */
function text(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/**
 * Applies operations to the table in one statement per chunk, in one database transaction: per key the latest
 * version among them wins, and it changes the row only when that version is later than the row's.
 */
export async function applyOperations(pool: pg.Pool, def: TableDef, ops: ImportOperation[]): Promise<ApplyResult> {
  if (!ops.length) return { applied: 0, skipped: 0 };
  const columns = def.columns.map((c) => c.name);
  const params = [
    ops.map((o) => o.tenant),
    ops.map((o) => o.version),
    ops.map((o) => o.op === 'delete'),
    ...columns.map((c) => ops.map((o) => (o.op === 'delete' && !def.primaryKey.includes(c) ? null : text(o.row[c])))),
  ];
  const typed = def.columns.map((_, i) => `$${i + 4}::text[]`);
  const names = ['t', 'v', 'd', ...columns.map((_, i) => `c${i}`)];
  const key = ['tributary_tenant', ...def.primaryKey];
  const keyIn = (alias: string) => [`${alias}.t`, ...def.primaryKey.map((k) => `${alias}.c${columns.indexOf(k)}`)];
  const update = [
    ...columns.filter((c) => !def.primaryKey.includes(c)).map((c) => `${ident(c)} = EXCLUDED.${ident(c)}`),
    'tributary_version = EXCLUDED.tributary_version',
    'tributary_deleted = EXCLUDED.tributary_deleted',
    'tributary_applied_at = now()',
  ];
  const sql = `
    WITH ops AS (
      SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[], ${typed.join(', ')}) AS o(${names.join(', ')})
    ),
    latest AS (
      SELECT DISTINCT ON (${keyIn('o').join(', ')}) * FROM ops o
       ORDER BY ${keyIn('o').join(', ')}, o.v COLLATE "C" DESC
    )
    INSERT INTO ${importTableName(def)} (${[...key, ...columns.filter((c) => !def.primaryKey.includes(c)), 'tributary_version', 'tributary_deleted'].map(ident).join(', ')})
    SELECT l.t, ${[...def.primaryKey, ...columns.filter((c) => !def.primaryKey.includes(c))]
      .map((c) => {
        const col = def.columns.find((x) => x.name === c)!;
        return `l.c${columns.indexOf(c)}::${postgresType(col)}`;
      })
      .join(', ')}, l.v, l.d
      FROM latest l
    ON CONFLICT (${key.map(ident).join(', ')}) DO UPDATE SET ${update.join(', ')}
     WHERE ${importTableName(def)}.tributary_version COLLATE "C" < EXCLUDED.tributary_version COLLATE "C"`;
  return withTransaction(pool, async (client) => {
    const r = await client.query(sql, params);
    return { applied: r.rowCount ?? 0, skipped: ops.length - (r.rowCount ?? 0) };
  });
}
