import type { Catalog, PartitionDef, TableDef } from '../catalog/catalog.ts';
import { compactedTableName, rawTableName } from '../catalog/glue.ts';
import { QueryRefusedError } from './errors.ts';
import type { BoundValue } from './params.ts';
import type { SqlNode } from './parser.ts';

/** Which objects of a table a reference reads: the view (JSONL and Parquet), or Athena's raw or compacted table. */
export type ObjectSet = 'all' | 'raw' | 'compacted';

/** Partition values of one object, decoded from its key (`dt=…/hour=…/`) as the engines read them; null is hive's NULL. */
export type PartitionValues = Record<string, string | null>;

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

type Tri = boolean | null;
type Pred = (p: PartitionValues) => Tri;
type Scalar = { kind: 'text'; v: string } | { kind: 'number'; v: number } | { kind: 'null' };

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
        .concat(ctx.engine === 'duckdb' ? ['lake_objects'] : []);
      throw new QueryRefusedError(
        'unknown_table',
        `${JSON.stringify(ref.schema ? `${ref.schema}.${ref.name}` : ref.name)} is not a table of the lake; query ${known.join(', ')}.`,
      );
    }
    if (found.objects === 'all') tables.add(found.table.name);
    const pred =
      where === null || where === undefined
        ? null
        : compile(where, (col) => columnOf(col, ref, found.table), ctx.params);
    reads.push({
      table: found.table,
      objects: found.objects,
      written: ref.name,
      keeps: (p) => pred === null || pred(p) !== false,
      constrained: pred !== null,
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

function lookup(catalog: Catalog, name: string): { table: TableDef; objects: ObjectSet } | null {
  if (catalog.has(name)) return { table: catalog.table(name), objects: 'all' };
  for (const t of catalog.tables()) {
    if (rawTableName(t) === name) return { table: t, objects: 'raw' };
    if (t.compactedPrefix && compactedTableName(t) === name) return { table: t, objects: 'compacted' };
  }
  return null;
}

/**
 * The partition column a column reference names on this table reference, or null: `dt` (every lake table of the FROM
 * has it, so with two of them the engines reject it as ambiguous), `alias.dt`, `table.dt` or `schema.table.dt`.
 * Partitions read from the object's path (clickstream's `section`) are not keys and never prune.
 */
function columnOf(ref: SqlNode, table: BaseRef, def: TableDef): PartitionDef | null {
  const names = (ref.column_names as string[]).map((n) => n.toLowerCase());
  const col = names.at(-1)!;
  const part = def.partitions.find((p) => p.name === col);
  if (!part || part.projection.type === 'path') return null;
  const qual = names.slice(0, -1);
  if (!qual.length) return part;
  const alias = table.alias.toLowerCase();
  if (qual.length === 1) return (alias ? qual[0] === alias : qual[0] === table.name.toLowerCase()) ? part : null;
  if (!alias && qual.at(-1) === table.name.toLowerCase() && qual.at(-2) === table.schema.toLowerCase()) return part;
  return null;
}

/**
 * Compiles a WHERE into a three-valued test over one partition's values: true or false when the partition columns
 * decide it, null when something else does (a non-partition column, a function, a subquery). Null is "may hold rows":
 * only a definite false prunes, so an unknown never hides a scan.
 */
function compile(
  expr: unknown,
  columnOf: (ref: SqlNode) => PartitionDef | null,
  params: Record<string, BoundValue>,
): Pred | null {
  const used = new Set<string>();
  const scalar = (e: unknown): Scalar | null => scalarOf(e as SqlNode, params);
  const column = (e: unknown): PartitionDef | null => {
    const n = e as SqlNode;
    const col = n?.class === 'COLUMN_REF' ? columnOf(n) : null;
    if (col) used.add(col.name);
    return col;
  };
  /** `col = constant`, the pieces of a long `dt = 'a' OR dt = 'b' OR …`. */
  const equality = (e: unknown): { col: PartitionDef; k: Scalar } | null => {
    const n = e as SqlNode;
    if (n?.type !== 'COMPARE_EQUAL') return null;
    const l = column(n.left);
    const r = l ? scalar(n.right) : null;
    if (l && r) return { col: l, k: r };
    const c = column(n.right);
    const k = c ? scalar(n.left) : null;
    return c && k ? { col: c, k } : null;
  };
  const go = (e: unknown): Pred | null => {
    const n = e as SqlNode;
    if (!n || typeof n !== 'object') return null;
    const type = String(n.type);
    if (type === 'CONJUNCTION_AND' || type === 'CONJUNCTION_OR') {
      let children = n.children as unknown[];
      const merged: (Pred | null)[] = [];
      if (type === 'CONJUNCTION_OR') {
        // Equalities on one column become one set lookup, like an IN list.
        const byColumn = new Map<string, { col: PartitionDef; ks: Scalar[] }>();
        const rest: unknown[] = [];
        for (const c of children) {
          const eq = equality(c);
          if (!eq) rest.push(c);
          else byColumn.set(eq.col.name, { col: eq.col, ks: [...(byColumn.get(eq.col.name)?.ks ?? []), eq.k] });
        }
        for (const { col, ks } of byColumn.values()) merged.push(memberOf(col, ks, false));
        children = rest;
      }
      const parts = [...merged, ...children.map(go)];
      if (parts.every((p) => p === null)) return null;
      // A part nobody can judge is unknown for every partition: the AND can then only be known false, the OR true.
      return kleene(
        parts.map((p) => p ?? UNKNOWN),
        type === 'CONJUNCTION_OR',
      );
    }
    if (type === 'OPERATOR_NOT') {
      const inner = go((n.children as unknown[])[0]);
      return (
        inner &&
        ((v) => {
          const r = inner(v);
          return r === null ? null : !r;
        })
      );
    }
    if (type === 'COMPARE_BETWEEN' || type === 'COMPARE_NOT_BETWEEN') {
      const col = column(n.input);
      const lo = scalar(n.lower);
      const hi = scalar(n.upper);
      if (!col || !lo || !hi) return null;
      const neg = type === 'COMPARE_NOT_BETWEEN';
      return (v) => {
        const a = compare(col, v, lo);
        const b = compare(col, v, hi);
        if (a === null || b === null) return null;
        const inside = a >= 0 && b <= 0;
        return neg ? !inside : inside;
      };
    }
    if (type === 'COMPARE_IN' || type === 'COMPARE_NOT_IN') {
      const [first, ...rest] = n.children as unknown[];
      const col = column(first);
      if (!col) return null;
      const values = rest.map(scalar);
      if (values.some((x) => x === null)) return null;
      return memberOf(col, values as Scalar[], type === 'COMPARE_NOT_IN');
    }
    const op = COMPARISONS[type];
    if (op) {
      let col = column(n.left);
      let other = scalar(n.right);
      let flip = false;
      if (!col || !other) {
        col = column(n.right);
        other = scalar(n.left);
        flip = true;
      }
      if (!col || !other) return null;
      const c = col;
      const k = other;
      return (v) => {
        if (k.kind === 'null') return type === 'COMPARE_DISTINCT_FROM';
        const r = compare(c, v, k);
        return r === null ? null : op(flip ? -r : r);
      };
    }
    return null;
  };
  const pred = go(expr);
  if (!pred) return null;
  // Partitions differ in columns the filter may not name (hour, for a filter on dt): decide each distinct value once.
  const names = [...used];
  const seen = new Map<string, Tri>();
  return (v) => {
    const key = JSON.stringify(names.map((c) => v[c] ?? null));
    let r = seen.get(key);
    if (r === undefined) seen.set(key, (r = pred(v)));
    return r;
  };
}

/**
 * Membership of a partition column in a list of constants (IN, NOT IN, an OR of equalities), as one set lookup so a
 * list of 50,000 values costs one lookup per partition; null when a value's type does not meet the column's plainly.
 */
function memberOf(col: PartitionDef, values: Scalar[], negated: boolean): Pred | null {
  const keys = new Set<string>();
  let hasNull = false;
  for (const x of values) {
    if (x.kind === 'null') hasNull = true;
    else if (col.type.kind === 'int' && x.kind === 'number') keys.add(`n${x.v}`);
    else if (col.type.kind === 'string' && x.kind === 'text') keys.add(`t${x.v}`);
    else return null;
  }
  return (v) => {
    const raw = v[col.name];
    if (raw === undefined || raw === null) return null;
    const key =
      col.type.kind === 'int'
        ? raw.trim() !== '' && Number.isFinite(Number(raw))
          ? `n${Number(raw)}`
          : null
        : `t${raw}`;
    if (key === null) return null;
    const hit = keys.has(key);
    if (negated) return !(hit || hasNull);
    return hit;
  };
}

const UNKNOWN: Pred = () => null;

/** Kleene's three-valued AND (`decisive` false) or OR (`decisive` true) of its parts. */
function kleene(parts: Pred[], decisive: boolean): Pred {
  return (v) => {
    let out: Tri = !decisive;
    for (const p of parts) {
      const r = p(v);
      if (r === decisive) return decisive;
      if (r === null) out = null;
    }
    return out;
  };
}

const COMPARISONS: Record<string, (cmp: number) => boolean> = {
  COMPARE_EQUAL: (r) => r === 0,
  COMPARE_NOT_DISTINCT_FROM: (r) => r === 0,
  COMPARE_NOTEQUAL: (r) => r !== 0,
  COMPARE_DISTINCT_FROM: (r) => r !== 0,
  COMPARE_LESSTHAN: (r) => r < 0,
  COMPARE_GREATERTHAN: (r) => r > 0,
  COMPARE_LESSTHANOREQUALTO: (r) => r <= 0,
  COMPARE_GREATERTHANOREQUALTO: (r) => r >= 0,
};

/**
 * Compares a partition's value of a column with a constant the way the engines do, or null when the types do not
 * meet plainly (text against a number, a value the key does not spell as its type): dt and other text partitions by
 * code point, hour as a number.
 */
function compare(col: PartitionDef, values: PartitionValues, k: Scalar): number | null {
  const raw = values[col.name];
  if (raw === undefined || raw === null || k.kind === 'null') return null;
  if (col.type.kind === 'int') {
    const n = Number(raw);
    if (k.kind !== 'number' || raw.trim() === '' || !Number.isFinite(n)) return null;
    return n < k.v ? -1 : n > k.v ? 1 : 0;
  }
  if (col.type.kind !== 'string' || k.kind !== 'text') return null;
  return raw < k.v ? -1 : raw > k.v ? 1 : 0;
}

const INTEGER_IDS = new Set([
  'TINYINT',
  'SMALLINT',
  'INTEGER',
  'BIGINT',
  'HUGEINT',
  'UTINYINT',
  'USMALLINT',
  'UINTEGER',
  'UBIGINT',
  'UHUGEINT',
]);
const ISO_DATE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;

/** A constant of the tree (a literal, a placeholder's value, a literal cast to text or date), or null. */
function scalarOf(n: SqlNode | undefined, params: Record<string, BoundValue>): Scalar | null {
  if (!n || typeof n !== 'object') return null;
  if (n.class === 'PARAMETER') {
    const b = params[String(n.identifier)];
    if (!b) return null;
    return b.type === 'number' ? { kind: 'number', v: b.value } : { kind: 'text', v: b.value };
  }
  if (n.class === 'CONSTANT') {
    const value = n.value as {
      type: { id: string; type_info?: { scale?: number } | null };
      is_null: boolean;
      value?: unknown;
    };
    if (value.is_null) return { kind: 'null' };
    const id = value.type.id;
    if (id === 'VARCHAR') return { kind: 'text', v: String(value.value) };
    if (INTEGER_IDS.has(id) || id === 'DOUBLE' || id === 'FLOAT') {
      const v = Number(value.value);
      return Number.isFinite(v) ? { kind: 'number', v } : null;
    }
    if (id === 'DECIMAL') {
      const v = Number(value.value) / 10 ** (value.type.type_info?.scale ?? 0);
      return Number.isFinite(v) ? { kind: 'number', v } : null;
    }
    return null;
  }
  if (n.class === 'CAST' && !n.try_cast) {
    const inner = scalarOf(n.child as SqlNode, params);
    const to = (n.cast_type as { id: string }).id;
    if (!inner || inner.kind === 'null') return inner;
    if (to === 'VARCHAR' && inner.kind === 'text') return inner;
    // A date compares with a dt text the same way only in its canonical spelling.
    if (to === 'DATE' && inner.kind === 'text' && ISO_DATE.test(inner.v)) return inner;
    if (INTEGER_IDS.has(to) && inner.kind === 'number' && Number.isInteger(inner.v)) return inner;
    return null;
  }
  return null;
}
