import type { Catalog, PartitionDef, TableDef } from '../catalog/catalog.ts';
import { compactedTableName, rawTableName } from '../catalog/glue.ts';
import { QueryRefusedError } from './errors.ts';
import type { BoundValue } from './params.ts';
import type { SqlNode } from './parser.ts';
import { compilePartitionFilter, type PartitionValues } from './partition-filter.ts';

/** Which objects of a table a reference reads: the view (JSONL and Parquet), or Athena's raw or compacted table. */
export type ObjectSet = 'all' | 'raw' | 'compacted';

/** One place a query reads a lake table, with the constraint that prunes it. */
export interface TableRead {
  table: TableDef;
  objects: ObjectSet;
  /** The name as the query wrote it (`transactions`, `transactions_raw`). */
  written: string;
  /**
   * Whether rows of a partition can reach the query: false only when the WHERE of the SELECT that reads the table
   * rules the partition out through its partition columns.
   */
  keeps(partition: PartitionValues): boolean;
  /** Whether any of the WHERE's top-level constraint bears on a partition column (for the refusal message). */
  constrained: boolean;
  /** Read through an imported table's current-state view (`table` is its changes): no filter on it prunes. */
  view?: boolean;
}

export interface GuardReport {
  reads: TableRead[];
  /** Catalog tables whose views the statement needs (the local engine makes only those). */
  tables: string[];
  /** Whether it reads the local engine's `lake_objects` listing. */
  listing: boolean;
  /** Table functions that read files directly (`read_json`, …): allowed only past the guard. */
  fileReaders: string[];
}

export interface GuardContext {
  catalog: Catalog;
  engine: 'duckdb' | 'athena';
  /** Values of the `$name` placeholders, so a constraint on a parameter prunes like a constant. */
  params: Record<string, BoundValue>;
}

/** Table functions that read no files: always allowed. */
const SAFE_TABLE_FUNCTIONS = new Set(['unnest', 'range', 'generate_series']);
/** DuckDB table functions that read the files they name (locally confined to the lake and quarantine directories). */
const FILE_READERS = new Set([
  'read_json',
  'read_json_auto',
  'read_json_objects',
  'read_json_objects_auto',
  'read_ndjson',
  'read_ndjson_auto',
  'read_ndjson_objects',
  'read_parquet',
  'parquet_scan',
  'parquet_metadata',
  'parquet_schema',
  'parquet_file_metadata',
  'parquet_kv_metadata',
  'read_csv',
  'read_csv_auto',
  'sniff_csv',
  'read_text',
  'read_blob',
  'glob',
]);
const QUERY_NODES = new Set(['SELECT_NODE', 'SET_OPERATION_NODE', 'RECURSIVE_CTE_NODE', 'CTE_NODE']);

interface BaseRef {
  node: SqlNode;
  name: string;
  schema: string;
  alias: string;
}

/**
 * Reads the parse tree of one SELECT for the tables it scans and the partitions each scan can touch. For every
 * reference to a lake table it takes the WHERE of the SELECT whose FROM names it and keeps the top-level constraints on
 * the table's partition columns (comparisons with constants or placeholders, BETWEEN, IN lists, through AND, OR and
 * NOT); a constraint anywhere else (the select list, a JOIN's ON, an outer query, HAVING) does not prune. CTE names
 * shadow tables the way the engines resolve them. Anything it cannot place is refused rather than guessed: an unknown
 * table, a table function that runs SQL or reads files, DESCRIBE/SHOW/SUMMARIZE, PIVOT.
 */
export function guardQuery(tree: SqlNode, ctx: GuardContext): GuardReport {
  const reads: TableRead[] = [];
  const tables = new Set<string>();
  const fileReaders: string[] = [];
  let listing = false;
  const claimed = new Set<SqlNode>();

  const resolve = (ref: BaseRef, scope: ReadonlySet<string>, where: unknown) => {
    const name = ref.name.toLowerCase();
    const schema = ref.schema.toLowerCase();
    if (!schema && scope.has(name)) return;
    if (schema === 'information_schema') return;
    if (!schema && name === 'lake_objects' && ctx.engine === 'duckdb') {
      listing = true;
      for (const t of ctx.catalog.tables()) tables.add(t.name);
      return;
    }
    const found = lookup(ctx.catalog, name);
    if (!found) {
      const known = ctx.catalog
        .tables()
        .map((t) => t.name)
        .concat(ctx.catalog.currentViews().map((v) => v.name))
        .sort()
        .concat(ctx.engine === 'duckdb' ? ['lake_objects'] : []);
      throw new QueryRefusedError(
        'unknown_table',
        `${JSON.stringify(ref.schema ? `${ref.schema}.${ref.name}` : ref.name)} is not a table of the lake; query ${known.join(', ')}.`,
      );
    }
    if (found.objects === 'all') tables.add(found.table.name);
    // A current-state view reads all of its changes: no filter on it can prune them.
    if (found.view) tables.add(found.view);
    const pred =
      where === null || where === undefined || found.view
        ? null
        : compilePartitionFilter(where, (col) => columnOf(col, ref, found.table, found.objects), ctx.params);
    reads.push({
      table: found.table,
      objects: found.objects,
      written: ref.name,
      keeps: (p) => pred === null || pred(p) !== false,
      constrained: pred !== null,
      ...(found.view ? { view: true } : {}),
    });
  };

  const claimFrom = (from: unknown, where: unknown, scope: ReadonlySet<string>) => {
    const bases: BaseRef[] = [];
    const collect = (ref: unknown) => {
      const r = ref as SqlNode;
      switch (r.type) {
        case 'BASE_TABLE':
          claimed.add(r);
          bases.push({
            node: r,
            name: String(r.table_name ?? ''),
            schema: String(r.schema_name ?? ''),
            alias: String(r.alias ?? ''),
          });
          return;
        case 'JOIN':
          collect(r.left);
          collect(r.right);
          return;
        case 'SUBQUERY':
        case 'EXPRESSION_LIST':
        case 'EMPTY':
          return;
        case 'TABLE_FUNCTION': {
          const fn = String((r.function as SqlNode | undefined)?.function_name ?? '').toLowerCase();
          if (SAFE_TABLE_FUNCTIONS.has(fn)) return;
          if (FILE_READERS.has(fn) && ctx.engine === 'duckdb') {
            fileReaders.push(fn);
            return;
          }
          throw new QueryRefusedError(
            'table_function',
            `The table function ${fn}() is not available here (it could read or run something the guard cannot see); query the lake's tables, with unnest, range or generate_series where you need rows.`,
          );
        }
        case 'SHOW_REF':
          throw new QueryRefusedError(
            'not_a_query',
            'DESCRIBE, SHOW and SUMMARIZE are not available here; the Tables panel (GET /api/catalog) lists every table and column.',
          );
        default:
          throw new QueryRefusedError(
            'unsupported_from',
            `A FROM item of kind ${String(r.type)} (e.g. PIVOT) is not available here; use GROUP BY with CASE or FILTER instead.`,
          );
      }
    };
    if (from) collect(from);
    for (const b of bases) resolve(b, scope, where);
  };

  // Every query node, wherever it is (FROM, subquery expressions, CTEs, set operations), with the CTE names it sees.
  const visit = (root: unknown, scope: ReadonlySet<string>) => {
    const stack: [unknown, ReadonlySet<string>][] = [[root, scope]];
    while (stack.length) {
      const [x, s] = stack.pop()!;
      if (Array.isArray(x)) {
        for (const item of x) stack.push([item, s]);
        continue;
      }
      if (!x || typeof x !== 'object') continue;
      const node = x as SqlNode;
      let inner = s;
      if (typeof node.type === 'string' && QUERY_NODES.has(node.type)) {
        // A CTE body sees the CTEs defined before it (and itself, if recursive); the query sees all of them.
        const ctes = ((node.cte_map as SqlNode | undefined)?.map ?? []) as { key: string; value: { query: SqlNode } }[];
        let seen = new Set(s);
        for (const cte of ctes) {
          const own = cte.key.toLowerCase();
          const recursive = (cte.value.query?.node as SqlNode | undefined)?.type === 'RECURSIVE_CTE_NODE';
          stack.push([cte.value.query, recursive ? new Set([...seen, own]) : seen]);
          seen = new Set([...seen, own]);
        }
        inner = seen;
        if (node.type === 'SELECT_NODE') claimFrom(node.from_table, node.where_clause, inner);
        if (node.type === 'RECURSIVE_CTE_NODE' && typeof node.cte_name === 'string')
          inner = new Set([...inner, node.cte_name.toLowerCase()]);
      } else if (node.type === 'BASE_TABLE' && !claimed.has(node)) {
        // A table somewhere no FROM walk reached: read it as unfiltered rather than miss it.
        claimed.add(node);
        resolve(
          {
            node,
            name: String(node.table_name ?? ''),
            schema: String(node.schema_name ?? ''),
            alias: String(node.alias ?? ''),
          },
          s,
          null,
        );
      }
      for (const [k, v] of Object.entries(node))
        if (k !== 'cte_map' && v && typeof v === 'object') stack.push([v, inner]);
    }
  };
  visit(tree, new Set());
  return { reads, tables: [...tables].sort(), listing, fileReaders };
}

function lookup(catalog: Catalog, name: string): { table: TableDef; objects: ObjectSet; view?: string } | null {
  if (catalog.has(name)) return { table: catalog.table(name), objects: 'all' };
  const current = catalog.currentViews().find((v) => v.name === name);
  if (current) return { table: current.changes, objects: 'all', view: current.name };
  for (const t of catalog.tables()) {
    if (rawTableName(t) === name) return { table: t, objects: 'raw' };
    if (t.compactedPrefix && compactedTableName(t) === name) return { table: t, objects: 'compacted' };
  }
  return null;
}

/**
 * The partition column a column reference names on this table reference, or null: `dt` (every lake table of the FROM
 * has it, so with two of them the engines reject it as ambiguous), `alias.dt`, `table.dt` or `schema.table.dt`.
 * Partitions read from the object's path (clickstream's `section`) are not keys and never prune, nor do partitions
 * outside a de-duplicated table's window (hour, on the tables' one-row-per-event views; the _raw and _compacted tables
 * prune by every key).
 */
function columnOf(ref: SqlNode, table: BaseRef, def: TableDef, objects: ObjectSet): PartitionDef | null {
  const names = (ref.column_names as string[]).map((n) => n.toLowerCase());
  const col = names.at(-1)!;
  const part = def.partitions.find((p) => p.name === col);
  if (!part || part.projection.type === 'path') return null;
  // Through the one-row-per-event view, only the partitions of its window (dt) reach the files: a filter on hour is
  // applied above the window, which must see the whole day to pick each event's row, so both engines read the day.
  if (objects === 'all' && def.dedupe && !def.dedupe.scope.includes(part.name)) return null;
  const qual = names.slice(0, -1);
  if (!qual.length) return part;
  const alias = table.alias.toLowerCase();
  if (qual.length === 1) return (alias ? qual[0] === alias : qual[0] === table.name.toLowerCase()) ? part : null;
  if (!alias && qual.at(-1) === table.name.toLowerCase() && qual.at(-2) === table.schema.toLowerCase()) return part;
  return null;
}
