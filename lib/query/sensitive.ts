import type { TableDef } from '../catalog/catalog.ts';
import { type Masker, maskValue, type SensitiveKind } from '../masking.ts';
import { pointerTokens } from '../registry/pointer.ts';
import type { Cell, ResultColumn } from './engine.ts';
import type { TableRead } from './guard.ts';
import type { SqlNode } from './parser.ts';

/*
 * Sensitive columns in SQL, for viewers. A viewer may select a sensitive column only as it is, as a column of the
 * result (by name, by `*`, with an alias in the outermost SELECT), and sees it masked there; any other use — in a
 * WHERE, JOIN, GROUP BY, ORDER BY, a function, a comparison, INTERSECT/EXCEPT, under another name in a subquery, as a
 * whole row — could compute on the value or test a guess, so it is refused with what to do. The parse tree decides
 * (DuckDB's parser, the same for both engines); a name is sensitive wherever it appears, which errs on refusing.
 */

/** How a query's result is masked for a viewer: output column name → kind; `safe` false when a viewer cannot run it. */
export interface ResultMasking {
  masks: Record<string, SensitiveKind>;
  /** Why a viewer cannot be shown this query's result (absent when they can). */
  refusal?: string;
}

/**
 * The sensitive columns of a table as one read sees it: event fields by the type's manifest, an imported table's by
 * its definition, raw payloads and rows whole.
 */
export function sensitiveColumns(table: TableDef, masker: Masker): Map<string, SensitiveKind> {
  const out = new Map<string, SensitiveKind>();
  if (table.eventType) {
    const fields = masker
      .fields(table.eventType)
      .map((f) => ({ path: ['data', ...pointerTokens(f.pointer)], kind: f.kind }));
    for (const c of table.columns) {
      for (const f of fields) {
        const same = c.path.length === f.path.length && c.path.every((k, i) => k === f.path[i]);
        // A struct column that holds a sensitive field deeper down is sensitive as a whole.
        const holds = c.path.length < f.path.length && c.path.every((k, i) => k === f.path[i]);
        if (same) out.set(c.name, f.kind);
        else if (holds && !out.has(c.name)) out.set(c.name, 'text');
      }
    }
    // The _raw table's `data` is the whole event.
    if (fields.length) out.set('data', 'text');
  } else if (table.rawColumns.some((c) => c.key === 'payload')) {
    // The quarantine table keeps each refused payload as received.
    out.set('payload', 'text');
  }
  // An imported table's columns, as its definition marks them; its _raw table's `data` is the whole row.
  if (table.sensitive && Object.keys(table.sensitive).length) {
    for (const [c, k] of Object.entries(table.sensitive)) out.set(c, k);
    out.set('data', 'text');
  }
  return out;
}

const nameOf = (ref: SqlNode) => ((ref.column_names as string[]) ?? []).at(-1)?.toLowerCase() ?? '';
const isQuery = (n: SqlNode) => n.type === 'SELECT_NODE' || n.type === 'SET_OPERATION_NODE';

/**
 * How a query's result is masked for a viewer, or why a viewer cannot run it (a use of a sensitive column other than
 * selecting it). Computed for every query, whoever runs it, so a viewer opening an operator's query gets masked rows
 * or a clear 403.
 */
export function resultMasking(tree: SqlNode, reads: TableRead[], masker: Masker): ResultMasking {
  const sensitive = new Map<string, SensitiveKind>();
  for (const r of reads) for (const [c, k] of sensitiveColumns(r.table, masker)) sensitive.set(c, k);
  if (!sensitive.size) return { masks: {} };
  const masks: Record<string, SensitiveKind> = {};
  for (const [c, k] of sensitive) masks[c] = k;
  const relations = new Set<string>();
  const problems: string[] = [];
  const refuse = (what: string) => {
    if (!problems.includes(what)) problems.push(what);
  };

  // Names that stand for whole rows (tables, aliases, subqueries, CTEs): a reference to one is the row as a struct.
  const gather = (n: unknown): void => {
    if (Array.isArray(n)) {
      n.forEach(gather);
      return;
    }
    if (!n || typeof n !== 'object') return;
    const node = n as SqlNode;
    if (node.type === 'BASE_TABLE' || node.type === 'SUBQUERY' || node.type === 'TABLE_FUNCTION') {
      for (const k of ['alias', 'table_name'])
        if (typeof node[k] === 'string' && node[k]) relations.add(String(node[k]).toLowerCase());
      // (A table function's column names come from its arguments, which are held to the rules themselves: UNNEST of
      // the errors, AS u(e), is fine.)
      if (node.type !== 'TABLE_FUNCTION' && ((node.column_name_alias as unknown[]) ?? []).length)
        refuse('column aliases on a table or subquery (they could rename a sensitive column)');
    }
    const ctes = ((node.cte_map as SqlNode | undefined)?.map ?? []) as {
      key: string;
      value: { aliases?: unknown[] };
    }[];
    for (const c of ctes) {
      relations.add(c.key.toLowerCase());
      if ((c.value.aliases ?? []).length) refuse('column aliases on a WITH query');
    }
    for (const v of Object.values(node)) if (v && typeof v === 'object') gather(v);
  };
  gather(tree);

  /** Any expression outside a select list's own entries: no sensitive name, whole row, star or position may appear. */
  const expression = (n: unknown): void => {
    if (Array.isArray(n)) {
      n.forEach(expression);
      return;
    }
    if (!n || typeof n !== 'object') return;
    const node = n as SqlNode;
    if (isQuery(node)) {
      query(node, false);
      return;
    }
    if (node.class === 'COLUMN_REF') {
      const names = (node.column_names as string[]) ?? [];
      const name = nameOf(node);
      if (sensitive.has(name)) refuse(`${name} used in an expression, a filter, a join, a grouping or an order`);
      else if (names.length === 1 && relations.has(name)) refuse(`the whole row of ${name}`);
      return;
    }
    if (node.class === 'STAR') {
      refuse('* or COLUMNS(…) inside an expression');
      return;
    }
    // A subquery as a value (scalar, IN, EXISTS, ANY): whatever it selects flows into an expression. (A subquery in
    // FROM is a table: its columns keep their names, and the outer query is held to the same rules.)
    if (node.class === 'SUBQUERY' && selects((node.subquery as SqlNode | undefined)?.node as SqlNode))
      refuse('a sensitive column or * in a subquery used as a value');
    if (node.class === 'POSITIONAL_REFERENCE') {
      refuse('a column by position (#n)');
      return;
    }
    for (const [k, v] of Object.entries(node)) if (k !== 'query_location' && v && typeof v === 'object') expression(v);
  };

  /** A query node: its select list's entries may name sensitive columns plainly; everything else is an expression. */
  const query = (node: SqlNode, outermost: boolean): void => {
    if (node.type === 'SET_OPERATION_NODE') {
      const kind = String(node.setop_type ?? '');
      const compares = kind === 'INTERSECT' || kind === 'EXCEPT';
      for (const side of ['left', 'right']) {
        const child = node[side] as SqlNode | undefined;
        if (!child) continue;
        if (compares && selects(child)) refuse(`a sensitive column under ${kind} (it compares values)`);
        query(child, outermost);
      }
      for (const [k, v] of Object.entries(node))
        if (k !== 'left' && k !== 'right' && v && typeof v === 'object') expression(v);
      return;
    }
    if (node.type === 'CTE_NODE' || node.type === 'RECURSIVE_CTE_NODE') {
      for (const v of Object.values(node)) if (v && typeof v === 'object') expression(v);
      return;
    }
    for (const entry of (node.select_list as SqlNode[]) ?? []) {
      const alias = String(entry.alias ?? '').toLowerCase();
      if (entry.class === 'COLUMN_REF' && sensitive.has(nameOf(entry))) {
        const name = nameOf(entry);
        if (outermost) {
          if (alias) masks[alias] = sensitive.get(name)!;
        } else if (alias && alias !== name) refuse(`${name} renamed in a subquery (as ${alias})`);
        continue;
      }
      if (entry.class === 'STAR') {
        for (const r of (entry.rename_list as { key?: { column?: string }; value?: string }[]) ?? []) {
          const from = String(r.key?.column ?? '').toLowerCase();
          if (!sensitive.has(from)) continue;
          if (outermost && r.value) masks[String(r.value).toLowerCase()] = sensitive.get(from)!;
          else refuse(`${from} renamed in a subquery`);
        }
        expression(entry.replace_list);
        expression(entry.expr);
        continue;
      }
      expression(entry);
    }
    for (const [k, v] of Object.entries(node)) if (k !== 'select_list' && v && typeof v === 'object') expression(v);
  };
  const selects = (n: SqlNode): boolean => {
    let found = false;
    const look = (x: unknown): void => {
      if (found || !x || typeof x !== 'object') return;
      if (Array.isArray(x)) {
        x.forEach(look);
        return;
      }
      const node = x as SqlNode;
      if ((node.class === 'COLUMN_REF' && sensitive.has(nameOf(node))) || node.class === 'STAR') found = true;
      else for (const v of Object.values(node)) look(v);
    };
    look(n.select_list ?? n);
    return found;
  };
  query(tree, true);
  return problems.length
    ? {
        masks,
        refusal: `A viewer sees ${[...sensitive.keys()].sort().join(', ')} masked, so can only select them as they are; this query uses ${problems.join('; ')}. Select the column plainly, filter on other columns, or ask an operator to run it.`,
      }
    : { masks };
}

/** Whether an output column is one a viewer sees masked. */
export function masksColumn(masks: Record<string, SensitiveKind>, column: string): boolean {
  return maskOf(masks, column) !== undefined;
}

/** Whether an output column is masked: its name, or its name with the suffix engines add to a repeated name. */
function maskOf(masks: Record<string, SensitiveKind>, column: string): SensitiveKind | undefined {
  const name = column.toLowerCase();
  return masks[name] ?? masks[name.replace(/(_\d+|:\d+)$/, '')];
}

/** A result page's rows with the masked columns masked (a copy). */
export function maskRows(masks: Record<string, SensitiveKind>, columns: ResultColumn[], rows: Cell[][]): Cell[][] {
  const kinds = columns.map((c) => maskOf(masks, c.name));
  if (!kinds.some(Boolean)) return rows;
  return rows.map((r) =>
    r.map((v, i) => {
      const k = kinds[i];
      if (!k || v === null) return v;
      return maskValue(k, typeof v === 'object' ? JSON.stringify(v) : v) as Cell;
    }),
  );
}
