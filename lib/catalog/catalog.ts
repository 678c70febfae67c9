// Over 300 lines on purpose: the lake's table definitions (columns, partitions, projection, dedupe rule, the days the
// tables show) are one contract that Glue, DuckDB, the compactor and the query guard all read; split, the rules that
// must agree would live apart.
import { decodePartitionValue } from '../layout/partition.ts';
import { LAKE_DAYS } from '../layout/lake-days.ts';
import type { SensitiveKind } from '../masking.ts';
import { QUARANTINE_REASONS } from '../quarantine/record.ts';
import type { Registry } from '../registry/registry.ts';
import {
  BIGINT,
  BOOLEAN,
  CatalogError,
  DOUBLE,
  INT,
  STRING,
  TIMESTAMP,
  glueName,
  quoteIdent,
  schemaToType,
  type SqlType,
} from './types.ts';

/**
 * How Athena finds a partition's values without a crawler (partition projection). `path` is for free-text values
 * (clickstream's section): Athena's `injected` type would reject every query without an equality filter on it, which
 * makes "events per section" impossible, so the column is read from the object's path instead and is not a Glue key.
 */
export type Projection =
  | { type: 'date'; format: 'yyyy-MM-dd'; range: string; interval: 1; unit: 'DAYS' }
  | { type: 'integer'; range: [number, number]; digits: number }
  | { type: 'enum'; values: string[] }
  | { type: 'path' };

export interface PartitionDef {
  name: string;
  type: SqlType;
  projection: Projection;
}

export interface ColumnDef {
  /** Lower-case column name (Glue folds names to lower case; both engines are case-insensitive on unquoted names). */
  name: string;
  type: SqlType;
  /** Keys from the JSON line to the value, e.g. `['data', 'TIMESTAMP']`. */
  path: string[];
  /** ISO-8601 text in the file that the table exposes as a timestamp. */
  isoTimestamp?: boolean;
  /**
   * The file holds the value as text (or as a JSON number read as text) that the table casts to `type`: a table
   * import's columns, whose exact forms (decimal text, NaN, dates) JSON has no type for.
   */
  fromText?: boolean;
}

/** One table of the lake: where its objects are, their JSON shape, the columns it exposes and its partitions. */
export interface TableDef {
  name: string;
  description: string;
  /** The event type it holds (none for the quarantine and redrives tables). */
  eventType?: string;
  /** Columns sensitive by the table's own definition (an imported table's), by name, with what they hold. */
  sensitive?: Record<string, SensitiveKind>;
  bucket: 'lake' | 'quarantine';
  /** Prefix of the JSONL objects, ending in `/`. */
  prefix: string;
  /**
   * Prefix of the compacted Parquet objects (same partition layout). A sibling of `prefix`, not inside it: an Athena
   * table has one SerDe, so JSON and Parquet objects cannot share a table location.
   */
  compactedPrefix?: string;
  /** Top-level keys of a JSON line and their types (the raw table's columns, partitions excluded). */
  rawColumns: { key: string; type: SqlType }[];
  /** Columns the table exposes, in order, partitions excluded. */
  columns: ColumnDef[];
  partitions: PartitionDef[];
  /** Column compaction sorts by. */
  timeColumn: string;
  /** One row per event for readers (event tables); absent where every row is its own record. */
  dedupe?: DedupeRule;
}

/**
 * How a table shows one row per event although the lake may hold several copies (a client that retried after a lost
 * acknowledgement, a re-drive of an event already there): among the rows with the same `key` and the same values of
 * the `scope` partitions, the first by `order`, then by the key of the object the row came from (`_source` once
 * compacted), is the row; the others are hidden by both engines' views and dropped by compaction. The scope is what
 * keeps a partition filter pruning: a query with `dt = …` reads only that day, so copies on different days are
 * different rows.
 */
export interface DedupeRule {
  key: string;
  scope: string[];
  order: string[];
}

/** Event tables: one row per event id per day, the copy received first. */
const EVENT_DEDUPE: DedupeRule = { key: 'id', scope: ['dt'], order: ['received_at'] };

/**
 * The window numbering the copies of one event under a rule, 1 for the row readers see; `source` is the column holding
 * the object key a row came from. The same SQL in DuckDB and Trino, so both engines pick the same row.
 */
export function dedupeRank(rule: DedupeRule, source: string): string {
  const partition = [...rule.scope, rule.key].map(quoteIdent).join(', ');
  const order = [...rule.order.map((c) => `${quoteIdent(c)} ASC NULLS LAST`), `${quoteIdent(source)} ASC`].join(', ');
  return `row_number() OVER (PARTITION BY ${partition} ORDER BY ${order})`;
}

/**
 * SQL that is true when row `a` ranks at or before row `b` under a rule's order (the same order as
 * {@link dedupeRank}: each order column ascending with NULLs last, then the source object), for two copies of one event.
 */
export function dedupeRanksFirst(
  rule: DedupeRule,
  a: { alias: string; source: string },
  b: { alias: string; source: string },
): string {
  const pairs = rule.order.map((c) => [`${a.alias}.${quoteIdent(c)}`, `${b.alias}.${quoteIdent(c)}`] as const);
  const last = `${a.alias}.${quoteIdent(a.source)} <= ${b.alias}.${quoteIdent(b.source)}`;
  return pairs.reduceRight(
    (rest, [x, y]) =>
      `((${x} IS NOT NULL AND (${y} IS NULL OR ${x} < ${y})) OR (${x} IS NOT DISTINCT FROM ${y} AND ${rest}))`,
    last,
  );
}

/** Column of a compacted Parquet row naming the JSONL object it came from (what makes compaction atomic for readers). */
export const SOURCE_COLUMN = '_source';

const DT_PROJECTION: Projection = {
  type: 'date',
  format: 'yyyy-MM-dd',
  range: `${LAKE_DAYS.first},NOW+${LAKE_DAYS.daysAhead}DAYS`,
  interval: 1,
  unit: 'DAYS',
};
const DT: PartitionDef = { name: 'dt', type: STRING, projection: DT_PROJECTION };
const HOUR: PartitionDef = { name: 'hour', type: INT, projection: { type: 'integer', range: [0, 23], digits: 2 } };

const ENVELOPE_KEYS = ['id', 'type', 'v', 'received_at', 'event_time', 'source'] as const;
const REDRIVE: SqlType = {
  kind: 'struct',
  fields: [
    { key: 'job', type: STRING },
    { key: 'at', type: STRING },
    { key: 'by', type: STRING },
    { key: 'attempt', type: INT },
  ],
};

function eventTable(registry: Registry, typeName: string): TableDef {
  const t = registry.get(typeName);
  const schema = t.latest.schema;
  const data = schemaToType(schema, schema);
  if (data.kind !== 'struct')
    throw new CatalogError(
      'bad_schema',
      `Type ${typeName}: the schema's root must be an object with properties to become a table.`,
    );
  const partitions = [
    DT,
    HOUR,
    ...t.partitions.map((p): PartitionDef => ({ name: p.name, type: STRING, projection: { type: 'path' } })),
  ];
  const columns: ColumnDef[] = [
    { name: 'id', type: STRING, path: ['id'] },
    { name: 'v', type: INT, path: ['v'] },
    { name: 'received_at', type: TIMESTAMP, path: ['received_at'], isoTimestamp: true },
    { name: 'event_time', type: TIMESTAMP, path: ['event_time'], isoTimestamp: true },
    { name: 'source', type: STRING, path: ['source'] },
  ];
  const taken = new Set<string>([...columns.map((c) => c.name), ...partitions.map((p) => p.name), SOURCE_COLUMN]);
  const add = (name: string, type: SqlType, path: string[]) => {
    // A data field named like an envelope column (transactions' own row number `id`) keeps its data under `data_`.
    let n = glueName(name);
    if (taken.has(n)) n = `data_${n}`;
    if (taken.has(n))
      throw new CatalogError('column_clash', `Type ${typeName}: column ${n} is defined twice; rename the field.`);
    taken.add(n);
    columns.push({ name: n, type, path });
  };
  // Objects are flattened one level (clickstream's metadata.uuid → metadata_uuid); deeper ones stay structs.
  for (const f of data.fields) {
    if (f.type.kind === 'struct')
      for (const sub of f.type.fields) add(`${f.key}_${sub.key}`, sub.type, ['data', f.key, sub.key]);
    else add(f.key, f.type, ['data', f.key]);
  }
  return {
    name: t.manifest.table,
    description: t.manifest.description,
    eventType: typeName,
    bucket: 'lake',
    prefix: `events/${typeName}/`,
    compactedPrefix: `compacted/${typeName}/`,
    rawColumns: [
      ...ENVELOPE_KEYS.map((key) => ({ key, type: key === 'v' ? INT : STRING })),
      { key: 'data', type: data },
      { key: 'redrive', type: REDRIVE },
    ],
    columns,
    partitions,
    timeColumn: 'event_time',
    dedupe: EVENT_DEDUPE,
  };
}

function quarantineTable(): TableDef {
  const errors: SqlType = {
    kind: 'array',
    items: { kind: 'struct', fields: ['path', 'keyword', 'message'].map((key) => ({ key, type: STRING })) },
  };
  // `reason` is both in the line and in the path; it is the partition, so it is not also a data column.
  const raw: { key: string; type: SqlType }[] = [
    { key: 'id', type: STRING },
    { key: 'stage', type: STRING },
    { key: 'errors', type: errors },
    { key: 'type', type: STRING },
    { key: 'v', type: INT },
    { key: 'received_at', type: STRING },
    { key: 'quarantined_at', type: STRING },
    { key: 'payload', type: STRING },
    { key: 'payload_encoding', type: STRING },
    { key: 'attempts', type: INT },
    { key: 'source', type: STRING },
  ];
  return {
    name: 'quarantine',
    description: 'Every record that failed a stage: raw payload, errors at their JSON paths, stage and reason.',
    bucket: 'quarantine',
    prefix: 'records/',
    rawColumns: raw,
    columns: raw.map((c) => ({
      name: c.key,
      type: c.key.endsWith('_at') ? TIMESTAMP : c.type,
      path: [c.key],
      ...(c.key.endsWith('_at') ? { isoTimestamp: true } : {}),
    })),
    partitions: [DT, { name: 'reason', type: STRING, projection: { type: 'enum', values: [...QUARANTINE_REASONS] } }],
    timeColumn: 'quarantined_at',
  };
}

/** The quarantine ledger: one row per record a re-drive or discard touched, and what happened to it. */
function redrivesTable(): TableDef {
  const errors: SqlType = {
    kind: 'array',
    items: { kind: 'struct', fields: ['path', 'keyword', 'message'].map((key) => ({ key, type: STRING })) },
  };
  const raw: { key: string; type: SqlType }[] = [
    ...['qid', 'id', 'job', 'action', 'outcome', 'at', 'by', 'reason'].map((key) => ({ key, type: STRING })),
    { key: 'errors', type: errors },
    ...['new_qid', 'shard_id', 'sequence_number'].map((key) => ({ key, type: STRING })),
  ];
  return {
    name: 'redrives',
    description:
      'Re-drive and discard outcomes (the quarantine ledger): per record and job, accepted, failed again, skipped or discarded, by whom and when.',
    bucket: 'quarantine',
    prefix: 'ledger/',
    rawColumns: raw,
    columns: raw.map((c) => ({
      name: c.key,
      type: c.key === 'at' ? TIMESTAMP : c.type,
      path: [c.key],
      ...(c.key === 'at' ? { isoTimestamp: true } : {}),
    })),
    partitions: [DT],
    timeColumn: 'at',
  };
}

/**
 * An imported table as the catalog needs it: the shape of lib/imports/tables.ts's definitions, written here so the
 * catalog does not depend on the imports (which depend on it).
 */
export interface ImportedTable {
  name: string;
  columns: ImportColumnDef[];
  primaryKey: string[];
}
interface ImportColumnDef {
  name: string;
  type: 'text' | 'integer' | 'decimal' | 'double' | 'boolean' | 'date' | 'timestamp';
  precision?: number;
  scale?: number;
  sensitive?: SensitiveKind;
}

/** The SQL type a table import's column has in the lake (lib/imports/tables.ts types). */
function importColumnType(c: ImportColumnDef): SqlType {
  switch (c.type) {
    case 'text':
      return STRING;
    case 'integer':
      return BIGINT;
    case 'decimal':
      return { kind: 'decimal', precision: c.precision ?? 38, scale: c.scale ?? 9 };
    case 'double':
      return DOUBLE;
    case 'boolean':
      return BOOLEAN;
    case 'date':
      return { kind: 'date' };
    case 'timestamp':
      // Microseconds, as the source, DuckDB and Postgres keep them: Athena would round to milliseconds otherwise.
      return { kind: 'timestamp', precision: 6 };
  }
}

/** The meta fields of an import operation's data (lib/imports/ops.ts OP_FIELDS), as the changes table names them. */
const OP_COLUMNS = ['tributary_op', 'tributary_tenant', 'tributary_version'] as const;

/**
 * Names a changes table and its views use for themselves: the envelope's, the partitions', the engines' helper
 * columns. A definition's column of one of these names is `data_<name>` in the lake (as events' fields are), so a key
 * named `id` is never taken for the envelope id.
 */
const CHANGES_META = new Set([
  'id',
  'received_at',
  'tributary_op',
  'tributary_version',
  'dt',
  'hour',
  'tenant',
  '_key',
  '_rn',
  SOURCE_COLUMN,
]);

/** A definition column's name in its changes table and current view. */
function changesColumnName(column: string): string {
  const n = glueName(column);
  return CHANGES_META.has(n) ? `data_${n}` : n;
}

/**
 * Every operation of an imported table, as the lake writer keeps them (`imports/<table>/changes/`): the envelope's id
 * and times, the operation and version, the row's columns typed from the definition, partitioned by day, hour and
 * tenant. One row per operation id per day, like events (a republished chunk is the same operation).
 */
function changesTable(def: ImportedTable): TableDef {
  const fields = [...OP_COLUMNS, ...def.columns.map((c) => c.name)].map((key) => ({ key, type: STRING }));
  const seen = new Set<string>();
  const columns = def.columns.map((c): ColumnDef => {
    const name = changesColumnName(c.name);
    if (seen.has(name) || CHANGES_META.has(name))
      throw new CatalogError(
        'column_clash',
        `tables/${def.name}.json: column ${c.name} is ${name} in the lake, which another column has; rename one of them.`,
      );
    seen.add(name);
    return { name, type: importColumnType(c), path: ['data', c.name], fromText: true };
  });
  return {
    name: `${def.name}_changes`,
    description: `Every insert, update and delete that imports of ${def.name} published (tables/${def.name}.json), with the export version; the ${def.name} view is the current rows.`,
    bucket: 'lake',
    prefix: `imports/${def.name}/changes/`,
    // Compacted like events (lib/compact): Parquet of closed partition-hours, beside the JSONL, never inside it.
    compactedPrefix: `imports/${def.name}/compacted/`,
    rawColumns: [
      ...ENVELOPE_KEYS.map((key) => ({ key, type: key === 'v' ? INT : STRING })),
      { key: 'data', type: { kind: 'struct', fields } },
    ],
    columns: [
      { name: 'id', type: STRING, path: ['id'] },
      { name: 'received_at', type: TIMESTAMP, path: ['received_at'], isoTimestamp: true },
      { name: 'tributary_op', type: STRING, path: ['data', 'tributary_op'] },
      { name: 'tributary_version', type: STRING, path: ['data', 'tributary_version'] },
      ...columns,
    ],
    partitions: [DT, HOUR, { name: 'tenant', type: STRING, projection: { type: 'path' } }],
    timeColumn: 'received_at',
    dedupe: EVENT_DEDUPE,
    ...(def.columns.some((c) => c.sensitive)
      ? {
          sensitive: Object.fromEntries(
            def.columns.flatMap((c) => (c.sensitive ? [[changesColumnName(c.name), c.sensitive]] : [])),
          ),
        }
      : {}),
  };
}

/** The current rows of an imported table, over its changes: per tenant and key, the latest version, unless a delete. */
export interface CurrentView {
  name: string;
  description: string;
  changes: TableDef;
  /** Key columns as the changes table names them. */
  key: string[];
  /** Columns the view shows, in order. */
  columns: string[];
}

/**
 * The lake's tables, one definition each, derived from the schema registry: the event types' tables plus
 * `quarantine` and `redrives`, and per imported table (lib/imports/tables.ts) its changes and a current-state view.
 * The same definitions generate the Glue tables (with partition projection) and the local DuckDB views.
 */
export class Catalog {
  readonly #tables = new Map<string, TableDef>();
  readonly #current = new Map<string, CurrentView>();

  constructor(
    readonly registry: Registry,
    imports?: { names(): string[]; get(name: string): ImportedTable },
  ) {
    for (const name of registry.names()) {
      const def = eventTable(registry, name);
      this.#tables.set(def.name, def);
    }
    // Every name a table takes in either engine: its own, its raw and compacted tables (Glue), and the listing view.
    const taken = new Set<string>(['lake_objects']);
    const claim = (name: string, what: string) => {
      const names = [name, `${name}_raw`, `${name}_compacted`];
      const clash = names.find((n) => taken.has(n));
      if (clash)
        throw new CatalogError(
          'table_clash',
          `${what} may not use the table name "${name}": "${clash}" is taken by another table; rename it.`,
        );
      for (const n of names) taken.add(n);
    };
    for (const t of this.#tables.values()) claim(t.name, `Event type ${t.eventType}`);
    for (const q of [quarantineTable(), redrivesTable()]) {
      claim(q.name, 'An event type');
      this.#tables.set(q.name, q);
    }
    for (const name of imports?.names() ?? []) {
      const def = imports!.get(name);
      const changes = changesTable(def);
      claim(changes.name, `The changes of imported table ${name}`);
      this.#tables.set(changes.name, changes);
      claim(def.name, `Imported table ${name}`);
      this.#current.set(def.name, {
        name: def.name,
        description: `The current rows of ${def.name} as its last published exports left them, per tenant (the same rows as imports.${def.name} in Postgres).`,
        changes,
        key: def.primaryKey.map(changesColumnName),
        columns: [...def.columns.map((c) => changesColumnName(c.name)), 'tenant', 'tributary_version'],
      });
    }
  }

  /** The current-state views of the imported tables. */
  currentViews(): CurrentView[] {
    return [...this.#current.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** All tables, by name. */
  tables(): TableDef[] {
    return [...this.#tables.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A table by name, or throws listing the known ones. */
  table(name: string): TableDef {
    const t = this.#tables.get(name.toLowerCase());
    if (!t)
      throw new CatalogError(
        'unknown_table',
        `No table ${JSON.stringify(name)}; tables: ${[...this.#tables.keys()].sort().join(', ')}.`,
      );
    return t;
  }

  has(name: string): boolean {
    return this.#tables.has(name.toLowerCase());
  }

  /** The SQL (both engines) of the current rows over the changes view `changes` names (a quoted, qualified name). */
  static currentSql(v: CurrentView, changes: string): string {
    const q = quoteIdent;
    const rank = `row_number() OVER (PARTITION BY ${['tenant', ...v.key].map(q).join(', ')} ORDER BY ${q('tributary_version')} DESC)`;
    // Versions compare as text byte by byte, as the registry and Postgres (COLLATE "C") order them: both engines sort
    // varchar by code point.
    return `SELECT ${v.columns.map(q).join(', ')}\nFROM (SELECT *, ${rank} AS "_rn" FROM ${changes}) c\nWHERE "_rn" = 1 AND ${q('tributary_op')} <> 'delete'`;
  }
}

/** The key prefix of one partition of a table, e.g. `events/transactions/dt=2024-01-02/hour=05/`. */
export function partitionPrefix(base: string, values: { name: string; value: string }[]): string {
  return `${base}${values.map((v) => `${v.name}=${v.value}/`).join('')}`;
}

/**
 * The partition values of an object key below a table prefix (`dt=…/hour=…/[section=…/]file`), decoded as both engines
 * read them (a missing value is null), or null when the key is not a table object.
 */
export function partitionValuesOf(table: TableDef, key: string): Record<string, string | null> | null {
  const base = key.startsWith(table.prefix)
    ? table.prefix
    : table.compactedPrefix && key.startsWith(table.compactedPrefix)
      ? table.compactedPrefix
      : null;
  if (!base) return null;
  const parts = key.slice(base.length).split('/');
  const out: Record<string, string | null> = {};
  for (let i = 0; i < table.partitions.length; i++) {
    const p = table.partitions[i]!;
    const seg = parts[i];
    if (!seg?.startsWith(`${p.name}=`)) return null;
    out[p.name] = decodePartitionValue(seg.slice(p.name.length + 1));
  }
  return parts.length === table.partitions.length + 1 ? out : null;
}
