import type { Cell, ResultColumn } from './engine.ts';

/** One CSV field: quoted when it holds a quote, comma, line break or edge spaces; nested values as JSON text. */
export function csvField(v: Cell): string {
  if (v === null) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) || s.startsWith(' ') || s.endsWith(' ') ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV of a result: header line, then one line per row; nested values as JSON text. */
export function toCsv(columns: ResultColumn[], rows: Cell[][]): string {
  const lines = [columns.map((c) => csvField(c.name)).join(',')];
  for (const r of rows) lines.push(r.map(csvField).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
