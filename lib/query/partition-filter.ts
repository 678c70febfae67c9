import type { PartitionDef } from '../catalog/catalog.ts';
import type { BoundValue } from './params.ts';
import type { SqlNode } from './parser.ts';

/** Partition values of one object, decoded from its key (`dt=…/hour=…/`) as the engines read them; null is hive's NULL. */
export type PartitionValues = Record<string, string | null>;

type Tri = boolean | null;
/** A partition filter: whether a partition's rows can pass (null: the partition columns alone do not decide). */
export type Pred = (p: PartitionValues) => Tri;
type Scalar = { kind: 'text'; v: string } | { kind: 'number'; v: number } | { kind: 'null' };

/**
 * Compiles a WHERE into a three-valued test over one partition's values: true or false when the partition columns
 * decide it, null when something else does (a non-partition column, a function, a subquery). Null is "may hold rows":
 * only a definite false prunes, so an unknown never hides a scan.
 */
export function compilePartitionFilter(
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
