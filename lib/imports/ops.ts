import { createHash } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteIdent as ident, quoteString as literal } from '../catalog/types.ts';
import { type Envelope, EnvelopeError } from '../envelope.ts';
import { deterministicId } from '../ids.ts';
import type { ImportOperation } from './apply.ts';
import type { TableDef } from './tables.ts';

/*
 * An import's operations as they travel on the stream: one envelope per operation, of the table's changes type
 * (`import.<table>`), `source: import`. Its `data` is flat — the operation, tenant and version beside the row's
 * columns, named like the Postgres table's meta columns — so the lake can hold it as a table of typed columns. Built by
 * DuckDB from the delta's Parquet file (the JSON text of every row in one pass), so values keep their exact form: an
 * integer stays its digits, a decimal is its text (no double rounding), a non-finite double is text, dates and
 * timestamps are ISO text.
 */

/**
 * The envelope types of operations start with this: `import.<table>`. A dot, which no event type's name has (the
 * registry allows `[a-z0-9_]`), so no event type is ever taken for a table's operations, and the applier's mapping lets
 * them through with one prefix filter.
 */
export const CHANGES_PREFIX = 'import.';

/** The envelope type of a table's operations: `import.<table>`. */
export const changesType = (table: string): string => `${CHANGES_PREFIX}${table}`;

/** The table whose operations an envelope type carries (`import.<table>`), if it has that form. */
export const tableOfChangesType = (type: string): string | undefined =>
  type.startsWith(CHANGES_PREFIX) && type.length > CHANGES_PREFIX.length
    ? type.slice(CHANGES_PREFIX.length)
    : undefined;

/** The envelope's schema version for operations (the data's shape, not the table's). */
export const OPS_ENVELOPE_VERSION = 1;

export const OP_FIELDS = { op: 'tributary_op', tenant: 'tributary_tenant', version: 'tributary_version' } as const;

/** Kinesis partition keys are at most 256 characters. */
const MAX_PARTITION_KEY = 256;

/**
 * The partition key of a row's operations: tenant, table and key, so every operation of one key lands on one shard, in
 * order. Hashed past Kinesis's 256 characters.
 */
export function opPartitionKey(tenant: string, table: string, keyJson: string): string {
  const raw = `${tenant}/${table}/${keyJson}`;
  return raw.length <= MAX_PARTITION_KEY ? raw : createHash('sha256').update(raw).digest('hex');
}

/** The id of an operation: the same key's operation of the same export is the same envelope, however often sent. */
export const opId = (tenant: string, table: string, keyJson: string, version: string): string =>
  deterministicId('import', tenant, table, keyJson, version);

/** A column's value as JSON, in DuckDB SQL over the delta's Parquet row (see the module comment). */
function jsonValue(def: TableDef, name: string): string {
  const c = def.columns.find((x) => x.name === name)!;
  const col = ident(name);
  switch (c.type) {
    case 'decimal':
      return `CAST(${col} AS VARCHAR)`;
    case 'double':
      // JSON has no NaN or infinities: their text as Postgres (and JavaScript) spell it.
      return `CASE WHEN ${col} IS NULL OR isfinite(${col}) THEN to_json(${col}) WHEN isnan(${col}) THEN to_json('NaN') WHEN ${col} > 0 THEN to_json('Infinity') ELSE to_json('-Infinity') END`;
    case 'date':
    case 'timestamp':
      return `CAST(${col} AS VARCHAR)`;
    default:
      return col;
  }
}

/**
 * The DuckDB query that reads an operations file as the stream carries it: per operation, its key as JSON (ordered
 * by the definition's key), its `data` as JSON text and its place `seq`, in that order (the delta's `__seq`).
 */
export function opsQuery(def: TableDef, opsFile: string, o: { tenant: string; version: string }): string {
  const keyJson = `json_array(${def.primaryKey.map((k) => jsonValue(def, k)).join(', ')})`;
  const fields = [
    `${literal(OP_FIELDS.op)}, __op`,
    `${literal(OP_FIELDS.tenant)}, ${literal(o.tenant)}`,
    `${literal(OP_FIELDS.version)}, ${literal(o.version)}`,
    ...def.columns.map((c) => `${literal(c.name)}, ${jsonValue(def, c.name)}`),
  ];
  return `SELECT CAST(${keyJson} AS VARCHAR) AS key, CAST(json_object(${fields.join(', ')}) AS VARCHAR) AS data, __seq AS seq
            FROM read_parquet(${literal(opsFile)})
           ORDER BY __seq`;
}

/**
 * The largest an operation's `data` may be: a stream record is at most 1 MiB, partition key included, and the
 * envelope around `data` (id, type, times) plus the partition key take well under 1 KiB of it.
 */
export const MAX_OP_DATA_BYTES = 1024 * 1024 - 1024;

/** Operations too large for a stream record (`MAX_OP_DATA_BYTES`), the first `limit` in order, and how many in all. */
export async function oversizedOps(
  conn: DuckDBConnection,
  def: TableDef,
  opsFile: string,
  o: { tenant: string; version: string },
  limit = 20,
): Promise<{ total: number; first: { key: string; bytes: number }[] }> {
  const r = await conn.runAndReadAll(
    `SELECT key, octet_length(encode(data)) AS bytes, count(*) OVER () AS total
       FROM (${opsQuery(def, opsFile, o)}) WHERE octet_length(encode(data)) > ${MAX_OP_DATA_BYTES}
      ORDER BY seq LIMIT ${limit}`,
  );
  const rows = r.getRows();
  return {
    total: rows.length ? Number(rows[0]![2]) : 0,
    first: rows.map(([key, bytes]) => ({ key: String(key), bytes: Number(bytes) })),
  };
}

/** One operation ready for PutRecords. */
export interface OpRecord {
  id: string;
  partitionKey: string;
  /** The envelope's JSON text. */
  text: string;
}

/**
 * The envelope of one operation. Its times are the export's registration time, not the moment of sending: a resumed
 * or repeated publish writes the same bytes, so the lake (one row per id and day) and the applier (versions) see one
 * operation.
 */
export function opRecord(
  file: { tenant: string; table: string; version: string; registeredAt: string },
  keyJson: string,
  dataJson: string,
): OpRecord {
  const id = opId(file.tenant, file.table, keyJson, file.version);
  const head: Omit<Envelope, 'data'> = {
    id,
    type: changesType(file.table),
    v: OPS_ENVELOPE_VERSION,
    received_at: file.registeredAt,
    event_time: file.registeredAt,
    source: 'import',
  };
  const before = JSON.stringify(head);
  return {
    id,
    partitionKey: opPartitionKey(file.tenant, file.table, keyJson),
    text: `${before.slice(0, -1)},"data":${dataJson}}`,
  };
}

/**
 * The operation an envelope carries, for the table it names.
 *
 * @throws EnvelopeError (`invalid_envelope`) when `data` is not an operation of that table.
 */
export function operationOf(envelope: Envelope, def: TableDef): ImportOperation {
  const d = envelope.data as Record<string, unknown> | null;
  const problems: string[] = [];
  if (!d || typeof d !== 'object' || Array.isArray(d)) problems.push('"data" must be an object');
  else {
    if (!['insert', 'update', 'delete'].includes(d[OP_FIELDS.op] as string))
      problems.push(`"${OP_FIELDS.op}" must be insert, update or delete`);
    if (typeof d[OP_FIELDS.tenant] !== 'string' || d[OP_FIELDS.tenant] === '')
      problems.push(`"${OP_FIELDS.tenant}" must be a non-empty string`);
    if (typeof d[OP_FIELDS.version] !== 'string' || d[OP_FIELDS.version] === '')
      problems.push(`"${OP_FIELDS.version}" must be a non-empty string`);
    for (const k of def.primaryKey)
      if (d[k] === null || d[k] === undefined) problems.push(`key column "${k}" is missing`);
  }
  if (problems.length)
    throw new EnvelopeError(
      'invalid_envelope',
      `Record is not an operation of ${def.name}: ${problems.join('; ')} (lib/imports/ops.ts).`,
    );
  const row: Record<string, unknown> = {};
  for (const c of def.columns) if (c.name in d!) row[c.name] = d![c.name];
  return {
    op: d![OP_FIELDS.op] as ImportOperation['op'],
    tenant: d![OP_FIELDS.tenant] as string,
    version: d![OP_FIELDS.version] as string,
    row,
  };
}
