import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readSettings } from '../config.ts';
import { repoDir } from '../registry/registry.ts';
import type { QueryEngine } from './engine.ts';
import { resolveParams, type BoundValue, type ParamDef } from './params.ts';
import { QueryError, QueryNotFoundError } from './errors.ts';

/**
 * A saved (named) query: `queries/<name>.json` (description, typed parameters) with `queries/<name>.sql`, or one
 * variant per engine where Trino and DuckDB differ (`<name>.athena.sql`, `<name>.duckdb.sql`).
 */
export interface SavedQuery {
  name: string;
  description: string;
  params: ParamDef[];
  sql: Partial<Record<QueryEngine['name'] | 'shared', string>>;
}

const NAME = /^[a-z][a-z0-9_]{0,63}$/;
const PARAM_TYPES = new Set(['date', 'daterange', 'text', 'number', 'enum']);

/** Directory of the saved queries shipped with Tributary (`TRIBUTARY_QUERIES_DIR` overrides it). */
export function defaultQueriesDir(): string {
  const dir = readSettings().TRIBUTARY_QUERIES_DIR;
  return dir ? path.resolve(dir) : repoDir('queries');
}

/** Loads every saved query of a directory, failing on a malformed definition so a broken file is found at once. */
export function loadSavedQueries(dir = defaultQueriesDir()): SavedQuery[] {
  if (!existsSync(/*turbopackIgnore: true*/ dir)) return [];
  const out: SavedQuery[] = [];
  for (const file of readdirSync(/*turbopackIgnore: true*/ dir).sort()) {
    if (!file.endsWith('.json')) continue;
    const name = file.slice(0, -5);
    if (!NAME.test(name))
      throw new QueryError(
        'bad_saved_query',
        `${path.join(dir, file)}: query names are lower-case letters, digits and _.`,
      );
    const meta = JSON.parse(
      readFileSync(/*turbopackIgnore: true*/ path.join(/*turbopackIgnore: true*/ dir, file), 'utf8'),
    ) as { description?: string; params?: ParamDef[] };
    const params = meta.params ?? [];
    for (const p of params) {
      if (!PARAM_TYPES.has(p.type) || !NAME.test(p.name) || (p.type === 'enum' && !p.values?.length)) {
        throw new QueryError(
          'bad_saved_query',
          `${path.join(dir, file)}: parameter ${JSON.stringify(p)} needs a name and a type (${[...PARAM_TYPES].join(', ')}; enum with values).`,
        );
      }
    }
    const sql: SavedQuery['sql'] = {};
    for (const [variant, suffix] of [
      ['shared', '.sql'],
      ['athena', '.athena.sql'],
      ['duckdb', '.duckdb.sql'],
    ] as const) {
      const f = path.join(/*turbopackIgnore: true*/ dir, `${name}${suffix}`);
      if (existsSync(/*turbopackIgnore: true*/ f)) sql[variant] = readFileSync(/*turbopackIgnore: true*/ f, 'utf8');
    }
    if (!sql.shared && !(sql.athena && sql.duckdb)) {
      throw new QueryError(
        'bad_saved_query',
        `${path.join(dir, file)}: needs ${name}.sql, or both ${name}.athena.sql and ${name}.duckdb.sql.`,
      );
    }
    out.push({ name, description: meta.description ?? '', params, sql });
  }
  return out;
}

/** A saved query by name, or an error listing the known ones. */
export function savedQuery(name: string, all = loadSavedQueries()): SavedQuery {
  const q = all.find((x) => x.name === name);
  if (!q)
    throw new QueryNotFoundError(
      'unknown_saved_query',
      `No saved query ${JSON.stringify(name)}; saved queries: ${all.map((x) => x.name).join(', ')}.`,
    );
  return q;
}

/** The SQL of a saved query for an engine: its own variant, else the shared text. */
export function savedSql(q: SavedQuery, engine: QueryEngine['name']): string {
  return q.sql[engine] ?? q.sql.shared!;
}

/**
 * What running a saved query by name needs — its SQL for the engine, its parameters checked and typed (defaults filled
 * in), its name for the history — from raw parameter text (CLI flags, a form, a URL). Throws QueryRefusedError on a bad
 * parameter.
 */
export function savedRequest(
  q: SavedQuery,
  raw: Record<string, string>,
  engine: QueryEngine['name'],
): { sql: string; params: Record<string, BoundValue>; saved: string } {
  return { sql: savedSql(q, engine), params: resolveParams(q.params, raw), saved: q.name };
}
