// Over 300 lines on purpose: one QueryEngine implementation (DuckDB in place of Athena) whose parts share one
// instance, its locked connection pool and its lake listing: the views over the emulator's files, the runs with their
// timeouts, cancel and row limit, and the bytes-scanned figure read from DuckDB's profile.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DuckDBConnection, DuckDBInstance, DuckDBValue } from '@duckdb/node-api';
import type { Catalog, TableDef } from '../catalog/catalog.ts';
import { duckViews, type LocalObjectLayout, type PresentFiles } from '../catalog/duckdb.ts';
import { decodePartitionValue, manifestKey } from '../layout/partition.ts';
import { quoteIdent, quoteString } from '../catalog/types.ts';
import { errorMessage } from '../errors.ts';
import { newId } from '../ids.ts';
import {
  normalizeCell,
  timeoutMessage,
  type Cell,
  type EngineQuery,
  type EngineRun,
  type EngineStatus,
  type QueryEngine,
  type ResultColumn,
  type ResultPage,
} from './engine.ts';
import { QueryError, QueryNotFoundError, QueryRefusedError } from './errors.ts';

interface Run {
  status: EngineStatus;
  columns: ResultColumn[];
  rows: Cell[][];
  slot?: Slot;
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

/** A connection of the pool, with profiling switched on (to its own file) before the configuration was locked. */
interface Slot {
  c: DuckDBConnection;
  profile: string;
}

interface Opened {
  db: DuckDBInstance;
  selectType: number;
  free: Slot[];
}

/** Runs at most this many finished queries' rows in memory; older ones are dropped (their CSV stays in S3). */
const KEEP_RUNS = 50;
/** Queries that run at once; more wait for a connection (their timeout runs while they wait). */
const POOL_SIZE = 4;

/**
 * The local engine: DuckDB in-process over the emulator's stored objects, with one temporary view per catalog table.
 * User SQL runs on a connection of a fixed pool in an instance whose configuration is locked once the pool is made:
 * external access is confined to the lake and quarantine directories (reads; no statement that writes reaches it,
 * see QueryService.check), no extension can be installed or loaded, and no SET, RESET or PRAGMA can change a setting
 * for this or any later query.
 */
export class DuckDbEngine implements QueryEngine {
  readonly name = 'duckdb' as const;
  readonly #runs = new Map<string, Run>();
  #instance?: Promise<Opened>;
  readonly #waiting: ((slot: Slot) => void)[] = [];
  readonly #profileDir = mkdtempSync(path.join(os.tmpdir(), 'tributary-duckdb-'));

  constructor(
    readonly catalog: Catalog,
    readonly layout: LocalObjectLayout,
  ) {}

  #open(): Promise<Opened> {
    this.#instance ??= (async () => {
      // Loaded on first use: a process that never queries locally never needs DuckDB's native binding for it.
      const { DuckDBInstance, StatementType } = await import('@duckdb/node-api');
      const db = await DuckDBInstance.create(':memory:', {
        threads: String(Math.max(1, Math.min(4, os.cpus().length))),
        autoload_known_extensions: 'false',
        autoinstall_known_extensions: 'false',
      });
      const setup = await db.connect();
      const dirs = [this.layout.bucketDir('lake'), this.layout.bucketDir('quarantine'), this.#profileDir].map((d) =>
        quoteString(`${d}${path.sep}`),
      );
      await setup.run(`SET allowed_directories = [${dirs.join(', ')}]`);
      await setup.run('SET enable_external_access = false');
      const free: Slot[] = [];
      for (let i = 0; i < POOL_SIZE; i++) {
        const c = await db.connect();
        const profile = path.join(this.#profileDir, `connection-${i}.json`);
        // Profiling is a per-connection setting: switched on here, since nothing can be set after the lock.
        await c.run(`PRAGMA enable_profiling = 'json'`);
        await c.run(`PRAGMA profiling_output = ${quoteString(profile)}`);
        free.push({ c, profile });
      }
      await setup.run('SET lock_configuration = true');
      setup.closeSync();
      return { db, selectType: StatementType.SELECT, free };
    })();
    return this.#instance;
  }

  async #acquire(): Promise<Slot> {
    const opened = await this.#open();
    const slot = opened.free.pop();
    if (slot) return slot;
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #release(slot: Slot, opened: Opened): void {
    const next = this.#waiting.shift();
    if (next) next(slot);
    else opened.free.push(slot);
  }

  /** Partition directories (relative to the prefix, ending in `/`) holding at least one object of a kind. */
  #dirsWith(t: TableDef, prefix: string | undefined, ext: string): Map<string, string[]> {
    const out = new Map<string, string[]>();
    if (!prefix) return out;
    const wanted = `${ext}${this.layout.suffix}`;
    const base = path.join(this.layout.bucketDir(t.bucket), prefix);
    const visit = (rel: string, depth: number) => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = readdirSync(path.join(base, rel), { withFileTypes: true });
      } catch {
        return;
      }
      if (depth === 0) {
        const files = entries
          .filter((e) => e.isFile() && e.name.endsWith(wanted))
          .map((e) => e.name.slice(0, -this.layout.suffix.length || undefined));
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
    if (t.compactedPrefix)
      listing.set(path.join(this.layout.bucketDir(t.bucket), t.compactedPrefix), { table: t, dirs: compacted });
    const hidden: string[] = [];
    for (const [dir, files] of raw) {
      const parts = compacted.get(dir);
      if (!parts) continue;
      const keys = new Set(files.map((f) => `${t.prefix}${dir}${f}`));
      for (const part of parts) {
        const file = path.join(
          this.layout.bucketDir(t.bucket),
          `${manifestKey(`${t.compactedPrefix}${dir}${part}`)}${this.layout.suffix}`,
        );
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
   * Views over the objects present now, for the tables the statement reads: binding a view lists its files, which on a
   * big lake costs more than a selective query. Returns the names made and the listing they were made from.
   */
  async #views(c: DuckDBConnection, names: ReadonlySet<string>, listing: Listing): Promise<string[]> {
    const wanted = (name: string) => names.has(name);
    const present = new Map<string, PresentFiles>();
    for (const t of this.catalog.tables())
      present.set(
        t.name,
        wanted(t.name) || wanted('lake_objects') ? this.#present(t, listing) : { raw: false, compacted: false },
      );
    const made: string[] = [];
    for (const stmt of duckViews(this.catalog, this.layout, (t) => present.get(t.name)!, wanted)) await c.run(stmt);
    const views = [
      ...this.catalog.tables().map((t) => t.name),
      ...this.catalog.currentViews().map((v) => v.name),
      'lake_objects',
    ];
    for (const name of views) if (wanted(name)) made.push(name);
    return made;
  }

  async start(query: EngineQuery, run: EngineRun): Promise<string> {
    const id = newId();
    const r: Run = {
      status: { state: 'RUNNING', bytesScanned: 0, rows: 0, truncated: false },
      columns: [],
      rows: [],
      done: Promise.resolve(),
    };
    this.#runs.set(id, r);
    this.#trim();
    r.done = this.#execute(r, query, run);
    return id;
  }

  async #execute(run: Run, query: EngineQuery, opts: EngineRun): Promise<void> {
    const started = Date.now();
    const timer = setTimeout(() => {
      run.timedOut = true;
      run.slot?.c.interrupt();
    }, opts.timeoutMs);
    // An interrupt reaches only a statement that runs, and one that comes while DuckDB is starting it is lost (a
    // loaded machine makes that likely): once stopped, it is sent again until the statement ends.
    const resend = setInterval(() => {
      if (run.cancelled || run.timedOut) run.slot?.c.interrupt();
    }, 100);
    let opened: Opened | undefined;
    let made: string[] = [];
    try {
      opened = await this.#open();
      const slot = (run.slot = await this.#acquire());
      if (run.cancelled || run.timedOut) throw new QueryError('cancelled', 'cancelled');
      const listing: Listing = new Map();
      made = await this.#views(slot.c, new Set(query.tables), listing);
      // The limit goes into the query (one row more tells whether it was cut) so DuckDB can stop early and still
      // finish the statement, which is when it writes the profile the bytes-read figure comes from. The guard made
      // sure the text is exactly one SELECT; DuckDB checks again that the wrapped text is one SELECT statement.
      const wrapped = `SELECT * FROM (\n${query.sql}\n) AS _query LIMIT ${opts.rowLimit + 1}`;
      const extracted = await slot.c.extractStatements(wrapped);
      if (extracted.count !== 1) throw new QueryError('not_read_only', 'Only one SELECT statement runs here.');
      const prepared = await extracted.prepare(0);
      if (prepared.statementType !== opened.selectType)
        throw new QueryError('not_read_only', 'Only a SELECT statement runs here.');
      prepared.bind(query.values.map((v): DuckDBValue => v.value));
      // A timeout or cancel that came while the views were made or the statement prepared stops it here.
      if (run.cancelled || run.timedOut) throw new QueryError('cancelled', 'cancelled');
      const result = await prepared.stream();
      run.columns = result
        .columnNames()
        .map((name, i) => ({ name, type: result.columnTypes()[i]!.toString().toLowerCase() }));
      for await (const chunk of result.yieldRowsJson()) {
        for (const row of chunk) {
          if (run.rows.length >= opts.rowLimit) run.status.truncated = true;
          else run.rows.push(row.map((v, i) => normalizeCell(run.columns[i]!.type, v)));
        }
        run.status.rows = run.rows.length;
      }
      run.status.rows = run.rows.length;
      prepared.destroySync();
      run.status.bytesScanned = this.#bytesRead(slot.profile, listing, query);
      run.status.state = 'SUCCEEDED';
    } catch (err) {
      run.status.state = run.cancelled ? 'CANCELLED' : 'FAILED';
      if (!run.cancelled)
        run.status.error = run.timedOut ? timeoutMessage(opts.timeoutMs) : cleanDuckError(errorMessage(err));
    } finally {
      clearTimeout(timer);
      clearInterval(resend);
      run.status.engineMs = Date.now() - started;
      const slot = run.slot;
      run.slot = undefined;
      if (slot && opened) {
        for (const name of made) await slot.c.run(`DROP VIEW IF EXISTS ${quoteIdent(name)}`).catch(() => {});
        rmSync(slot.profile, { force: true });
        this.#release(slot, opened);
      }
    }
  }

  /**
   * Bytes of the objects a query read, from DuckDB's profile: scans that list their files are summed exactly; for
   * scans whose list DuckDB cuts short ("a, ..."), the files of the partitions the guard kept, scaled to the number of
   * files DuckDB says it read.
   */
  #bytesRead(profileFile: string, listing: Listing, query: EngineQuery): number {
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
      const names = String(info['Filename(s)'] ?? '')
        .split(', ')
        .filter((n) => n && n !== '...');
      const listed = !String(info['Filename(s)'] ?? '').endsWith('...') && names.every((n) => !n.includes('*'));
      if (!names.length) continue;
      if (listed) {
        for (const f of names) bytes += fileSize(f);
        continue;
      }
      const first = names[0]!;
      const entry = [...listing].find(([base]) => first.startsWith(base));
      if (!entry) continue;
      const [base, { table, dirs }] = entry;
      let sum = 0;
      let count = 0;
      for (const [dir, files] of dirs) {
        const values = Object.fromEntries(
          dir
            .split('/')
            .filter(Boolean)
            .map((seg) => [seg.slice(0, seg.indexOf('=')), decodePartitionValue(seg.slice(seg.indexOf('=') + 1))]),
        );
        if (!query.keeps(table.name, values)) continue;
        for (const f of files) {
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

  settled(id: string): Promise<void> | undefined {
    return this.#runs.get(id)?.done;
  }

  async results(id: string, page: { nextToken?: string; maxResults: number }): Promise<ResultPage> {
    const run = this.#run(id);
    if (run.status.state !== 'SUCCEEDED')
      throw new QueryError(
        'not_ready',
        `Query ${id} is ${run.status.state}; results exist only once it has SUCCEEDED.`,
      );
    const from = page.nextToken ? Number(page.nextToken) : 0;
    if (!Number.isSafeInteger(from) || from < 0)
      throw new QueryRefusedError(
        'bad_token',
        'This nextToken was not issued for these results; start again from the first page.',
      );
    const rows = run.rows.slice(from, from + page.maxResults);
    const next = from + rows.length;
    return { columns: run.columns, rows, ...(next < run.rows.length ? { nextToken: String(next) } : {}) };
  }

  async cancel(id: string): Promise<void> {
    const run = this.#run(id);
    if (run.status.state !== 'RUNNING') return;
    run.cancelled = true;
    run.slot?.c.interrupt();
    await run.done;
  }

  /** Waits for a query to finish (tests and the CLI; the console polls `status`). */
  async wait(id: string): Promise<EngineStatus> {
    await this.#run(id).done;
    return this.status(id);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#runs.values()].map((r) => r.done));
    const opened = await this.#instance;
    if (opened) {
      for (const slot of opened.free) slot.c.closeSync();
      opened.db.closeSync();
    }
    this.#instance = undefined;
    rmSync(this.#profileDir, { recursive: true, force: true });
  }

  #run(id: string): Run {
    const run = this.#runs.get(id);
    if (!run)
      throw new QueryNotFoundError(
        'unknown_query',
        `No query ${id} in this process (the local engine keeps a query's rows in the process that ran it).`,
      );
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

/** DuckDB errors carry the view's generated SQL around; keep the part that speaks to the user. */
function cleanDuckError(message: string): string {
  return message.replace(/\n\nLINE \d+:[\s\S]*$/, '').trim();
}
