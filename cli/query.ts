import { parseArgs } from 'node:util';
import { isNumericType, type Cell, type ResultColumn } from '../lib/query/engine.ts';
import { QueryRefusedError } from '../lib/query/errors.ts';
import { adhocParams } from '../lib/query/params.ts';
import { loadSavedQueries, savedQuery, savedRequest } from '../lib/query/saved.ts';
import type { QueryInfo, QueryRequest } from '../lib/query/query-info.ts';
import type { QueryService } from '../lib/query/service.ts';
import { formatBytes } from '../lib/util/format.ts';
import { summarizeSql } from '../lib/query/sql.ts';
import { csvText } from '../lib/util/csv.ts';
import { queryService } from '../lib/composition.ts';
import { UsageError, commandConfig, fmt, intFlag, numberFlag, type Io } from './common.ts';

const COMMON_OPTIONS = `Options:
  --param k=v               a parameter value (repeatable); the SQL names it $k
  --format table|csv|json   output (default table; --json = --format json)
  --allow-full-scan         run even when the partition-filter guard would refuse it
  --max-unfiltered-scan MB  the guard's limit on a query's estimated scan (default 100)
  --max-rows N              rows kept (default and maximum 10000)
  --timeout S               seconds before the query is stopped (default 300)
  --data-dir DIR            the local runtime's data directory`;

export const queryHelp = `tributary query "<sql>" [options]
tributary query --history [--limit N] [--json]
tributary query --csv <query id>

Runs one read-only SELECT over the lake's tables (transactions, taxi_trips, clickstream, quarantine, redrives): DuckDB
over the local runtime's objects, Athena in AWS. A query whose estimated scan (the partitions its dt/hour filters
keep) is larger than --max-unfiltered-scan is refused, with the filter to add. Every query goes to the history
(athena-results).

${COMMON_OPTIONS}
`;

export const queriesHelp = `tributary queries list [--json]
tributary queries show <name>
tributary queries run <name> [--param k=v ...] [options]

Saved queries live in queries/<name>.json (description, typed parameters) with queries/<name>.sql, or a variant per
engine (<name>.athena.sql, <name>.duckdb.sql); the SQL names a parameter p as $p. Parameter types: date
(YYYY-MM-DD, today, today-7d), daterange (FROM..TO, used as $p_from and $p_to), text, number, enum.

${COMMON_OPTIONS}
`;

const OPTIONS = {
  param: { type: 'string', multiple: true },
  format: { type: 'string' },
  json: { type: 'boolean' },
  'allow-full-scan': { type: 'boolean' },
  'max-unfiltered-scan': { type: 'string' },
  'max-rows': { type: 'string' },
  timeout: { type: 'string' },
  'data-dir': { type: 'string' },
  history: { type: 'boolean' },
  limit: { type: 'string' },
  csv: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function rawParams(values: Values): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of values.param ?? []) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param takes name=value, got ${JSON.stringify(p)}.`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

/** Whoever runs the CLI can read the data directory or the AWS account directly: an operator, named by the OS user. */
function cliActor() {
  return { by: process.env.USER ?? 'cli', role: 'operator' as const };
}

function service(values: Values): QueryService {
  return queryService(commandConfig(values['data-dir']), {
    maxUnfilteredScanBytes: numberFlag('max-unfiltered-scan', values['max-unfiltered-scan'], 100, 0, 1e9) * 1024 * 1024,
    rowLimit: intFlag('max-rows', values['max-rows'], 10_000, 1),
    timeoutMs: numberFlag('timeout', values.timeout, 300, 1, 86_400) * 1000,
  });
}

function format(values: Values): 'table' | 'csv' | 'json' {
  const f = values.json ? 'json' : (values.format ?? 'table');
  if (f !== 'table' && f !== 'csv' && f !== 'json')
    throw new UsageError(`--format must be table, csv or json, got ${JSON.stringify(f)}.`);
  return f;
}

function cellText(v: Cell): string {
  if (v === null) return 'NULL';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** A plain aligned text table; long cells are cut so one wide column cannot push the rest off screen. */
export function textTable(columns: ResultColumn[], rows: Cell[][], maxWidth = 60): string {
  const cut = (s: string) => (s.length > maxWidth ? `${s.slice(0, maxWidth - 1)}…` : s);
  const cells = rows.map((r) => r.map((v) => cut(cellText(v))));
  const widths = columns.map((c, i) => Math.max(cut(c.name).length, ...cells.map((r) => r[i]!.length)));
  const numeric = columns.map((c) => /int|double|float|decimal|real/.test(c.type));
  const line = (vals: string[], header = false) =>
    vals
      .map((v, i) => (numeric[i] && !header ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [
    line(
      columns.map((c) => cut(c.name)),
      true,
    ),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.map((r) => line(r)),
  ].join('\n');
}

function summary(info: QueryInfo): string {
  return `${fmt(info.rows)} row${info.rows === 1 ? '' : 's'}${info.truncated ? ' (cut at the row limit)' : ''} in ${(info.elapsedMs / 1000).toFixed(2)} s · ${formatBytes(info.bytesScanned)} scanned · $${info.costUsd.toFixed(6)} at Athena's price · ${info.engine} · id ${info.id}`;
}

async function runAndPrint(svc: QueryService, req: QueryRequest, values: Values, io: Io): Promise<number> {
  const fmtOut = format(values);
  try {
    const { info, columns, rows } = await svc.run(req);
    if (fmtOut === 'json') io.out(JSON.stringify({ query: info, columns, rows }));
    else if (fmtOut === 'csv')
      io.out(
        csvText(
          columns.map((c) => ({ name: c.name, numeric: isNumericType(c.type) })),
          rows,
        ).replace(/\r\n$/, ''),
      );
    else {
      io.out(textTable(columns, rows));
      io.err(summary(info));
    }
    if (info.notice) io.err(`note: ${info.notice}`);
    return 0;
  } catch (err) {
    if (err instanceof QueryRefusedError) {
      io.err(`refused: ${err.message}`);
      return 2;
    }
    throw err;
  } finally {
    await svc.deps.engine.close();
  }
}

export async function queryCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const svc = service(values);
  if (values.history) {
    const entries = await svc.history(intFlag('limit', values.limit, 20, 1));
    await svc.deps.engine.close();
    if (format(values) === 'json') io.out(JSON.stringify(entries));
    else {
      for (const h of entries) {
        io.out(
          `${h.submittedAt}  ${h.state.padEnd(9)} ${formatBytes(h.bytesScanned).padStart(9)}  ${h.id}  ${h.saved ? `[${h.saved}] ` : ''}${summarizeSql(h.sql, 80)}`,
        );
      }
    }
    return 0;
  }
  if (values.csv) {
    let csv = '';
    for await (const chunk of await svc.csv(values.csv)) csv += chunk;
    await svc.deps.engine.close();
    io.out(csv.replace(/\r\n$/, ''));
    return 0;
  }
  if (positionals.length !== 1)
    throw new UsageError(
      'Pass the SQL as one argument, e.g. tributary query "SELECT count(*) FROM transactions WHERE dt = \'2026-01-15\'".',
    );
  return runAndPrint(
    svc,
    {
      sql: positionals[0]!,
      params: adhocParams(rawParams(values)),
      allowFullScan: !!values['allow-full-scan'],
      via: 'cli',
      actor: cliActor(),
    },
    values,
    io,
  );
}

export async function queriesCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const [sub, name, ...extra] = positionals;
  const all = loadSavedQueries();
  if (sub === 'list' && !name) {
    if (format(values) === 'json')
      io.out(JSON.stringify(all.map((q) => ({ name: q.name, description: q.description, params: q.params }))));
    else
      for (const q of all)
        io.out(
          `${q.name.padEnd(22)} ${q.description}${q.params.length ? `\n${' '.repeat(23)}params: ${q.params.map((p) => `${p.name} (${p.type}${p.default !== undefined ? `, default ${p.default}` : ''})`).join(', ')}` : ''}`,
        );
    return 0;
  }
  if ((sub === 'show' || sub === 'run') && name && !extra.length) {
    const q = savedQuery(name, all);
    if (sub === 'show') {
      io.out(`${q.name}: ${q.description}\nparams: ${JSON.stringify(q.params)}\n`);
      for (const [variant, sql] of Object.entries(q.sql)) io.out(`-- ${variant}\n${sql}`);
      return 0;
    }
    const svc = service(values);
    let request: ReturnType<typeof savedRequest>;
    try {
      request = savedRequest(q, rawParams(values), svc.engine);
    } catch (err) {
      await svc.deps.engine.close();
      throw err instanceof QueryRefusedError ? new UsageError(err.message) : err;
    }
    return runAndPrint(
      svc,
      { ...request, allowFullScan: !!values['allow-full-scan'], actor: cliActor(), via: 'cli' },
      values,
      io,
    );
  }
  throw new UsageError(
    'Use `tributary queries list`, `tributary queries show <name>` or `tributary queries run <name> [--param k=v]`.',
  );
}
