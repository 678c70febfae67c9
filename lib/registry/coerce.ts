/**
 * Schema-driven coercion, compiled once per schema version into a flat list of steps.
 *
 * Two modes:
 * - `json`: values arrive typed; only a number where the schema wants a string becomes its decimal text (card numbers,
 *   trip ids and zip codes sent as JSON numbers), and only when that text is exact. Nothing else is changed, so `null`
 *   is never silently turned into `0`.
 * - `csv`: every value arrives as text; "" and "NA" become null where null is allowed ("nan" too where the field holds
 *   no text: pandas writes a missing number so), numeric text becomes a number where the schema wants one (but never
 *   where it also accepts a string, so card numbers keep every digit), and true/false text becomes a boolean; an empty
 *   cell where null is not allowed stays "", so the event keeps what the file held and the schema's refusal says the
 *   field is empty (not that the column is missing).
 */

type JsonType = 'string' | 'number' | 'integer' | 'boolean' | 'null' | 'object' | 'array';

interface Step {
  key: string;
  types: Set<JsonType>;
  /** JSON mode: the schema wants text here and not a number. */
  string?: boolean;
  /** Steps for the properties of a nested object schema. */
  children?: Step[];
}

export type Coercer = (value: unknown) => unknown;

/** Flag returned by a JSON coercer that changed the value. */
export const COERCE_CHANGED = 1;
export type JsonCoercer = (value: unknown) => number;

type Schema = Record<string, unknown>;

function resolve(root: Schema, schema: Schema, depth = 0): Schema {
  const ref = schema.$ref;
  if (typeof ref === 'string' && ref.startsWith('#/') && depth < 16) {
    let cur: unknown = root;
    for (const t of ref.slice(2).split('/')) cur = (cur as Schema | undefined)?.[t];
    if (cur && typeof cur === 'object') return resolve(root, cur as Schema, depth + 1);
  }
  return schema;
}

function typesOf(schema: Schema): Set<JsonType> {
  const out = new Set<JsonType>();
  const t = schema.type;
  if (typeof t === 'string') out.add(t as JsonType);
  else if (Array.isArray(t)) for (const x of t) out.add(x as JsonType);
  if (Array.isArray(schema.enum)) {
    for (const v of schema.enum) {
      if (v === null) out.add('null');
      else if (typeof v === 'number') out.add(Number.isInteger(v) ? 'integer' : 'number');
      else if (typeof v === 'string') out.add('string');
      else if (typeof v === 'boolean') out.add('boolean');
    }
  }
  return out;
}

function compileSteps(root: Schema, schema: Schema, depth: number): Step[] {
  const props = schema.properties;
  if (!props || typeof props !== 'object' || depth > 8) return [];
  const steps: Step[] = [];
  for (const [key, raw] of Object.entries(props as Record<string, Schema>)) {
    const prop = resolve(root, raw);
    const types = typesOf(prop);
    const step: Step = { key, types };
    if (types.has('object')) step.children = compileSteps(root, prop, depth + 1);
    steps.push(step);
  }
  return steps;
}

const INTEGER_TEXT = /^[+-]?[0-9]+$/;
const NUMBER_TEXT = /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/;
const TRUE_TEXT = new Set(['true', 'True', 'TRUE', '1']);
const FALSE_TEXT = new Set(['false', 'False', 'FALSE', '0']);

// How numpy/pandas write a missing number as text (str(float('nan'))); pandas' own reader takes both as missing.
const NAN_TEXT = new Set(['nan', 'NaN']);

function coerceCsvValue(value: unknown, types: Set<JsonType>): unknown {
  if (typeof value !== 'string') return value;
  if ((value === '' || value === 'NA') && types.has('null')) return null;
  // An empty cell where null is not allowed is left to the schema: text fields say with minLength or a pattern whether
  // "" will do, and any other type refuses it as empty (toFieldErrors).
  if (value === '') return value;
  if (types.has('string')) return value;
  if (NAN_TEXT.has(value) && types.has('null')) return null;
  const trimmed = value.trim();
  if (types.has('integer') && NUMBER_TEXT.test(trimmed)) {
    // "15.0" is how pandas writes an integer column that has gaps; it is still the integer 15.
    const n = Number(trimmed);
    if (Number.isSafeInteger(n) && (INTEGER_TEXT.test(trimmed) || /^[+-]?[0-9]+\.0*$/.test(trimmed))) return n;
  }
  if (types.has('number') && NUMBER_TEXT.test(trimmed)) return Number(trimmed);
  if (types.has('boolean')) {
    if (TRUE_TEXT.has(trimmed)) return true;
    if (FALSE_TEXT.has(trimmed)) return false;
  }
  if ((types.has('object') || types.has('array')) && /^[[{]/.test(trimmed)) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return value;
    }
  }
  return value;
}

function applyCsv(obj: Record<string, unknown>, steps: Step[]): void {
  for (const step of steps) {
    const v = obj[step.key];
    if (v === undefined) continue;
    const c = coerceCsvValue(v, step.types);
    obj[step.key] = c;
    if (step.children && c && typeof c === 'object' && !Array.isArray(c))
      applyCsv(c as Record<string, unknown>, step.children);
  }
}

function applyJson(obj: Record<string, unknown>, steps: Step[]): number {
  let flags = 0;
  for (const step of steps) {
    const v = obj[step.key];
    if (typeof v === 'number') {
      // The strict reader hands integer literals beyond 2^53 over as their text. One still a number was written as a
      // float (4.99e+18, a pandas export of a column with gaps) or read by JSON.parse: its digits are gone, so it stays
      // a number and the schema refuses it rather than storing a card number or trip id nobody sent.
      if (step.string && !(Number.isInteger(v) && !Number.isSafeInteger(v))) {
        obj[step.key] = String(v);
        flags |= COERCE_CHANGED;
      }
    } else if (step.children && v && typeof v === 'object' && !Array.isArray(v)) {
      flags |= applyJson(v as Record<string, unknown>, step.children);
    }
  }
  return flags;
}

function markStrings(steps: Step[]): Step[] {
  return steps.map((s) => ({
    ...s,
    string: s.types.has('string') && !s.types.has('number') && !s.types.has('integer'),
    ...(s.children ? { children: markStrings(s.children) } : {}),
  }));
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * Compiles the CSV coercer of a JSON Schema. It mutates and returns the object it is given (callers own it: it was just
 * parsed), and leaves non-objects untouched so validation reports them.
 */
export function compileCsvCoercer(schema: Schema): Coercer {
  const steps = compileSteps(schema, schema, 0);
  return (value) => {
    if (isObject(value)) applyCsv(value, steps);
    return value;
  };
}

/**
 * Compiles the JSON coercer of a JSON Schema: mutates the object in place and returns {@link COERCE_CHANGED} when it
 * changed anything. Its input must already hold every digit (integer literals beyond 2^53 as text, see
 * `readJsonStrict`).
 */
export function compileJsonCoercer(schema: Schema): JsonCoercer {
  const steps = markStrings(compileSteps(schema, schema, 0));
  return (value) => (isObject(value) ? applyJson(value, steps) : 0);
}
