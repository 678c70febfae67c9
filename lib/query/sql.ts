import { TributaryError } from '../errors.ts';

/** Errors of the query service. */
export class QueryError extends TributaryError {}

/** A query the guards refuse to run (read-only, partition filter, parameters); the message says what to change. */
export class QueryRefusedError extends QueryError {}

export type TokenKind = 'word' | 'quoted' | 'string' | 'number' | 'op' | 'param';

export interface Token {
  kind: TokenKind;
  /** Word text lower-cased; quoted identifiers unquoted with case kept; strings without quotes. */
  value: string;
  start: number;
  end: number;
}

/**
 * Splits SQL into tokens, skipping comments and whitespace. Enough of the lexical grammar shared by Trino and DuckDB
 * to find statements, keywords, table names and parameters without being fooled by strings or comments.
 */
export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < n && sql[i] !== '\n') i++;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) throw new QueryRefusedError('unterminated_comment', 'The query has a /* comment that is never closed.');
      i = end + 2;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      let value = '';
      for (;;) {
        if (j >= n) throw new QueryRefusedError('unterminated_string', `The query has a ${c === "'" ? 'string' : 'quoted identifier'} that is never closed (from position ${i + 1}).`);
        if (sql[j] === c) {
          if (sql[j + 1] === c) {
            value += c;
            j += 2;
            continue;
          }
          break;
        }
        value += sql[j];
        j++;
      }
      out.push({ kind: c === "'" ? 'string' : 'quoted', value, start: i, end: j + 1 });
      i = j + 1;
    } else if (c === ':' && /[A-Za-z_]/.test(sql[i + 1] ?? '') && sql[i - 1] !== ':') {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_.]/.test(sql[j]!)) j++;
      out.push({ kind: 'param', value: sql.slice(i + 1, j), start: i, end: j });
      i = j;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_$]/.test(sql[j]!)) j++;
      out.push({ kind: 'word', value: sql.slice(i, j).toLowerCase(), start: i, end: j });
      i = j;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      let j = i + 1;
      while (j < n && /[0-9.eE]/.test(sql[j]!)) j++;
      out.push({ kind: 'number', value: sql.slice(i, j), start: i, end: j });
      i = j;
    } else {
      const two = sql.slice(i, i + 2);
      const op = ['<=', '>=', '<>', '!=', '::', '||', '->'].includes(two) ? two : c;
      out.push({ kind: 'op', value: op, start: i, end: i + op.length });
      i += op.length;
    }
  }
  return out;
}

const WRITE_WORDS = new Set([
  'insert', 'update', 'delete', 'merge', 'create', 'drop', 'alter', 'truncate', 'copy', 'attach', 'detach', 'pragma',
  'set', 'reset', 'install', 'load', 'call', 'export', 'import', 'grant', 'revoke', 'vacuum', 'checkpoint', 'unload',
  'msck', 'optimize', 'prepare', 'execute', 'deallocate', 'use',
]);

/**
 * Refuses anything but one SELECT (or WITH … SELECT, VALUES, or a parenthesized query): one statement, no statement
 * keyword that writes or changes the session. Returns the tokens of that statement.
 */
export function assertReadOnly(sql: string): Token[] {
  const tokens = tokenize(sql);
  while (tokens.length && tokens[tokens.length - 1]!.kind === 'op' && tokens[tokens.length - 1]!.value === ';') tokens.pop();
  if (!tokens.length) throw new QueryRefusedError('empty_query', 'The query is empty; write one SELECT statement.');
  if (tokens.some((t) => t.kind === 'op' && t.value === ';')) {
    throw new QueryRefusedError('multiple_statements', 'Only one statement per query: remove everything after the first ";".');
  }
  const first = tokens.find((t) => !(t.kind === 'op' && t.value === '('))!;
  if (first.kind !== 'word' || !['select', 'with', 'values', 'table'].includes(first.value)) {
    throw new QueryRefusedError('not_read_only', `Only read-only queries run here (SELECT or WITH … SELECT); this one starts with ${JSON.stringify(sql.slice(first.start, first.end))}.`);
  }
  const writer = tokens.find((t) => t.kind === 'word' && WRITE_WORDS.has(t.value));
  if (writer) {
    throw new QueryRefusedError('not_read_only', `Only read-only queries run here; ${writer.value.toUpperCase()} (at position ${writer.start + 1}) is not allowed.`);
  }
  return tokens;
}

/** Table names a query reads (after FROM / JOIN and in FROM lists), minus the names its WITH clause defines. */
export function referencedTables(tokens: Token[]): string[] {
  const ctes = new Set<string>();
  const tables = new Set<string>();
  const isName = (t: Token | undefined) => !!t && (t.kind === 'word' || t.kind === 'quoted');
  const nameAt = (i: number): { name: string; next: number } | null => {
    if (!isName(tokens[i])) return null;
    let j = i;
    let name = tokens[j]!.value;
    // db.table or catalog.db.table: the table is the last part.
    while (tokens[j + 1]?.value === '.' && isName(tokens[j + 2])) {
      j += 2;
      name = tokens[j]!.value;
    }
    return { name: name.toLowerCase(), next: j + 1 };
  };
  // Whether each open parenthesis is a function call: FROM inside extract(hour FROM ts) names no table.
  const calls: boolean[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'op' && t.value === '(') {
      const prev = tokens[i - 1];
      calls.push(!!prev && (prev.kind === 'word' || prev.kind === 'quoted') && !NOT_CALLS.has(prev.value));
      continue;
    }
    if (t.kind === 'op' && t.value === ')') {
      calls.pop();
      continue;
    }
    // `name AS (` inside WITH defines a CTE.
    if (isName(t) && tokens[i + 1]?.value === 'as' && tokens[i + 2]?.value === '(') ctes.add(t.value.toLowerCase());
    if (t.kind === 'word' && (t.value === 'from' || t.value === 'join') && !calls.at(-1)) {
      let j = i + 1;
      for (;;) {
        const ref = nameAt(j);
        if (!ref || (tokens[j]!.kind === 'word' && ['select', 'lateral', 'unnest'].includes(tokens[j]!.value))) break;
        if (tokens[ref.next]?.value === '(') break; // a table function such as read_json(…)
        tables.add(ref.name);
        j = ref.next;
        // Skip an alias, then continue a comma-separated FROM list.
        if (tokens[j]?.value === 'as') j++;
        if (isName(tokens[j]) && tokens[j]!.value !== 'where' && tokens[j]!.value !== ',') j++;
        if (t.value === 'from' && tokens[j]?.value === ',') {
          j++;
          continue;
        }
        break;
      }
    }
  }
  return [...tables].filter((x) => !ctes.has(x));
}

/** Words after which "(" opens a subquery or a list, not a function call's arguments. */
const NOT_CALLS = new Set(['from', 'join', 'in', 'exists', 'as', 'union', 'all', 'select', 'where', 'on', 'and', 'or', 'not', 'lateral', 'with', 'any', 'some', 'values', 'by', 'having', 'then', 'else', 'when', 'except', 'intersect', 'distinct']);

const COMPARISON = new Set(['=', '<', '>', '<=', '>=', 'between', 'in']);

/** Whether the query compares a column of this name with something (`dt = …`, `… <= dt`, `t.dt BETWEEN …`, `dt IN (…)`). */
export function filtersOn(tokens: Token[], column: string): boolean {
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if ((t.kind !== 'word' && t.kind !== 'quoted') || t.value.toLowerCase() !== column) continue;
    const after = tokens[i + 1];
    const before = tokens[i - 1]?.value === '.' ? tokens[i - 3] : tokens[i - 1];
    if (after && COMPARISON.has(after.value)) return true;
    if (before && before.kind === 'op' && COMPARISON.has(before.value)) return true;
  }
  return false;
}

/** One line of a query for lists (history): leading comments dropped, whitespace folded, cut at `max` characters. */
export function summarizeSql(sql: string, max = 100): string {
  const text = sql.replace(/^(\s*(--[^\n]*(\n|$)|\/\*[\s\S]*?\*\/))*/, '').replace(/\s+/g, ' ').trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
