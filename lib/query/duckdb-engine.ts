import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DuckDBConnection, DuckDBInstance, DuckDBValue } from '@duckdb/node-api';
import type { Catalog, TableDef } from '../catalog/catalog.ts';
import { duckViews, type LocalObjectLayout, type PresentFiles } from '../catalog/duckdb.ts';
import { manifestKey } from '../lake/partition.ts';
import { duckType, quoteIdent, quoteString } from '../catalog/types.ts';
import { errorMessage } from '../errors.ts';
import { newId } from '../ids.ts';
import { normalizeCell, timeoutMessage, type Cell, type EngineStartOptions, type EngineStatus, type QueryEngine, type ResultColumn, type ResultPage } from './engine.ts';
import type { BoundValue } from './params.ts';
import { QueryError, tokenize } from './sql.ts';

interface Run {
  status: EngineStatus;
  columns: ResultColumn[];
  rows: Cell[][];
  connection?: DuckDBConnection;
  cancelled?: boolean;
  timedOut?: boolean;
  done: Promise<void>;
}

interface ListingEntry {
  table: TableDef;
  /** Partition directory (relative, ending in `/`) → object names without the store's suffix. */
  dirs: Map<string, string[]>;
}
/** Keyed by the absolute directory of a table prefix. */
type Listing = Map<string, ListingEntry>;

interface ProfileNode {
  operator_type?: string;
  extra_info?: Record<string, unknown>;
  children?: ProfileNode[];
}

/** Runs at most this many finished queries' rows in memory; older ones are dropped (their CSV stays in S3). */
const KEEP_RUNS = 50;

/**
 * The local engine: DuckDB in-process over the emulator's stored objects, with one temporary view per catalog table.
 * User SQL can read only the lake and quarantine directories (external access is locked to them), so a query cannot
 * read or write anything else on the machine.
 */
export class DuckDbEngine implements QueryEngine {
  readonly name = 'duckdb' as const;
  readonly #runs = new Map<string, Run>();
  #instance?: Promise<DuckDBInstance>;
  readonly #profileDir = mkdtempSync(path.join(os.tmpdir(), 'tributary-duckdb-'));
  /** The objects each connection's views were made over, by directory: what bytes-read figures are counted from. */
  readonly #listings = new WeakMap<DuckDBConnection, Listing>();

  constructor(
    readonly catalog: Catalog,
    readonly layout: LocalObjectLayout,
  ) {}

  #db(): Promise<DuckDBInstance> {
    this.#instance ??= (async () => {
      // Loaded on first use: the console in AWS queries through Athena and never needs DuckDB's native binding.
      const { DuckDBInstance } = await import('@duckdb/node-api');
      const db = await DuckDBInstance.create(':memory:', { threads: String(Math.max(1, Math.min(4, os.cpus().length))) });
      const c = await db.connect();
      const dirs = [this.layout.bucketDir('lake'), this.layout.bucketDir('quarantine'), this.#profileDir].map((d) => quoteString(`${d}${path.sep}`));
      await c.run(`SET allowed_directories = [${dirs.join(', ')}]`);
      // Once off, DuckDB refuses to turn external access back on or to widen the directories, so no lock is needed
      // (a lock would also block the per-connection profiling that measures bytes read).
      await c.run('SET enable_external_access = false');
      c.closeSync();
      return db;
    })();
    return this.#instance;
  }

  /** Partition directories (relative to the prefix, ending in `/`) holding at least one object of a kind. */
  #dirsWith(t: TableDef, prefix: string | undefined, ext: string): Map<string, string[]> {
    const out = new Map<string, string[]>();
    if (!prefix) return out;
    const wanted = `${ext}${this.layout.suffix}`;
    const base = path.join(this.layout.bucketDir(t.bucket), prefix);
    const visit = (rel: string, depth: number) => {
      let entries;
      try {
        entries = readdirSync(path.join(base, rel), { withFileTypes: true });
      } catch {
        return;
      }
      if (depth === 0) {
        const files = entries.filter((e) => e.isFile() && e.name.endsWith(wanted)).map((e) => e.name.slice(0, -this.layout.suffix.length || undefined));
        if (files.length) out.set(rel, files);
        return;
      }
      for (const e of entries) if (e.isDirectory()) visit(`${rel}${e.name}/`, depth - 1);
    };
    visit('', t.partitions.length);
    return out;
  }

  /**
   * Which objects a table has: JSONL, Parquet, and the JSONL objects a Parquet object already holds (from the
   * manifests of the partitions that have both, which is only where a compaction run was interrupted or records came
   * late).
   */
  #present(t: TableDef, listing: Listing): PresentFiles {
    const raw = this.#dirsWith(t, t.prefix, '.jsonl.gz');
    const compacted = this.#dirsWith(t, t.compactedPrefix, '.parquet');
    listing.set(path.join(this.layout.bucketDir(t.bucket), t.prefix), { table: t, dirs: raw });
    if (t.compactedPrefix) listing.set(path.join(this.layout.bucketDir(t.bucket), t.compactedPrefix), { table: t, dirs: compacted });
    const hidden: string[] = [];
    for (const [dir, files] of raw) {
      const parts = compacted.get(dir);
      if (!parts) continue;
      const keys = new Set(files.map((f) => `${t.prefix}${dir}${f}`));
      for (const part of parts) {
        const file = path.join(this.layout.bucketDir(t.bucket), `${manifestKey(`${t.compactedPrefix}${dir}${part}`)}${this.layout.suffix}`);
        let sources: string[] = [];
        try {
          sources = (JSON.parse(readFileSync(file, 'utf8')) as { sources: string[] }).sources;
        } catch {
          /* no manifest: the compactor refuses to go on until one is restored; show the JSONL rows meanwhile */
        }
        for (const src of sources) if (keys.has(src)) hidden.push(src);
      }
    }
    return { raw: raw.size > 0, compacted: compacted.size > 0, hidden };
  }

  /**
   * A connection with views over the objects present now, for the tables the SQL names (all without SQL): binding a
   * view lists its files, which on a big lake costs more than a selective query.
   */
  async connect(sql?: string): Promise<DuckDBConnection> {
    const c = await (await this.#db()).connect();
    const names = sql ? new Set(tokenize(sql).filter((x) => x.kind === 'word' || x.kind === 'quoted').map((x) => x.value.toLowerCase())) : undefined;
    const wanted = (name: string) => !names || names.has(name);
    const present = new Map<string, PresentFiles>();
    const listing: Listing = new Map();
    for (const t of this.catalog.tables()) present.set(t.name, wanted(t.name) || wanted('lake_objects') ? this.#present(t, listing) : { raw: false, compacted: false });
    for (const stmt of duckViews(this.catalog, this.layout, (t) => present.get(t.name)!, wanted)) await c.run(stmt);
    this.#listings.set(c, listing);
    return c;
  }

  async start(sql: string, values: BoundValue[], opts: EngineStartOptions): Promise<string> {
    const id = newId();
    const run: Run = { status: { state: 'RUNNING', bytesScanned: 0, rows: 0, truncated: false }, columns: [], rows: [], done: Promise.resolve() };
    this.#runs.set(id, run);
    this.#trim();
    run.done = this.#execute(id, run, sql, values, opts);
    return id;
  }

  async #execute(id: string, run: Run, sql: string, values: BoundValue[], opts: EngineStartOptions): Promise<void> {
    const started = Date.now();
    const profile = path.join(this.#profileDir, `${id}.json`);
    const timer = setTimeout(() => {
      run.timedOut = true;
      run.connection?.interrupt();
    }, opts.timeoutMs);
    try {
      const c = (run.connection = await this.connect(sql));
      if (run.cancelled) throw new QueryError('cancelled', 'cancelled');
      await c.run(`PRAGMA enable_profiling = 'json'`);
      await c.run(`PRAGMA profiling_output = ${quoteString(profile)}`);
      // The limit goes into the query (one row more tells whether it was cut) so DuckDB can stop early and still
      // finish the statement, which is when it writes the profile the bytes-read figure comes from.
      const limited = `SELECT * FROM (\n${sql}\n) AS _query LIMIT ${opts.rowLimit + 1}`;
      const result = await c.stream(limited, values.map((v): DuckDBValue => v.value));
      run.columns = result.columnNames().map((name, i) => ({ name, type: result.columnTypes()[i]!.toString().toLowerCase() }));
      for await (const chunk of result.yieldRowsJson()) {
        for (const row of chunk) {
          if (run.rows.length >= opts.rowLimit) run.status.truncated = true;
          else run.rows.push(row.map((v, i) => normalizeCell(run.columns[i]!.type, v)));
        }
        run.status.rows = run.rows.length;
      }
      run.status.rows = run.rows.length;
      await c.run('PRAGMA disable_profiling');
      run.status.bytesScanned = await this.#bytesRead(c, profile);
      run.status.state = 'SUCCEEDED';
    } catch (err) {
      run.status.state = run.cancelled ? 'CANCELLED' : 'FAILED';
      if (!run.cancelled) run.status.error = run.timedOut ? timeoutMessage(opts.timeoutMs) : cleanDuckError(errorMessage(err));
    } finally {
      clearTimeout(timer);
      run.status.engineMs = Date.now() - started;
      run.connection?.closeSync();
      run.connection = undefined;
      rmSync(profile, { force: true });
    }
  }

  /**
   * Bytes of the objects a query read, from DuckDB's profile: scans that list their files are summed exactly; for
   * scans whose list DuckDB cuts short, the files their partition filters keep, scaled to the files it read.
   */
  async #bytesRead(c: DuckDBConnection, profileFile: string): Promise<number> {
    let root: ProfileNode;
    try {
      root = JSON.parse(readFileSync(profileFile, 'utf8')) as ProfileNode;
    } catch {
      return 0;
    }
    const scans: Record<string, unknown>[] = [];
    const walk = (n: ProfileNode) => {
      if (n.operator_type === 'TABLE_SCAN' && n.extra_info) scans.push(n.extra_info);
      n.children?.forEach(walk);
    };
    walk(root);
    let bytes = 0;
    for (const info of scans) {
      // lake_objects lists files with read_blob without their content: nothing is read.
      if (info.Function === 'READ_BLOB' && !String(info.Projections ?? '').includes('content')) continue;
      const names = String(info['Filename(s)'] ?? '').split(', ').filter((n) => n && n !== '...');
      const listed = !String(info['Filename(s)'] ?? '').endsWith('...') && names.every((n) => !n.includes('*'));
      if (!names.length) continue;
      if (listed) {
        for (const f of names) bytes += fileSize(f);
        continue;
      }
      // A long list is cut short ("a, ..."): count the files of the partitions its filters keep (evaluated by DuckDB
      // over the directories the view was made from), scaled down to the files DuckDB says it read when fewer.
      const first = names[0]!;
      const entry = [...(this.#listings.get(c) ?? new Map<string, ListingEntry>())].find(([base]) => first.startsWith(base));
      if (!entry) continue;
      const [base, { table, dirs }] = entry;
      if (!dirs.size) continue;
      const filters = splitFilters(String(info['File Filters'] ?? ''));
      let kept = [...dirs.keys()];
      if (filters.length) {
        const rows = kept.map((dir) => {
          const values = Object.fromEntries(dir.split('/').filter(Boolean).map((seg) => [seg.slice(0, seg.indexOf('=')), seg.slice(seg.indexOf('=') + 1)]));
          return `(${[quoteString(dir), ...table.partitions.map((p) => `TRY_CAST(url_decode(${quoteString(values[p.name] ?? '')}) AS ${duckType(p.type)})`)].join(', ')})`;
        });
        const cols = ['_dir', ...table.partitions.map((p) => quoteIdent(p.name))].join(', ');
        const r = await c.runAndReadAll(`SELECT _dir FROM (VALUES ${rows.join(', ')}) AS _parts(${cols}) WHERE ${filters.join(' AND ')}`);
        kept = r.getRows().map((row) => String(row[0]));
      }
      let sum = 0;
      let count = 0;
      for (const dir of kept) {
        for (const f of dirs.get(dir) ?? []) {
          sum += fileSize(path.join(base, dir, `${f}${this.layout.suffix}`));
          count++;
        }
      }
      const read = Number(info['Total Files Read'] ?? count);
      bytes += read < count && count > 0 ? Math.round((sum * read) / count) : sum;
    }
    return bytes;
  }

  async status(id: string): Promise<EngineStatus> {
    return { ...this.#run(id).status };
  }

  async results(id: string, page: { nextToken?: string; maxResults: number }): Promise<ResultPage> {
    const run = this.#run(id);
    if (run.status.state !== 'SUCCEEDED') throw new QueryError('not_ready', `Query ${id} is ${run.status.state}; results exist only once it has SUCCEEDED.`);
    const from = page.nextToken ? Number(page.nextToken) : 0;
    const rows = run.rows.slice(from, from + page.maxResults);
    const next = from + rows.length;
    return { columns: run.columns, rows, ...(next < run.rows.length ? { nextToken: String(next) } : {}) };
  }

  async cancel(id: string): Promise<void> {
    const run = this.#run(id);
    if (run.status.state !== 'RUNNING') return;
    run.cancelled = true;
    run.connection?.interrupt();
    await run.done;
  }

  /** Waits for a query to finish (tests and the CLI; the console polls `status`). */
  async wait(id: string): Promise<EngineStatus> {
    await this.#run(id).done;
    return this.status(id);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#runs.values()].map((r) => r.done));
    const db = await this.#instance;
    db?.closeSync();
    this.#instance = undefined;
    rmSync(this.#profileDir, { recursive: true, force: true });
  }

  #run(id: string): Run {
    const run = this.#runs.get(id);
    if (!run) throw new QueryError('unknown_query', `No query ${id} in this process; see \`tributary query --history\` for earlier ones.`);
    return run;
  }

  #trim(): void {
    for (const [id, run] of this.#runs) {
      if (this.#runs.size <= KEEP_RUNS) break;
      if (run.status.state !== 'RUNNING') this.#runs.delete(id);
    }
  }
}

function fileSize(f: string): number {
  try {
    return statSync(f).size;
  } catch {
    return 0;
  }
}

/** DuckDB prints file filters as `(a)(b)`: split the top-level groups so they can be joined with AND. */
export function splitFilters(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = -1;
  let quote = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === "'") quote = !quote;
    if (quote) continue;
    if (ch === '(') {
      if (depth === 0) start = i;
      depth++;
    } else if (ch === ')') {
      depth--;
      if (depth === 0 && start >= 0) out.push(s.slice(start, i + 1));
    }
  }
  return out;
}

/** DuckDB errors carry the view's generated SQL around; keep the part that speaks to the user. */
function cleanDuckError(message: string): string {
  return message.replace(/\n\nLINE \d+:[\s\S]*$/, '').trim();
}
