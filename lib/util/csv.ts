import { stringify } from 'csv-stringify/sync';

/** One column of a CSV: its header, and whether the source types it as a number. */
export interface CsvColumn {
  name: string;
  /** Numeric in the source (an engine's integer or decimal type, a numeric record field): kept a number when it is one. */
  numeric?: boolean;
}

/** A CSV cell: text, a number, a boolean, null (empty) or a nested value (written as JSON text). */
export type CsvCell =
  | string
  | number
  | bigint
  | boolean
  | null
  | undefined
  | readonly unknown[]
  | { readonly [k: string]: unknown };

/**
 * RFC 4180 CSV (CRLF line ends, fields quoted when they hold a quote, comma or line break) with csv-stringify, safe to
 * open in a spreadsheet: a text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return (or their
 * full-width forms) gets a leading `'` so it is never taken for a formula (OWASP "CSV Injection"). A cell of a numeric
 * column that is a number stays a plain number, negative ones included. `header: false` continues an earlier chunk.
 */
export function csvText(
  columns: CsvColumn[],
  rows: readonly (readonly CsvCell[])[],
  options: { header?: boolean } = {},
): string {
  const records = rows.map((r) => columns.map((c, i) => cellValue(c, r[i])));
  return stringify(records, {
    header: options.header ?? true,
    columns: columns.map((c) => c.name),
    record_delimiter: '\r\n',
    escape_formulas: true,
    cast: {
      boolean: (v) => (v ? 'true' : 'false'),
      object: (v) => JSON.stringify(v),
    },
  });
}

/**
 * What csv-stringify gets for a cell: numbers of numeric columns as numbers (it leaves a leading minus of a number
 * alone), integers too big for a double as bigint, everything else as text.
 */
function cellValue(c: CsvColumn, v: CsvCell): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' && c.numeric) {
    const t = v.trim();
    if (t === v && t !== '') {
      try {
        if (/^-?[0-9]+$/.test(t)) return BigInt(t);
      } catch {
        // not an integer after all: falls through to the number test
      }
      const n = Number(t);
      if (Number.isFinite(n) && !/[a-z]/i.test(t)) return n;
    }
    return v;
  }
  if (typeof v === 'number' && !c.numeric) return String(v);
  return v;
}
