/** One line of a query for lists (history): leading comments dropped, whitespace folded, cut at `max` characters. */
export function summarizeSql(sql: string, max = 100): string {
  const text = sql
    .replace(/^(\s*(--[^\n]*(\n|$)|\/\*[\s\S]*?\*\/))*/, '')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
