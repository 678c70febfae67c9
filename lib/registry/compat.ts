import { isDeepStrictEqual } from 'node:util';
import { TributaryError } from '../errors.ts';
import { compilePointer, encodePointer } from './pointer.ts';

/*
 * Schema compatibility for JSON Schema draft 2020-12, decided structurally.
 *
 * A schema stands for the set of instances it accepts. A change between two versions is, at the place it happens,
 * a *widening* (the new version accepts everything the old one did, and more), a *narrowing* (it accepts less), or
 * *both* (each accepts something the other refuses, or the checker cannot tell which: a changed `pattern`, a keyword
 * it does not analyse). The modes are Confluent Schema Registry's, read as set inclusion:
 *
 * - BACKWARD (the default): what was written under the old version is still valid under the new one — the events in
 *   the lake and on the stream, the quarantined records to re-drive. Narrowings break it.
 * - FORWARD: what is written under the new version is valid under the old one, for readers not yet upgraded.
 *   Widenings break it.
 * - FULL: both. NONE: nothing is checked. `_TRANSITIVE`: against every earlier version, not only the latest.
 *
 * Content models decide what adding or removing a property means. A *closed* object (`additionalProperties: false`, or
 * `unevaluatedProperties: false` where nothing else evaluates properties) refused the property before, so adding it
 * optional is a widening. An *open* one accepted it with any value: under the **strict** policy constraining it is a
 * narrowing (an old instance could have carried anything there), which is why Confluent rejects "adding an optional
 * field" to an open model; under the **lenient** policy (the default) an undeclared property of an open model is taken
 * as one producers do not send, so adding or removing it declared changes nothing — and the check's evidence (real
 * lake events and quarantined records validated against the candidate) shows whether that holds.
 *
 * Every change carries the JSON pointer of the keyword in the schemas (through `$ref`s, the path an instance takes),
 * its kind, its direction, what it means and what to do instead when it breaks.
 */

export const COMPAT_MODES = [
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
  'NONE',
] as const;
export type CompatMode = (typeof COMPAT_MODES)[number];
export const DEFAULT_COMPAT_MODE: CompatMode = 'BACKWARD';

export type ContentPolicy = 'strict' | 'lenient';

/** `none`: a change no mode cares about (an annotation; an open model's property under the lenient policy). */
export type Direction = 'widen' | 'narrow' | 'both' | 'none';

export interface SchemaChange {
  /** JSON pointer of the changed keyword (or subschema), in the schemas' own structure. */
  path: string;
  kind: string;
  direction: Direction;
  message: string;
  /** What to do instead, for the modes it breaks. */
  fix?: string;
}

export class CompatError extends TributaryError {
  constructor(message: string) {
    super('invalid_mode', message, { status: 400 });
  }
}

/** A mode from user input (case-insensitive), or a CompatError naming the modes. */
export function parseMode(value: string): CompatMode {
  const m = value.trim().toUpperCase();
  if ((COMPAT_MODES as readonly string[]).includes(m)) return m as CompatMode;
  throw new CompatError(`Unknown compatibility mode ${JSON.stringify(value)}; modes: ${COMPAT_MODES.join(', ')}.`);
}

/** Whether a change in `direction` breaks `mode`. */
export function breaks(direction: Direction, mode: CompatMode): boolean {
  if (direction === 'none' || mode === 'NONE') return false;
  if (direction === 'both') return true;
  if (mode.startsWith('FULL')) return true;
  return mode.startsWith('BACKWARD') ? direction === 'narrow' : direction === 'widen';
}

export const isTransitive = (mode: CompatMode): boolean => mode.endsWith('_TRANSITIVE');

type Schema = boolean | Record<string, unknown>;
type Obj = Record<string, unknown>;

const ANNOTATIONS = new Set([
  '$schema',
  '$id',
  '$anchor',
  '$dynamicAnchor',
  '$comment',
  '$defs',
  'definitions',
  'title',
  'description',
  'default',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
  '$vocabulary',
  'contentEncoding',
  'contentMediaType',
  'contentSchema',
]);

/** Keywords compared below; any other keyword that changes is reported as not analysed (both directions). */
const ANALYSED = new Set([
  'type',
  'enum',
  'const',
  'minimum',
  'exclusiveMinimum',
  'maximum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'pattern',
  'format',
  'uniqueItems',
  'required',
  'properties',
  'additionalProperties',
  'unevaluatedProperties',
  'patternProperties',
  'prefixItems',
  'items',
  'anyOf',
  'oneOf',
  'allOf',
  '$ref',
]);

const ALL_TYPES = ['array', 'boolean', 'integer', 'null', 'number', 'object', 'string'];
/** Marks a resolved `$ref` whose siblings could not be merged into its target. */
const MERGE_REFUSED = '\0merge-refused';

/** Keywords that apply subschemas in place, beside which `unevaluatedProperties` sees more than `properties`. */
const IN_PLACE = ['allOf', 'anyOf', 'oneOf', 'if', 'then', 'else', 'dependentSchemas', '$ref', '$dynamicRef', 'not'];
/** Keywords whose meaning depends on the others of the same schema object (a `$ref`'s siblings cannot be merged). */
const OBJECT_BOUND = [
  'properties',
  'patternProperties',
  'additionalProperties',
  'unevaluatedProperties',
  'prefixItems',
  'items',
  'unevaluatedItems',
];

const hasOwn = (o: unknown, k: string): boolean => !!o && typeof o === 'object' && Object.hasOwn(o, k);

class Comparison {
  readonly changes: SchemaChange[] = [];
  /** `$ref` places already compared (the nodes as written): each is compared once, which also ends recursion. */
  readonly #done = new Set<string>();
  /** Whether a local `$ref` means something else in the new root than in the old one (following refs inside it). */
  readonly #changedRef = new Map<string, boolean>();

  constructor(
    readonly oldRoot: Schema,
    readonly newRoot: Schema,
    readonly policy: ContentPolicy,
  ) {}

  add(path: string, kind: string, direction: Direction, message: string, fix?: string): void {
    this.changes.push({ path, kind, direction, message, ...(fix ? { fix } : {}) });
  }

  /** The node a local `$ref` points at in `root`, or undefined. */
  static target(root: Schema, ref: string): unknown {
    if (ref === '#') return root;
    try {
      return compilePointer(decodeURIComponent(ref.slice(1)))(root);
    } catch {
      return undefined;
    }
  }

  /** Whether `ref` (a local one) reaches different schemas from the two roots. */
  refChanged(ref: string): boolean {
    const known = this.#changedRef.get(ref);
    if (known !== undefined) return known;
    // Assumed unchanged while being decided, so a cycle of refs ends.
    this.#changedRef.set(ref, false);
    const a = Comparison.target(this.oldRoot, ref);
    const b = Comparison.target(this.newRoot, ref);
    const changed = !isDeepStrictEqual(a, b) || this.refsChanged(a);
    this.#changedRef.set(ref, changed);
    return changed;
  }

  /** Whether any local `$ref` inside `node` reaches different schemas from the two roots. */
  refsChanged(node: unknown): boolean {
    if (!node || typeof node !== 'object') return false;
    if (Array.isArray(node)) return node.some((x) => this.refsChanged(x));
    const o = node as Obj;
    if (typeof o.$ref === 'string' && o.$ref.startsWith('#') && this.refChanged(o.$ref)) return true;
    return Object.entries(o).some(([k, v]) => k !== '$defs' && k !== 'definitions' && this.refsChanged(v));
  }

  /** Two subschemas that accept the same: written alike, and every `$ref` in them meaning the same in both roots. */
  same(a: unknown, b: unknown): boolean {
    return isDeepStrictEqual(a, b) && !this.refsChanged(a);
  }

  /**
   * Follows a local `$ref` (`#/...` or `#`), keeping the keywords beside it (2020-12 applies both); undefined (the
   * change reported) for a reference it cannot follow, whose place is then not compared further.
   */
  resolve(s: Schema, root: Schema, path: string, seen: Set<string> = new Set()): Schema | undefined {
    if (typeof s !== 'object' || typeof s.$ref !== 'string') return s;
    const ref = s.$ref;
    if (!ref.startsWith('#')) {
      this.add(
        path,
        'ref-unresolved',
        'both',
        `$ref ${JSON.stringify(ref)} is not a reference into the same schema.`,
        'Inline the referenced schema or put it under $defs.',
      );
      return undefined;
    }
    if (seen.has(ref)) return true;
    seen.add(ref);
    const target = Comparison.target(root, ref);
    if (target === undefined || (typeof target !== 'boolean' && (typeof target !== 'object' || target === null))) {
      this.add(path, 'ref-unresolved', 'both', `$ref ${JSON.stringify(ref)} points at nothing.`, 'Fix the reference.');
      return undefined;
    }
    const { $ref: _ref, ...rest } = s;
    const resolved = this.resolve(target as Schema, root, path, seen);
    const siblings = Object.keys(rest).filter((k) => !ANNOTATIONS.has(k));
    if (resolved === undefined || !siblings.length) return resolved;
    if (typeof resolved === 'boolean') return resolved ? rest : false;
    // Keywords beside a $ref apply on top of its target's. Merged only when that is the same thing: no keyword on
    // both, none whose meaning depends on the rest of its object.
    const both = siblings.filter((k) => hasOwn(resolved, k));
    // additionalProperties (and its kin) sees the properties of its own object only: split across the two, merging
    // would change what it refuses.
    const bound =
      siblings.some((k) => OBJECT_BOUND.includes(k)) && Object.keys(resolved).some((k) => OBJECT_BOUND.includes(k));
    if (both.length || bound) return { [MERGE_REFUSED]: true, ...s };
    return { ...resolved, ...rest };
  }

  compare(oldS: Schema, newS: Schema, path: string[]): void {
    const at = encodePointer(path);
    const isSchema = (x: unknown) => typeof x === 'boolean' || (!!x && typeof x === 'object' && !Array.isArray(x));
    if (!isSchema(oldS) || !isSchema(newS)) {
      if (!isDeepStrictEqual(oldS, newS))
        this.add(
          at,
          'not-a-schema',
          'both',
          'A subschema here is not a schema (an object or a boolean).',
          'Fix the schema.',
        );
      return;
    }
    if (this.same(oldS, newS)) return;
    const isRef = (x: Schema) => typeof x === 'object' && typeof x.$ref === 'string';
    if (isRef(oldS) || isRef(newS)) {
      // A `$ref` place compared once (by its refs and the keywords beside them): a recursive schema ends, and a
      // definition shared by many places is reported once.
      const bare = (x: Schema) =>
        typeof x === 'boolean'
          ? x
          : Object.fromEntries(Object.entries(x).filter(([k]) => k === '$ref' || !ANNOTATIONS.has(k)));
      const key = `${JSON.stringify(bare(oldS))}\0${JSON.stringify(bare(newS))}`;
      if (this.#done.has(key)) return;
      this.#done.add(key);
    }
    const o = this.resolve(oldS, this.oldRoot, at);
    const n = this.resolve(newS, this.newRoot, at);
    if (o === undefined || n === undefined) return;
    if (hasOwn(o, MERGE_REFUSED) || hasOwn(n, MERGE_REFUSED)) {
      this.add(
        at,
        'ref-siblings-not-analysed',
        'both',
        'A $ref here has keywords beside it that its target also has (or that depend on the rest of the object); how they combine is not analysed, so the change is taken as breaking every mode.',
        'Move the keywords into the referenced definition, or wrap them: {"allOf": [{"$ref": …}, {…}]}.',
      );
      return;
    }
    if (isDeepStrictEqual(o, n) && !this.refsChanged(o)) return;
    if (o === false || n === false) {
      if (o === false)
        this.add(at, 'accepts-something', 'widen', 'The place accepted nothing before and accepts values now.');
      else
        this.add(
          at,
          'accepts-nothing',
          'narrow',
          'The place accepts nothing now (schema false).',
          'Keep it optional with a schema instead of forbidding it.',
        );
      return;
    }
    const a: Obj = o === true ? {} : o;
    const b: Obj = n === true ? {} : n;
    this.types(a, b, path);
    this.enums(a, b, path);
    this.lower(a, b, path);
    this.upper(a, b, path);
    this.multipleOf(a, b, path);
    for (const [k, dir] of [
      ['minLength', 1],
      ['minItems', 1],
      ['minProperties', 1],
      ['maxLength', -1],
      ['maxItems', -1],
      ['maxProperties', -1],
    ] as const)
      this.count(a, b, path, k, dir);
    this.added(a, b, path, 'pattern', 'pattern-added', 'pattern-removed', 'pattern-changed', 'a regular expression');
    this.added(a, b, path, 'format', 'format-added', 'format-removed', 'format-changed', 'a format');
    if (Boolean(a.uniqueItems) !== Boolean(b.uniqueItems))
      b.uniqueItems
        ? this.add(
            encodePointer([...path, 'uniqueItems']),
            'unique-items-added',
            'narrow',
            'Array items must be unique now.',
            'Leave duplicates allowed and drop them downstream.',
          )
        : this.add(
            encodePointer([...path, 'uniqueItems']),
            'unique-items-removed',
            'widen',
            'Array items may repeat now.',
          );
    this.objects(a, b, path);
    this.arrays(a, b, path);
    for (const k of ['anyOf', 'oneOf', 'allOf'] as const) this.combinator(a, b, path, k);
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (ANNOTATIONS.has(k) || ANALYSED.has(k)) continue;
      if (!this.same(a[k], b[k]))
        this.add(
          encodePointer([...path, k]),
          'keyword-not-analysed',
          'both',
          `"${k}" changed; the checker does not analyse it, so it is taken as breaking every mode.`,
          'Check it against real data (the evidence below), or register with mode NONE if you are sure.',
        );
    }
  }

  types(a: Obj, b: Obj, path: string[]): void {
    const set = (s: Obj): Set<string> | undefined => {
      if (s.type === undefined) return undefined;
      const t = new Set(Array.isArray(s.type) ? (s.type as string[]) : [s.type as string]);
      if (t.has('number')) t.add('integer');
      return t;
    };
    const o = set(a) ?? new Set(ALL_TYPES);
    const n = set(b) ?? new Set(ALL_TYPES);
    const oInN = [...o].every((t) => n.has(t));
    const nInO = [...n].every((t) => o.has(t));
    if (oInN && nInO) return;
    const p = encodePointer([...path, 'type']);
    const names = (s: Set<string>) =>
      [...s]
        .filter((t) => !(t === 'integer' && s.has('number')))
        .sort()
        .join(', ');
    if (oInN)
      this.add(
        p,
        'type-widened',
        'widen',
        `Type widened from ${names(o)} to ${names(n)}.`,
        'Readers must accept the new types.',
      );
    else if (nInO)
      this.add(
        p,
        'type-narrowed',
        'narrow',
        `Type narrowed from ${names(o)} to ${names(n)}: values of the other types written before fail now.`,
        'Keep the old types and add the new ones (a union), then narrow once no old data is read.',
      );
    else
      this.add(
        p,
        'type-changed',
        'both',
        `Type changed from ${names(o)} to ${names(n)}.`,
        'Add a new field with the new type and keep the old one, or accept both types.',
      );
  }

  enums(a: Obj, b: Obj, path: string[]) {
    const vals = (s: Obj): unknown[] | undefined =>
      s.const !== undefined ? [s.const] : Array.isArray(s.enum) ? (s.enum as unknown[]) : undefined;
    const o = vals(a);
    const n = vals(b);
    if (!o && !n) return;
    const p = encodePointer([...path, b.const !== undefined || a.const !== undefined ? 'const' : 'enum']);
    if (!n) return this.add(p, 'enum-removed', 'widen', 'Any value is allowed now instead of a fixed list.');
    if (!o)
      return this.add(
        p,
        'enum-added',
        'narrow',
        'Only a fixed list of values is allowed now.',
        'Validate the list downstream, or use FORWARD if every producer already sends only these.',
      );
    const has = (list: unknown[], v: unknown) => list.some((x) => isDeepStrictEqual(x, v));
    const gone = o.filter((v) => !has(n, v));
    const extra = n.filter((v) => !has(o, v));
    if (!gone.length && !extra.length) return;
    const show = (vs: unknown[]) => vs.map((v) => JSON.stringify(v)).join(', ');
    if (!gone.length)
      return this.add(
        p,
        'enum-extended',
        'widen',
        `Values added: ${show(extra)}.`,
        'Readers must handle the new values.',
      );
    if (!extra.length)
      return this.add(
        p,
        'enum-reduced',
        'narrow',
        `Values removed: ${show(gone)}; data holding them fails now.`,
        'Keep the values (deprecate them in the description) until no data holds them.',
      );
    this.add(
      p,
      'enum-changed',
      'both',
      `Values removed: ${show(gone)}; added: ${show(extra)}.`,
      'Add values without removing any.',
    );
  }

  /** The effective lower (or upper) numeric bound: value and whether it is exclusive. */
  static bound(s: Obj, inclusive: string, exclusive: string): { v: number; ex: boolean } | undefined {
    const i = typeof s[inclusive] === 'number' ? (s[inclusive] as number) : undefined;
    const e = typeof s[exclusive] === 'number' ? (s[exclusive] as number) : undefined;
    if (i === undefined && e === undefined) return undefined;
    if (i === undefined) return { v: e!, ex: true };
    if (e === undefined) return { v: i, ex: false };
    const lower = inclusive === 'minimum';
    // The stricter of the two.
    if (e === i) return { v: i, ex: true };
    return (lower ? e > i : e < i) ? { v: e, ex: true } : { v: i, ex: false };
  }

  lower(a: Obj, b: Obj, path: string[]): void {
    this.#bound(a, b, path, 'minimum', 'exclusiveMinimum', 1);
  }

  upper(a: Obj, b: Obj, path: string[]): void {
    this.#bound(a, b, path, 'maximum', 'exclusiveMaximum', -1);
  }

  /** `sign` 1 for a lower bound (higher is tighter), -1 for an upper one. */
  #bound(a: Obj, b: Obj, path: string[], inc: string, exc: string, sign: 1 | -1) {
    const o = Comparison.bound(a, inc, exc);
    const n = Comparison.bound(b, inc, exc);
    const key =
      b[exc] !== undefined && b[inc] === undefined
        ? exc
        : a[exc] !== undefined && a[inc] === undefined && !n
          ? exc
          : inc;
    const p = encodePointer([...path, key]);
    const word = sign === 1 ? 'lower' : 'upper';
    const text = (x: { v: number; ex: boolean }) =>
      `${x.ex ? (sign === 1 ? '>' : '<') : sign === 1 ? '>=' : '<='} ${x.v}`;
    if (!o && !n) return;
    if (!n) return this.add(p, `${inc}-removed`, 'widen', `The ${word} bound ${text(o!)} is gone.`);
    if (!o)
      return this.add(
        p,
        `${inc}-added`,
        'narrow',
        `A ${word} bound ${text(n)} is new; values past it written before fail now.`,
        'Check the data against it first (the evidence), or flag such values downstream instead.',
      );
    // Tighter: the new bound excludes some value the old one allowed.
    const cmp = sign * (n.v - o.v) || (n.ex === o.ex ? 0 : n.ex ? 1 : -1);
    if (cmp === 0) return;
    if (cmp > 0)
      this.add(
        p,
        `${inc}-tightened`,
        'narrow',
        `The ${word} bound tightened from ${text(o)} to ${text(n)}.`,
        'Keep the old bound until no data past the new one is read.',
      );
    else this.add(p, `${inc}-relaxed`, 'widen', `The ${word} bound relaxed from ${text(o)} to ${text(n)}.`);
  }

  multipleOf(a: Obj, b: Obj, path: string[]) {
    const o = typeof a.multipleOf === 'number' ? a.multipleOf : undefined;
    const n = typeof b.multipleOf === 'number' ? b.multipleOf : undefined;
    if (o === n) return;
    const p = encodePointer([...path, 'multipleOf']);
    const divides = (x: number, y: number) => Number.isInteger(Number((y / x).toPrecision(12)));
    if (n === undefined)
      return this.add(p, 'multiple-of-removed', 'widen', `Values need not be multiples of ${o} now.`);
    if (o === undefined)
      return this.add(
        p,
        'multiple-of-added',
        'narrow',
        `Values must be multiples of ${n} now.`,
        'Round downstream instead.',
      );
    if (divides(n, o)) return this.add(p, 'multiple-of-relaxed', 'widen', `multipleOf relaxed from ${o} to ${n}.`);
    if (divides(o, n))
      return this.add(
        p,
        'multiple-of-tightened',
        'narrow',
        `multipleOf tightened from ${o} to ${n}.`,
        'Keep the old step.',
      );
    this.add(p, 'multiple-of-changed', 'both', `multipleOf changed from ${o} to ${n}.`, 'Keep a step both divide.');
  }

  /** A count bound: `dir` 1 for a minimum (higher is tighter), -1 for a maximum. */
  count(a: Obj, b: Obj, path: string[], k: string, dir: 1 | -1): void {
    const o = typeof a[k] === 'number' ? (a[k] as number) : dir === 1 ? 0 : Number.POSITIVE_INFINITY;
    const n = typeof b[k] === 'number' ? (b[k] as number) : dir === 1 ? 0 : Number.POSITIVE_INFINITY;
    if (o === n) return;
    const p = encodePointer([...path, k]);
    const show = (x: number) => (Number.isFinite(x) ? String(x) : 'none');
    if (dir * (n - o) > 0)
      this.add(
        p,
        `${k}-tightened`,
        'narrow',
        `${k} tightened from ${show(o)} to ${show(n)}; data past it written before fails now.`,
        'Check the data against it first (the evidence), or flag such values downstream.',
      );
    else this.add(p, `${k}-relaxed`, 'widen', `${k} relaxed from ${show(o)} to ${show(n)}.`);
  }

  /** A keyword whose values are not ordered: added narrows, removed widens, changed is both. */
  added(a: Obj, b: Obj, path: string[], k: string, add: string, remove: string, change: string, what: string) {
    if (a[k] === b[k]) return;
    const p = encodePointer([...path, k]);
    if (b[k] === undefined) return this.add(p, remove, 'widen', `${what} (${JSON.stringify(a[k])}) no longer applies.`);
    if (a[k] === undefined)
      return this.add(
        p,
        add,
        'narrow',
        `${what} (${JSON.stringify(b[k])}) applies now; values not matching it written before fail.`,
        'Check the data against it first (the evidence below).',
      );
    this.add(
      p,
      change,
      'both',
      `${what} changed from ${JSON.stringify(a[k])} to ${JSON.stringify(b[k])}; whether one includes the other is not decided.`,
      'Check the data against it (the evidence below), or keep the old one.',
    );
  }

  /** What an object schema says about a property it does not declare: its schema, and whether that is by default. */
  static undeclared(s: Obj, name: string): { schema: Schema; open: boolean } {
    if (s.patternProperties && typeof s.patternProperties === 'object')
      for (const [re, sub] of Object.entries(s.patternProperties as Obj))
        if (safeTest(re, name)) return { schema: sub as Schema, open: false };
    const rest = s.additionalProperties ?? s.unevaluatedProperties;
    if (rest === undefined || rest === true || isEmptySchema(rest)) return { schema: true, open: true };
    return { schema: rest as Schema, open: false };
  }

  /**
   * An object whose undeclared properties `unevaluatedProperties` decides beside subschemas applied in place
   * (`allOf`, `$ref`, `if`, …): those may declare properties too, which the checker does not follow.
   */
  static unevaluatedBeside(s: Obj): boolean {
    return (
      s.additionalProperties === undefined &&
      s.unevaluatedProperties !== undefined &&
      IN_PLACE.some((k) => hasOwn(s, k))
    );
  }

  objects(a: Obj, b: Obj, path: string[]): void {
    const req = (s: Obj) => new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
    const oReq = req(a);
    const nReq = req(b);
    for (const name of nReq)
      if (!oReq.has(name))
        this.add(
          encodePointer([...path, 'required']),
          'required-added',
          'narrow',
          `"${name}" is required now: data written without it fails.`,
          `Add "${name}" as optional (readers fill a default), or use FORWARD if every producer already sends it.`,
        );
    for (const name of oReq)
      if (!nReq.has(name))
        this.add(
          encodePointer([...path, 'required']),
          'required-removed',
          'widen',
          `"${name}" is optional now.`,
          'Readers must cope with it missing.',
        );

    const props = (s: Obj) => (s.properties && typeof s.properties === 'object' ? (s.properties as Obj) : {});
    const op = props(a);
    const np = props(b);
    const unevaluated = Comparison.unevaluatedBeside(a) || Comparison.unevaluatedBeside(b);
    for (const name of new Set([...Object.keys(op), ...Object.keys(np)])) {
      const where = [...path, 'properties', name];
      if (Object.hasOwn(op, name) && Object.hasOwn(np, name)) {
        this.compare(op[name] as Schema, np[name] as Schema, where);
        continue;
      }
      if (unevaluated) {
        this.add(
          encodePointer(where),
          'unevaluated-content-not-analysed',
          'both',
          `"${name}" was ${Object.hasOwn(np, name) ? 'added' : 'removed'} where unevaluatedProperties decides beside subschemas that may declare properties too; that is not analysed, so it is taken as breaking every mode.`,
          'Use additionalProperties, or declare the properties in one place.',
        );
        continue;
      }
      if (Object.hasOwn(np, name)) {
        const before = Comparison.undeclared(a, name);
        if (before.schema === false) {
          this.add(
            encodePointer(where),
            'property-added-to-closed-content',
            'widen',
            `"${name}" is a new property; the closed model refused it before.`,
            'Readers must accept the new property.',
          );
        } else if (before.open && this.policy === 'lenient') {
          this.add(
            encodePointer(where),
            'property-added-to-open-content',
            'none',
            `"${name}" is a new property of an open model; taken as one producers did not send before (lenient policy; the evidence shows whether any did).`,
          );
        } else this.compare(before.schema, np[name] as Schema, where);
      } else {
        const after = Comparison.undeclared(b, name);
        if (after.schema === false) {
          this.add(
            encodePointer(where),
            'property-removed-from-closed-content',
            'narrow',
            `"${name}" was removed from a closed model: data carrying it fails now.`,
            'Keep it declared (deprecated) until no data carries it, or open the model.',
          );
        } else if (after.open && this.policy === 'lenient') {
          this.add(
            encodePointer(where),
            'property-removed-from-open-content',
            'none',
            `"${name}" is no longer declared; the open model still accepts it (lenient policy).`,
          );
        } else this.compare(op[name] as Schema, after.schema, where);
      }
    }
    // The rest: properties neither declares.
    const rest = (s: Obj): { k: string; v: Schema } =>
      s.additionalProperties !== undefined
        ? { k: 'additionalProperties', v: s.additionalProperties as Schema }
        : { k: 'unevaluatedProperties', v: (s.unevaluatedProperties ?? true) as Schema };
    const ro = rest(a);
    const rn = rest(b);
    if (!this.same(ro.v, rn.v)) {
      const p = [
        ...path,
        b.additionalProperties !== undefined || a.additionalProperties !== undefined ? 'additionalProperties' : rn.k,
      ];
      if (rn.v === false && ro.v !== false)
        this.add(
          encodePointer(p),
          'content-model-closed',
          'narrow',
          'The object is closed now: undeclared properties written before fail.',
          'Declare every property the data carries first (the evidence lists failures), or keep the model open.',
        );
      else if (ro.v === false && rn.v !== false)
        this.add(encodePointer(p), 'content-model-opened', 'widen', 'The object accepts undeclared properties now.');
      else this.compare(ro.v, rn.v, p);
    }
    const pp = (s: Obj) =>
      s.patternProperties && typeof s.patternProperties === 'object' ? (s.patternProperties as Obj) : {};
    const opp = pp(a);
    const npp = pp(b);
    for (const re of new Set([...Object.keys(opp), ...Object.keys(npp)])) {
      const where = [...path, 'patternProperties', re];
      if (Object.hasOwn(opp, re) && Object.hasOwn(npp, re)) this.compare(opp[re] as Schema, npp[re] as Schema, where);
      else
        this.add(
          encodePointer(where),
          Object.hasOwn(npp, re) ? 'pattern-property-added' : 'pattern-property-removed',
          'both',
          `Pattern property ${JSON.stringify(re)} ${Object.hasOwn(npp, re) ? 'added' : 'removed'}; which names it covers against the rest is not decided.`,
          'Declare the properties by name instead.',
        );
    }
  }

  arrays(a: Obj, b: Obj, path: string[]): void {
    const prefix = (s: Obj) => (Array.isArray(s.prefixItems) ? (s.prefixItems as Schema[]) : []);
    const op = prefix(a);
    const np = prefix(b);
    const oRest = (a.items ?? true) as Schema;
    const nRest = (b.items ?? true) as Schema;
    for (let i = 0; i < Math.max(op.length, np.length); i++)
      this.compare(op[i] ?? oRest, np[i] ?? nRest, [...path, 'prefixItems', String(i)]);
    if (!this.same(oRest, nRest)) this.compare(oRest, nRest, [...path, 'items']);
  }

  combinator(a: Obj, b: Obj, path: string[], k: 'anyOf' | 'oneOf' | 'allOf') {
    const o = Array.isArray(a[k]) ? (a[k] as Schema[]) : undefined;
    const n = Array.isArray(b[k]) ? (b[k] as Schema[]) : undefined;
    if (!o && !n) return;
    const p = encodePointer([...path, k]);
    if (!o || !n) {
      // allOf added narrows; anyOf/oneOf added narrows too (the instance must match a branch). Removed widens.
      if (!o) this.add(p, `${k}-added`, 'narrow', `"${k}" applies now.`, 'Check the data against it first.');
      else this.add(p, `${k}-removed`, 'widen', `"${k}" no longer applies.`);
      return;
    }
    if (k === 'oneOf') {
      // oneOf accepts what matches exactly one alternative: widening one can make a value match two, removing one can
      // make a value that matched two match one. Nothing about it follows from the alternatives alone.
      if (!this.same(o, n))
        this.add(
          p,
          'oneof-changed',
          'both',
          'The alternatives of oneOf changed; a value matches exactly one of them, so no change to them is safe by itself.',
          'Use anyOf, or make the alternatives exclusive (a const discriminator in each) and check against real data.',
        );
      return;
    }
    const has = (list: Schema[], s: Schema) => list.some((x) => this.same(x, s));
    if (o.length === n.length && !o.every((x) => has(n, x))) {
      o.forEach((x, i) => {
        this.compare(x, n[i]!, [...path, k, String(i)]);
      });
      return;
    }
    const added = n.filter((s) => !has(o, s)).length;
    const removed = o.filter((s) => !has(n, s)).length;
    if (k === 'allOf') {
      if (added)
        this.add(
          p,
          'allof-branch-added',
          'narrow',
          `${added} more schema(s) must hold now.`,
          'Check the data against them first.',
        );
      if (removed) this.add(p, 'allof-branch-removed', 'widen', `${removed} schema(s) no longer need to hold.`);
      return;
    }
    if (added)
      this.add(
        p,
        'anyof-branch-added',
        'widen',
        `${added} more alternative(s) accepted.`,
        'Readers must handle the new alternatives.',
      );
    if (removed)
      this.add(
        p,
        'anyof-branch-removed',
        'narrow',
        `${removed} alternative(s) no longer accepted; data of them fails now.`,
        'Keep the alternatives until no data of them is read.',
      );
  }
}

function isEmptySchema(s: unknown): boolean {
  return !!s && typeof s === 'object' && !Array.isArray(s) && Object.keys(s).every((k) => ANNOTATIONS.has(k));
}

function safeTest(re: string, s: string): boolean {
  try {
    return new RegExp(re, 'u').test(s);
  } catch {
    return false;
  }
}

/**
 * Every change from `oldSchema` to `newSchema` (draft 2020-12), classified (see the module comment). Pure and
 * synchronous.
 */
export function diffSchemas(
  oldSchema: Schema,
  newSchema: Schema,
  options: { policy?: ContentPolicy } = {},
): SchemaChange[] {
  const c = new Comparison(oldSchema, newSchema, options.policy ?? 'lenient');
  c.compare(oldSchema, newSchema, []);
  return c.changes;
}

export interface CheckedChange extends SchemaChange {
  breaking: boolean;
  /** The earlier version this change is against. */
  against: number;
}

export interface CompatVerdict {
  compatible: boolean;
  mode: CompatMode;
  policy: ContentPolicy;
  /** Changes against the latest version, and for transitive modes against every earlier one. */
  changes: CheckedChange[];
}

/**
 * Checks a candidate against a type's versions (oldest first, numbered from 1) under `mode`: the latest only, or
 * every one for a transitive mode.
 */
export function checkCompatibility(
  candidate: Schema,
  versions: { v: number; schema: Schema }[],
  mode: CompatMode,
  options: { policy?: ContentPolicy } = {},
): CompatVerdict {
  const policy = options.policy ?? 'lenient';
  const against = mode === 'NONE' ? [] : isTransitive(mode) ? versions : versions.slice(-1);
  const changes: CheckedChange[] = [];
  for (const { v, schema } of against)
    for (const ch of diffSchemas(schema, candidate, { policy }))
      changes.push({ ...ch, breaking: breaks(ch.direction, mode), against: v });
  return { compatible: !changes.some((c) => c.breaking), mode, policy, changes };
}
