import { TributaryError } from '../errors.ts';

/** Errors of the table catalog. */
export class CatalogError extends TributaryError {}

/** A column type, rendered for Glue (Hive DDL types) and for DuckDB. */
export type SqlType =
  | { kind: 'string' }
  | { kind: 'bigint' }
  | { kind: 'int' }
  | { kind: 'double' }
  | { kind: 'boolean' }
  /** `precision`: digits of the second's fraction Athena keeps (default 3, the envelope's milliseconds). */
  | { kind: 'timestamp'; precision?: number }
  | { kind: 'date' }
  | { kind: 'decimal'; precision: number; scale: number }
  | { kind: 'struct'; fields: StructField[] }
  | { kind: 'array'; items: SqlType };

export interface StructField {
  /** The key as it is written in the JSON (case kept: DuckDB matches JSON keys case-sensitively). */
  key: string;
  type: SqlType;
}

export const STRING: SqlType = { kind: 'string' };
export const BIGINT: SqlType = { kind: 'bigint' };
export const INT: SqlType = { kind: 'int' };
export const DOUBLE: SqlType = { kind: 'double' };
export const BOOLEAN: SqlType = { kind: 'boolean' };
export const TIMESTAMP: SqlType = { kind: 'timestamp' };

/** Glue/Hive column names are lower case; struct field names too (the JSON SerDe matches them case-insensitively). */
export function glueName(key: string): string {
  return key.toLowerCase();
}

/** The Hive type string Glue stores, e.g. `struct<trip_id:string,timestamp:bigint>`. */
export function hiveType(t: SqlType): string {
  switch (t.kind) {
    case 'struct':
      return `struct<${t.fields.map((f) => `${glueName(f.key)}:${hiveType(f.type)}`).join(',')}>`;
    case 'array':
      return `array<${hiveType(t.items)}>`;
    case 'decimal':
      return `decimal(${t.precision},${t.scale})`;
    default:
      return t.kind;
  }
}

/** The Trino type Athena shows for a column (used in view definitions). */
export function trinoType(t: SqlType): string {
  switch (t.kind) {
    case 'string':
      return 'varchar';
    case 'timestamp':
      return `timestamp(${t.precision ?? 3})`;
    case 'int':
      return 'integer';
    case 'struct':
      return `row(${t.fields.map((f) => `${quoteIdent(glueName(f.key))} ${trinoType(f.type)}`).join(', ')})`;
    case 'array':
      return `array(${trinoType(t.items)})`;
    case 'decimal':
      return `decimal(${t.precision},${t.scale})`;
    default:
      return t.kind;
  }
}

/** The DuckDB type, e.g. `STRUCT("TIMESTAMP" BIGINT)[]`. */
export function duckType(t: SqlType): string {
  switch (t.kind) {
    case 'string':
      return 'VARCHAR';
    case 'bigint':
      return 'BIGINT';
    case 'int':
      return 'INTEGER';
    case 'double':
      return 'DOUBLE';
    case 'boolean':
      return 'BOOLEAN';
    case 'timestamp':
      return 'TIMESTAMP';
    case 'date':
      return 'DATE';
    case 'decimal':
      return `DECIMAL(${t.precision},${t.scale})`;
    case 'struct':
      return `STRUCT(${t.fields.map((f) => `${quoteIdent(f.key)} ${duckType(f.type)}`).join(', ')})`;
    case 'array':
      return `${duckType(t.items)}[]`;
  }
}

/** Double-quotes an identifier for Trino and DuckDB alike, so reserved words (`timestamp`, `hour`) always work. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A SQL string literal (both dialects double the quote). */
export function quoteString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

type Schema = Record<string, unknown>;

/**
 * Maps a JSON Schema (draft 2020-12, local `$ref`s) to a column type. Loose unions of scalars become text, since that
 * is the only type both engines can hold every alternative in without losing it.
 */
export function schemaToType(schema: Schema, root: Schema): SqlType {
  const s = resolveRef(schema, root);
  if (Array.isArray(s.enum)) {
    const values = (s.enum as unknown[]).filter((v) => v !== null);
    if (values.length && values.every((v) => Number.isInteger(v))) return BIGINT;
    if (values.length && values.every((v) => typeof v === 'number')) return DOUBLE;
    if (values.length && values.every((v) => typeof v === 'boolean')) return BOOLEAN;
    return STRING;
  }
  const types = (Array.isArray(s.type) ? s.type : s.type ? [s.type] : []).filter((t) => t !== 'null') as string[];
  if (types.length === 1) {
    switch (types[0]) {
      case 'integer':
        return BIGINT;
      case 'number':
        return DOUBLE;
      case 'boolean':
        return BOOLEAN;
      case 'string':
        return STRING;
      case 'object':
        return objectType(s, root);
      case 'array': {
        const items = s.items && typeof s.items === 'object' ? schemaToType(s.items as Schema, root) : STRING;
        return { kind: 'array', items };
      }
    }
  }
  if (types.length === 2 && types.includes('integer') && types.includes('number')) return DOUBLE;
  return STRING;
}

function objectType(s: Schema, root: Schema): SqlType {
  const props = (s.properties ?? {}) as Record<string, Schema>;
  const fields = Object.entries(props).map(([key, sub]) => ({ key, type: schemaToType(sub, root) }));
  // An object without declared properties has no fixed shape: keep it as its JSON text.
  return fields.length ? { kind: 'struct', fields } : STRING;
}

function resolveRef(s: Schema, root: Schema): Schema {
  const ref = s.$ref;
  if (typeof ref !== 'string') return s;
  if (!ref.startsWith('#/'))
    throw new CatalogError('unsupported_ref', `Only local $refs are supported in table schemas, got ${ref}.`);
  let node: unknown = root;
  for (const part of ref.slice(2).split('/'))
    node = (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  if (!node || typeof node !== 'object') throw new CatalogError('bad_ref', `$ref ${ref} does not resolve.`);
  return { ...(node as Schema), ...Object.fromEntries(Object.entries(s).filter(([k]) => k !== '$ref')) };
}
