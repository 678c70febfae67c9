import { SENSITIVE_KINDS, type SensitiveKind } from '../masking.ts';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { readSettings } from '../config.ts';
import { repoDir } from '../registry/registry.ts';
import { TableDefinitionError, UnknownTableError } from './errors.ts';

/*
 * Imported tables: each is defined by a file in `tables/` (like event types in `schemas/`): its columns and types, its
 * primary key and the format of its export files. The definition is the fact about the source system that every
 * later stage relies on: how a file is read, what a change is, the Postgres table the operations are applied to.
 */

/** The column types a definition may use, and what each is in the engines that hold it. */
export const COLUMN_TYPES = {
  text: { duckdb: 'VARCHAR', athena: 'varchar', postgres: 'text' },
  integer: { duckdb: 'BIGINT', athena: 'bigint', postgres: 'bigint' },
  decimal: { duckdb: 'DECIMAL', athena: 'decimal', postgres: 'numeric' },
  double: { duckdb: 'DOUBLE', athena: 'double', postgres: 'double precision' },
  boolean: { duckdb: 'BOOLEAN', athena: 'boolean', postgres: 'boolean' },
  date: { duckdb: 'DATE', athena: 'date', postgres: 'date' },
  timestamp: { duckdb: 'TIMESTAMP', athena: 'timestamp', postgres: 'timestamp' },
} as const;
export type ColumnType = keyof typeof COLUMN_TYPES;

export interface ColumnDef {
  name: string;
  type: ColumnType;
  /** For `decimal`: digits in all and after the point (default 38, 9). */
  precision?: number;
  scale?: number;
  description?: string;
  /**
   * What the column holds when it is sensitive (card, name, email, street, text): viewers see it masked in SQL
   * results, as event types' sensitive fields are (lib/query/sensitive.ts).
   */
  sensitive?: SensitiveKind;
}

/** How the export files of a table are written. */
export interface FileFormat {
  delimiter: string;
  quote: string;
  /** The character that escapes a quote inside a quoted field (default: the quote itself, as RFC 4180). */
  escape?: string;
  header: boolean;
  /** The text of an unquoted field that means NULL (a quoted one is always text: `""` is the empty string). */
  null: string;
  compression: 'gzip' | 'none';
}

export interface TableDef {
  name: string;
  description?: string;
  columns: ColumnDef[];
  primaryKey: string[];
  format: FileFormat;
}

const NAME = '^[A-Za-z_][A-Za-z0-9_]{0,62}$';

// Names are plain identifiers (the same in DuckDB, Trino and Postgres, within Postgres' 63 bytes), so every engine
// sees the columns a definition names; the SQL still quotes them.
const DEFINITION_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'columns', 'primaryKey', 'format'],
  properties: {
    name: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,62}$' },
    description: { type: 'string' },
    columns: {
      type: 'array',
      minItems: 1,
      maxItems: 1000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'type'],
        properties: {
          name: { type: 'string', pattern: NAME },
          type: { enum: Object.keys(COLUMN_TYPES) },
          precision: { type: 'integer', minimum: 1, maximum: 38 },
          scale: { type: 'integer', minimum: 0, maximum: 38 },
          description: { type: 'string' },
          sensitive: { enum: [...SENSITIVE_KINDS] },
        },
      },
    },
    primaryKey: { type: 'array', minItems: 1, items: { type: 'string' }, uniqueItems: true },
    format: {
      type: 'object',
      additionalProperties: false,
      required: ['delimiter', 'quote', 'header', 'null', 'compression'],
      properties: {
        delimiter: { type: 'string', minLength: 1, maxLength: 1 },
        quote: { type: 'string', minLength: 1, maxLength: 1 },
        escape: { type: 'string', minLength: 1, maxLength: 1 },
        header: { type: 'boolean' },
        null: { type: 'string', maxLength: 32 },
        compression: { enum: ['gzip', 'none'] },
      },
    },
  },
} as const;

const validate = new Ajv2020({ allErrors: true, strict: true }).compile(DEFINITION_SCHEMA);

/** The directory of the shipped table definitions (`TRIBUTARY_TABLES_DIR` overrides it). */
export function defaultTablesDir(): string {
  const dir = readSettings().TRIBUTARY_TABLES_DIR;
  return dir ? path.resolve(dir) : repoDir('tables');
}

/**
 * Checks one definition beyond its shape: unique column names (case-insensitively: Postgres and Trino fold them),
 * a primary key of defined columns, decimal bounds, and a format whose characters differ.
 *
 * @throws TableDefinitionError naming the file and what to change.
 */
export function checkTableDef(value: unknown, file: string): TableDef {
  if (!validate(value)) {
    const what = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    throw new TableDefinitionError(`${file}: ${what}.`);
  }
  const def = value as unknown as TableDef;
  if (path.basename(file) !== `${def.name}.json`)
    throw new TableDefinitionError(`${file}: a definition is named after its table; rename it ${def.name}.json.`);
  const seen = new Set<string>();
  for (const c of def.columns) {
    const k = c.name.toLowerCase();
    if (k.startsWith('tributary_'))
      throw new TableDefinitionError(
        `${file}: column ${c.name}: names starting with tributary_ are the importer's own (tenant, version).`,
      );
    if (seen.has(k)) throw new TableDefinitionError(`${file}: column ${c.name} is defined twice (names ignore case).`);
    seen.add(k);
    if (c.type !== 'decimal' && (c.precision !== undefined || c.scale !== undefined))
      throw new TableDefinitionError(`${file}: column ${c.name}: precision and scale are for decimal columns only.`);
    if (c.type === 'decimal' && (c.scale ?? 9) > (c.precision ?? 38))
      throw new TableDefinitionError(`${file}: column ${c.name}: scale must not exceed precision.`);
  }
  for (const k of def.primaryKey)
    if (!def.columns.some((c) => c.name === k))
      throw new TableDefinitionError(`${file}: primary key column ${k} is not one of the columns.`);
  const f = def.format;
  if (f.delimiter === f.quote || (f.escape !== undefined && f.escape === f.delimiter))
    throw new TableDefinitionError(`${file}: the delimiter must differ from the quote and the escape character.`);
  if (f.null.includes(f.delimiter) || f.null.includes(f.quote) || /[\r\n]/.test(f.null))
    throw new TableDefinitionError(`${file}: the null token cannot hold the delimiter, the quote or a line break.`);
  return def;
}

/** Every table definition of a directory, by name. */
export class TableRegistry {
  readonly #tables = new Map<string, TableDef>();

  constructor(readonly dir: string = defaultTablesDir()) {
    if (!existsSync(dir)) return;
    for (const f of readdirSync(dir)
      .filter((n) => n.endsWith('.json'))
      .sort()) {
      const file = path.join(dir, f);
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(file, 'utf8'));
      } catch (err) {
        throw new TableDefinitionError(`${file} is not JSON: ${(err as Error).message}`);
      }
      const def = checkTableDef(raw, file);
      this.#tables.set(def.name, def);
    }
  }

  names(): string[] {
    return [...this.#tables.keys()];
  }

  has(name: string): boolean {
    return this.#tables.has(name);
  }

  /**
   * The definition of a table.
   *
   * @throws UnknownTableError saying where to add the definition.
   */
  get(name: string): TableDef {
    const def = this.#tables.get(name);
    if (!def)
      throw new UnknownTableError(
        `No table ${JSON.stringify(name)} is defined${this.#tables.size ? ` (defined: ${this.names().join(', ')})` : ''}. Add its definition as ${path.join(this.dir, `${name}.json`)} (columns, primaryKey, format: see tables/example.json), then drop the export again.`,
      );
    return def;
  }
}

/** The Postgres type of a column. */
export function postgresType(c: ColumnDef): string {
  return c.type === 'decimal' ? `numeric(${c.precision ?? 38}, ${c.scale ?? 9})` : COLUMN_TYPES[c.type].postgres;
}

/** The DuckDB type of a column. */
export function duckdbType(c: ColumnDef): string {
  return c.type === 'decimal' ? `DECIMAL(${c.precision ?? 38}, ${c.scale ?? 9})` : COLUMN_TYPES[c.type].duckdb;
}
