import { QueryRefusedError } from './errors.ts';

/** A typed parameter of a saved query. */
export type ParamDef =
  | { name: string; type: 'date'; description?: string; default?: string }
  | { name: string; type: 'daterange'; description?: string; default?: string }
  | { name: string; type: 'text'; description?: string; default?: string }
  | { name: string; type: 'number'; description?: string; default?: number; min?: number; max?: number }
  | { name: string; type: 'enum'; description?: string; default?: string; values: string[] };

/** A value bound to a placeholder: text or a number. */
export type BoundValue = { type: 'text'; value: string } | { type: 'number'; value: number };

const DATE = /^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$/;
const RELATIVE = /^today(?:([+-])([0-9]{1,4})d)?$/;

/** Resolves `YYYY-MM-DD`, `today` or `today-7d` (UTC) to a date, or null when it is neither. */
function resolveDate(raw: string, now: Date): string | null {
  const s = raw.trim();
  if (DATE.test(s)) {
    const d = new Date(`${s}T00:00:00Z`);
    return d.toISOString().slice(0, 10) === s ? s : null;
  }
  const m = RELATIVE.exec(s);
  if (!m) return null;
  const days = m[1] ? (m[1] === '-' ? -1 : 1) * Number(m[2]) : 0;
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + days))
    .toISOString()
    .slice(0, 10);
}

/**
 * Checks and converts raw parameter values (from the CLI or a form) against a saved query's definitions, filling in
 * defaults. Returns the values by placeholder name: a date range `p` provides `$p_from` and `$p_to`.
 */
export function resolveParams(
  defs: ParamDef[],
  raw: Record<string, string | undefined>,
  now = new Date(),
): Record<string, BoundValue> {
  const out: Record<string, BoundValue> = {};
  const known = new Set(defs.map((d) => d.name));
  const unknown = Object.keys(raw).filter((k) => !known.has(k));
  if (unknown.length) {
    throw new QueryRefusedError(
      'unknown_param',
      `Unknown parameter ${unknown.join(', ')}; this query takes ${defs.map((d) => d.name).join(', ') || 'no parameters'}.`,
    );
  }
  for (const d of defs) {
    const given = raw[d.name];
    const value = given ?? (d.default === undefined ? undefined : String(d.default));
    if (value === undefined)
      throw new QueryRefusedError(
        'missing_param',
        `Parameter ${d.name} (${d.type}) is required${d.description ? `: ${d.description}` : ''}.`,
      );
    const bad = (what: string) =>
      new QueryRefusedError('bad_param', `Parameter ${d.name} must be ${what}, got ${JSON.stringify(value)}.`);
    switch (d.type) {
      case 'date': {
        const v = resolveDate(value, now);
        if (!v) throw bad('a date YYYY-MM-DD (or today, today-7d)');
        out[d.name] = { type: 'text', value: v };
        break;
      }
      case 'daterange': {
        const [a, b, ...rest] = value.split('..');
        const from = a !== undefined ? resolveDate(a, now) : null;
        const to = b !== undefined ? resolveDate(b, now) : null;
        if (rest.length || !from || !to)
          throw bad('a date range FROM..TO (e.g. 2024-01-01..2024-01-31 or today-7d..today)');
        if (from > to) throw bad('a range whose start is not after its end');
        out[`${d.name}_from`] = { type: 'text', value: from };
        out[`${d.name}_to`] = { type: 'text', value: to };
        break;
      }
      case 'text':
        out[d.name] = { type: 'text', value };
        break;
      case 'number': {
        const n = Number(value);
        if (value.trim() === '' || !Number.isFinite(n)) throw bad('a number');
        if ((d.min !== undefined && n < d.min) || (d.max !== undefined && n > d.max))
          throw bad(`between ${d.min ?? '-∞'} and ${d.max ?? '∞'}`);
        out[d.name] = { type: 'number', value: n };
        break;
      }
      case 'enum':
        if (!d.values.includes(value)) throw bad(`one of ${d.values.join(', ')}`);
        out[d.name] = { type: 'text', value };
        break;
    }
  }
  return out;
}

/** Values of ad-hoc `--param k=v`: numbers stay numbers, everything else is text. */
export function adhocParams(raw: Record<string, string>): Record<string, BoundValue> {
  return Object.fromEntries(
    Object.entries(raw).map(([k, v]) => [
      k,
      v.trim() !== '' && Number.isFinite(Number(v)) ? { type: 'number', value: Number(v) } : { type: 'text', value: v },
    ]),
  );
}

/**
 * The values of a statement's placeholders in the order of its `?` (names from {@link ParsedQuery.params}), so both
 * engines bind them as values (DuckDB prepared statements, Athena ExecutionParameters): never spliced into SQL.
 */
export function orderedValues(names: string[], values: Record<string, BoundValue>): BoundValue[] {
  return names.map((name) => {
    const v = values[name];
    if (!v)
      throw new QueryRefusedError(
        'missing_param',
        `The query uses $${name} but no value was given for it (pass --param ${name}=…).`,
      );
    return v;
  });
}

/** A bound value as an SQL literal (Athena's ExecutionParameters take literals). */
export function sqlLiteral(v: BoundValue): string {
  return v.type === 'number' ? String(v.value) : `'${v.value.replace(/'/g, "''")}'`;
}
