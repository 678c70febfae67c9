import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parse as parseCsv } from 'csv-parse';
import type { Readable } from 'node:stream';
import type { Catalog, TableDef } from '../catalog/catalog.ts';
import { partitionValuesOf } from '../catalog/catalog.ts';
import { errorMessage } from '../errors.ts';
import type { Actor } from '../quarantine/service.ts';
import { listAll } from '../aws/s3.ts';
import { getJsonOrNull, newestFirstKey, putJson } from '../aws/s3.ts';
import { csvText } from '../util/csv.ts';
import { formatBytes } from '../util/format.ts';
import {
  isFinal,
  isNumericType,
  type Cell,
  type EngineQuery,
  type EngineRun,
  type EngineStatus,
  type QueryEngine,
  type QueryState,
  type ResultColumn,
  type ResultPage,
} from './engine.ts';
import { QueryError, QueryForbiddenError, QueryNotFoundError, QueryRefusedError } from './errors.ts';
import { guardQuery, type GuardReport, type ObjectSet, type PartitionValues, type TableRead } from './guard.ts';
import { orderedValues, type BoundValue } from './params.ts';
import { sleep } from '../util/time.ts';
import { sqlParser, type SqlParser } from './parser.ts';

/** Athena's price: $5 per TB scanned, rounded up to the megabyte, at least 10 MB per query. */
export const ATHENA_USD_PER_TB = 5;
const MB = 1024 * 1024;
const TB = 1024 ** 4;

/** What Athena would charge for a query that scanned `bytes` (failed queries are not charged). */
export function athenaCostUsd(bytes: number, state: QueryState): number {
  if (state === 'FAILED' || state === 'QUEUED') return 0;
  const billed = Math.max(10 * MB, Math.ceil(bytes / MB) * MB);
  return (billed / TB) * ATHENA_USD_PER_TB;
}

export interface QueryLimits {
  timeoutMs: number;
  /** Rows kept per query; more are cut off and the result says `truncated`. */
  rowLimit: number;
  /**
   * The partition-filter guard's limit: a query whose estimated scan (the bytes of the partitions its dt/hour filters
   * keep, over every table it reads) is larger is refused unless an operator lifts the guard.
   */
  maxUnfilteredScanBytes: number;
}

export const DEFAULT_LIMITS: QueryLimits = {
  timeoutMs: 5 * 60_000,
  rowLimit: 10_000,
  maxUnfilteredScanBytes: 100 * MB,
};

export interface QueryServiceDeps {
  engine: QueryEngine;
  catalog: Catalog;
  s3: S3Client;
  buckets: { lake: string; quarantine: string; athenaResults: string };
  limits?: Partial<QueryLimits>;
  now?: () => Date;
  /** DuckDB's parser (the process's shared one by default). */
  parser?: SqlParser;
}

export interface QueryRequest {
  sql: string;
  params?: Record<string, BoundValue>;
  /** Name of the saved query it came from. */
  saved?: string;
  /** Lift the partition-filter guard for this query (operators only). */
  allowFullScan?: boolean;
  rowLimit?: number;
  timeoutMs?: number;
  /**
   * Who runs it: the console's signed-in user, the CLI's OS user. Without one the caller is this process itself (the
   * CLI, the benchmark, tests), which acts as an operator.
   */
  actor?: Actor;
}

/** One query as the service reports it, as its start record stores it, and as its history entry stores it. */
export interface QueryInfo {
  id: string;
  engine: QueryEngine['name'];
  sql: string;
  saved?: string;
  params: Record<string, string | number>;
  /** Who ran it (the signed-in user's name, else their role; the CLI's OS user). */
  by?: string;
  state: QueryState;
  error?: string;
  submittedAt: string;
  completedAt?: string;
  elapsedMs: number;
  bytesScanned: number;
  costUsd: number;
  rows: number;
  truncated: boolean;
  /** The limits it runs with (any instance applies them from the record). */
  timeoutMs: number;
  rowLimit: number;
  /** The guard's estimate of the bytes it scans (before it ran). */
  estimatedBytes?: number;
  /** Key of the CSV of the result in the athena-results bucket (the local engine's, or Athena's own). */
  resultKey?: string;
}

/** Bytes and objects of one partition directory of a table. */
export interface PartitionSize {
  values: PartitionValues;
  bytes: number;
  objects: number;
}

/** A table's objects by partition: the JSONL ones and the compacted Parquet ones. */
export interface TableListing {
  raw: PartitionSize[];
  compacted: PartitionSize[];
}

/** What one table reference of a query would scan. */
export interface ScanEstimate {
  read: TableRead;
  bytes: number;
  objects: number;
  partitions: number;
  firstDt?: string;
  lastDt?: string;
}

const HISTORY_PREFIX = 'history/';
const RESULTS_PREFIX = 'query-results/';
const RECORDS_PREFIX = 'queries/';
const SIZE_CACHE_MS = 30_000;
/** Queries kept in memory; older finished ones are read back from S3 when asked for. */
const KEEP_QUERIES = 500;
/** How long after its timeout a local query that another process started is given before it counts as interrupted. */
const ORPHAN_GRACE_MS = 60_000;
/** Athena's QueryExecutionId and the local engine's UUIDs: letters, digits, `-` and `_`, at most 128. */
const QUERY_ID = /^[A-Za-z0-9_-]{1,128}$/;
const CSV_CHUNK_ROWS = 1000;

/**
 * Runs guarded, read-only SQL on one engine and keeps a history in S3. Guards: DuckDB's parser must read the text as
 * exactly one SELECT, every table it reads must be a lake table, a timeout and a row limit, and a partition-filter
 * guard that estimates the scan from the partitions the query's dt/hour filters keep and refuses one over the limit
 * (Athena cannot require a partition filter) before it costs anything, naming the filter to add.
 *
 * State that must survive a Lambda instance is in S3, never only here: a record under `queries/<id>.json` written when
 * a query starts (the id is Athena's QueryExecutionId), and its history entry, written under a key derived from the
 * record by whichever instance first sees the query end (the same key from every instance, so never twice).
 */
export class QueryService {
  readonly limits: QueryLimits;
  readonly #queries = new Map<string, QueryInfo>();
  readonly #finalized = new Set<string>();
  readonly #finalizing = new Map<string, Promise<void>>();
  readonly #listings = new Map<string, { at: number; listing: TableListing }>();
  readonly #parser: SqlParser;

  constructor(readonly deps: QueryServiceDeps) {
    this.limits = { ...DEFAULT_LIMITS, ...deps.limits };
    this.#parser = deps.parser ?? sqlParser();
  }

  get engine(): QueryEngine['name'] {
    return this.deps.engine.name;
  }

  /** A table's objects grouped by partition directory (JSONL and compacted), from the bucket listing; cached for 30 s. */
  async tableListing(t: TableDef): Promise<TableListing> {
    const cached = this.#listings.get(t.name);
    if (cached && Date.now() - cached.at < SIZE_CACHE_MS) return cached.listing;
    const bucket = t.bucket === 'lake' ? this.deps.buckets.lake : this.deps.buckets.quarantine;
    const group = async (prefix: string | undefined): Promise<PartitionSize[]> => {
      if (!prefix) return [];
      const byDir = new Map<string, PartitionSize>();
      for (const o of await listAll(this.deps.s3, bucket, prefix)) {
        const values = partitionValuesOf(t, o.Key!);
        if (!values) continue;
        const dir = o.Key!.slice(0, o.Key!.lastIndexOf('/'));
        const p = byDir.get(dir) ?? { values, bytes: 0, objects: 0 };
        p.bytes += o.Size ?? 0;
        p.objects++;
        byDir.set(dir, p);
      }
      return [...byDir.values()];
    };
    const listing = { raw: await group(t.prefix), compacted: await group(t.compactedPrefix) };
    this.#listings.set(t.name, { at: Date.now(), listing });
    return listing;
  }

  /** What each table reference of a guarded query would scan: the objects of the partitions its filter keeps. */
  async estimate(reads: TableRead[]): Promise<ScanEstimate[]> {
    const out: ScanEstimate[] = [];
    for (const read of reads) {
      const listing = await this.tableListing(read.table);
      const sets: Record<ObjectSet, PartitionSize[]> = {
        all: [...listing.raw, ...listing.compacted],
        raw: listing.raw,
        compacted: listing.compacted,
      };
      const e: ScanEstimate = { read, bytes: 0, objects: 0, partitions: 0 };
      for (const p of sets[read.objects]) {
        if (!read.keeps(p.values)) continue;
        e.bytes += p.bytes;
        e.objects += p.objects;
        e.partitions++;
        const dt = p.values.dt;
        if (dt && (!e.firstDt || dt < e.firstDt)) e.firstDt = dt;
        if (dt && (!e.lastDt || dt > e.lastDt)) e.lastDt = dt;
      }
      out.push(e);
    }
    return out;
  }

  /**
   * Applies the guards; returns the statement for the engine (placeholders bound in order) and the guard's estimate,
   * or throws {@link QueryRefusedError} (what to change) or {@link QueryForbiddenError} (a viewer lifting the guard).
   */
  async check(req: QueryRequest): Promise<{ query: EngineQuery; estimate: ScanEstimate[]; report: GuardReport }> {
    if (req.allowFullScan && req.actor?.role === 'viewer') {
      throw new QueryForbiddenError(
        'Only an operator can lift the scan guard (allowFullScan). Narrow the query with a filter on dt instead, or ask an operator to run it.',
      );
    }
    if (typeof req.sql !== 'string')
      throw new QueryRefusedError('empty_query', 'Send the query as text: one SELECT statement.');
    const parsed = await this.#parser.parse(req.sql);
    if (this.engine === 'athena' && parsed.sql.includes('/*')) {
      // DuckDB nests block comments, Trino ends one at the first */: with one in the text the guard and Athena could
      // read two different queries.
      throw new QueryRefusedError(
        'block_comment',
        "Write comments with -- here: Athena (Trino) ends a /* comment at the first */ while the guard's parser nests them, so the two could read different queries.",
      );
    }
    const values = orderedValues(parsed.params, req.params ?? {});
    const report = guardQuery(parsed.tree, {
      catalog: this.deps.catalog,
      engine: this.engine,
      params: req.params ?? {},
    });
    if (report.fileReaders.length && !req.allowFullScan) {
      throw new QueryRefusedError(
        'partition_filter_required',
        `${[...new Set(report.fileReaders)].map((f) => `${f}()`).join(', ')} reads files directly, past the partition guard; query the lake's tables (${this.deps.catalog
          .tables()
          .map((t) => t.name)
          .join(
            ', ',
          )}) with a filter on dt instead. An operator can run it anyway with --allow-full-scan (the console's "allow a full scan").`,
      );
    }
    const estimate = await this.estimate(report.reads);
    const total = estimate.reduce((a, e) => a + e.bytes, 0);
    if (!req.allowFullScan && total > this.limits.maxUnfilteredScanBytes) throw this.#tooBig(estimate, total);
    const byTable = new Map<string, TableRead[]>();
    for (const r of report.reads) byTable.set(r.table.name, [...(byTable.get(r.table.name) ?? []), r]);
    return {
      query: {
        sql: parsed.sql,
        values,
        tables: [...report.tables, ...(report.listing ? ['lake_objects'] : [])],
        keeps: (table, partition) => (byTable.get(table) ?? []).some((r) => r.keeps(partition)) || !byTable.has(table),
      },
      estimate,
      report,
    };
  }

  #tooBig(estimate: ScanEstimate[], total: number): QueryRefusedError {
    const parts = estimate
      .filter((e) => e.bytes > 0)
      .sort((a, b) => b.bytes - a.bytes)
      .map((e) => {
        const range = !e.firstDt
          ? ''
          : e.firstDt === e.lastDt
            ? `, dt ${e.firstDt}`
            : `, dt ${e.firstDt} … ${e.lastDt}`;
        const how = e.read.constrained
          ? 'kept by its filter'
          : 'with no filter on dt in the WHERE of the SELECT that reads it';
        return `${e.read.written}: ${formatBytes(e.bytes)} in ${e.objects.toLocaleString('en-US')} objects${range}, ${how}`;
      });
    const worst = estimate.reduce((a, e) => (e.bytes > a.bytes ? e : a));
    const last = worst.lastDt ?? this.#today();
    const weekBefore = new Date(Date.parse(`${last}T00:00:00Z`) - 6 * 86_400_000).toISOString().slice(0, 10);
    const add = worst.read.constrained
      ? `Narrow the filter on dt where ${worst.read.written} is read`
      : `Add a filter on dt to the WHERE of the SELECT that reads ${worst.read.written}`;
    return new QueryRefusedError(
      'partition_filter_required',
      `This query would scan about ${formatBytes(total)} (${parts.join('; ')}); the scan limit is ${formatBytes(this.limits.maxUnfilteredScanBytes)}. ` +
        `${add}, e.g. WHERE dt = '${last}' or WHERE dt BETWEEN '${weekBefore}' AND '${last}' (and on hour to narrow further). An operator can run it anyway with --allow-full-scan (the console's "allow a full scan").`,
    );
  }

  /**
   * Guards and starts a query; returns at once with its id (state RUNNING or QUEUED), once its record is in S3 (a
   * query whose record cannot be written is stopped again: nobody could ask about it).
   */
  async start(req: QueryRequest): Promise<QueryInfo> {
    const { query, estimate } = await this.check(req);
    const timeoutMs = Math.min(req.timeoutMs ?? this.limits.timeoutMs, this.limits.timeoutMs);
    const rowLimit = Math.min(req.rowLimit ?? this.limits.rowLimit, this.limits.rowLimit);
    const submittedAt = this.#now().toISOString();
    const id = await this.deps.engine.start(query, { submittedAt, timeoutMs, rowLimit });
    const info: QueryInfo = {
      id,
      engine: this.deps.engine.name,
      sql: req.sql,
      ...(req.saved ? { saved: req.saved } : {}),
      params: Object.fromEntries(Object.entries(req.params ?? {}).map(([k, v]) => [k, v.value])),
      by: req.actor?.by ?? 'local',
      state: 'RUNNING',
      submittedAt,
      elapsedMs: 0,
      bytesScanned: 0,
      costUsd: 0,
      rows: 0,
      truncated: false,
      timeoutMs,
      rowLimit,
      estimatedBytes: estimate.reduce((a, e) => a + e.bytes, 0),
    };
    try {
      await putJson(this.deps.s3, this.deps.buckets.athenaResults, recordKey(id), info);
    } catch (err) {
      await this.deps.engine.cancel(id).catch(() => {});
      throw err;
    }
    this.#remember(info);
    // A local query ends in this process: write its result and history then, not only when somebody polls.
    void this.deps.engine
      .settled?.(id)
      ?.then(() => this.status(id))
      .catch(() => {});
    return { ...info };
  }

  /** Current state of a query, started by this instance or any other (elapsed time, bytes, cost, rows). */
  async status(id: string): Promise<QueryInfo> {
    const info = await this.#info(id);
    if (this.#finalized.has(id)) return { ...info };
    let s: EngineStatus;
    try {
      s = await this.deps.engine.status(id, runOf(info));
    } catch (err) {
      if (!(err instanceof QueryNotFoundError)) throw err;
      // The local engine runs it in another process, which writes the history entry when it ends.
      const ended = await getJsonOrNull<QueryInfo>(this.deps.s3, this.deps.buckets.athenaResults, historyKey(info));
      if (ended) {
        this.#finalized.add(id);
        this.#remember(ended);
        return { ...ended };
      }
      if (this.#now().getTime() < Date.parse(info.submittedAt) + info.timeoutMs + ORPHAN_GRACE_MS) {
        return { ...info, elapsedMs: this.#now().getTime() - Date.parse(info.submittedAt) };
      }
      s = {
        state: 'FAILED',
        error: 'The process that ran this query stopped before it finished; run it again.',
        bytesScanned: 0,
        rows: 0,
        truncated: false,
      };
    }
    Object.assign(info, {
      state: s.state,
      ...(s.error ? { error: s.error } : {}),
      bytesScanned: s.bytesScanned,
      costUsd: athenaCostUsd(s.bytesScanned, s.state),
      rows: s.rows,
      truncated: s.truncated,
      elapsedMs: this.#now().getTime() - Date.parse(info.submittedAt),
    });
    if (isFinal(s.state)) await this.#finalize(info, s);
    return { ...info };
  }

  /** Polls until the query is final. */
  async wait(id: string, everyMs = 100): Promise<QueryInfo> {
    for (;;) {
      const info = await this.status(id);
      if (isFinal(info.state)) return info;
      await sleep(everyMs);
    }
  }

  /**
   * One page of a finished query's rows. Athena answers for any instance; the local engine keeps rows in the process
   * that ran the query, so another process is told to download the CSV instead.
   */
  async results(id: string, page: { nextToken?: string; maxResults?: number } = {}): Promise<ResultPage> {
    const info = await this.#info(id);
    const maxResults = Math.max(1, Math.min(Math.floor(page.maxResults ?? 1000) || 1000, 1000));
    try {
      return await this.deps.engine.results(
        id,
        { maxResults, ...(page.nextToken ? { nextToken: page.nextToken } : {}) },
        runOf(info),
      );
    } catch (err) {
      if (err instanceof QueryNotFoundError) {
        throw new QueryError(
          'elsewhere',
          `The rows of query ${id} are held by the process that ran it (the local engine keeps them in memory); download its CSV instead (GET /api/queries/${id}/csv, tributary query --csv ${id}).`,
        );
      }
      throw err;
    }
  }

  /** All rows the query kept (up to the row limit). */
  async allResults(id: string): Promise<{ columns: ResultColumn[]; rows: Cell[][] }> {
    const rows: Cell[][] = [];
    let columns: ResultColumn[] = [];
    let token: string | undefined;
    do {
      const page = await this.results(id, { ...(token ? { nextToken: token } : {}), maxResults: 1000 });
      columns = page.columns;
      rows.push(...page.rows);
      token = page.nextToken;
    } while (token);
    return { columns, rows };
  }

  /** Cancels a running query (Athena: from any instance; locally: from the process that runs it). */
  async cancel(id: string): Promise<QueryInfo> {
    const info = await this.#info(id);
    if (this.#finalized.has(id)) return { ...info };
    try {
      await this.deps.engine.cancel(id);
    } catch (err) {
      if (err instanceof QueryNotFoundError)
        throw new QueryError(
          'elsewhere',
          `Query ${id} runs in another process (the local engine); only that process can cancel it.`,
        );
      throw err;
    }
    return this.status(id);
  }

  /** Runs a query to the end and returns its info and rows (the CLI and the saved-query tests). */
  async run(req: QueryRequest): Promise<{ info: QueryInfo; columns: ResultColumn[]; rows: Cell[][] }> {
    const started = await this.start(req);
    const info = await this.wait(started.id);
    if (info.state !== 'SUCCEEDED') {
      throw new QueryError(
        info.state === 'CANCELLED' ? 'cancelled' : 'query_failed',
        info.error ?? `Query ${info.id} ended ${info.state}.`,
      );
    }
    return { info, ...(await this.allResults(info.id)) };
  }

  /**
   * The CSV of a finished query, in chunks, from any instance: locally the one the service wrote when the query ended,
   * in AWS Athena's own result object (its OutputLocation), re-written so no cell can be read as a formula.
   */
  async csv(id: string): Promise<AsyncIterable<string>> {
    const info = await this.status(id);
    if (!isFinal(info.state))
      throw new QueryError('not_ready', `Query ${id} is ${info.state}; its CSV exists once it has SUCCEEDED.`);
    if (info.state !== 'SUCCEEDED' || !info.resultKey)
      throw new QueryNotFoundError(
        'no_results',
        `Query ${id} ended ${info.state}; only queries that SUCCEEDED have a CSV.`,
      );
    const body = await this.#object(info.resultKey, id);
    if (this.deps.engine.name === 'duckdb') return chunksOf(body);
    return this.#athenaCsv(id, body);
  }

  async #object(key: string, id: string): Promise<Readable> {
    try {
      const res = await this.deps.s3.send(new GetObjectCommand({ Bucket: this.deps.buckets.athenaResults, Key: key }));
      return res.Body as Readable;
    } catch (err) {
      throw new QueryNotFoundError(
        'no_results',
        `The stored result of query ${id} cannot be read (${errorMessage(err)}); run the query again.`,
      );
    }
  }

  /** Athena's CSV (a header, then every value quoted as text) with the column types of its result set. */
  async *#athenaCsv(id: string, body: Readable): AsyncIterable<string> {
    const { columns: meta } = await this.results(id, { maxResults: 1 });
    const types = new Map(meta.map((c) => [c.name, c.type]));
    let columns: { name: string; numeric: boolean }[] | undefined;
    let rows: string[][] = [];
    let first = true;
    for await (const record of body.pipe(parseCsv({ relax_column_count: false, bom: true })) as AsyncIterable<
      string[]
    >) {
      if (!columns) {
        columns = record.map((name) => ({ name, numeric: isNumericType(types.get(name) ?? 'varchar') }));
        continue;
      }
      rows.push(record);
      if (rows.length >= CSV_CHUNK_ROWS) {
        yield csvText(columns, rows, { header: first });
        first = false;
        rows = [];
      }
    }
    if (columns && (rows.length || first)) yield csvText(columns, rows, { header: first });
  }

  /** The newest history entries first. */
  async history(limit = 50): Promise<QueryInfo[]> {
    const keys = (await listAll(this.deps.s3, this.deps.buckets.athenaResults, HISTORY_PREFIX))
      .map((o) => o.Key!)
      .sort()
      .slice(0, limit);
    const out: QueryInfo[] = [];
    for (const key of keys) {
      const res = await this.deps.s3.send(new GetObjectCommand({ Bucket: this.deps.buckets.athenaResults, Key: key }));
      out.push(JSON.parse(await res.Body!.transformToString()) as QueryInfo);
    }
    return out;
  }

  /** A query's info: this instance's, else its history entry (it has ended), else its start record (another instance's). */
  async #info(id: string): Promise<QueryInfo> {
    if (!QUERY_ID.test(id))
      throw new QueryNotFoundError('unknown_query', `${JSON.stringify(id.slice(0, 140))} is not a query id.`);
    const known = this.#queries.get(id);
    if (known) return known;
    const record = await getJsonOrNull<QueryInfo>(this.deps.s3, this.deps.buckets.athenaResults, recordKey(id));
    if (!record)
      throw new QueryNotFoundError(
        'unknown_query',
        `No query ${id}; see the history (tributary query --history) for earlier ones.`,
      );
    const ended = await getJsonOrNull<QueryInfo>(this.deps.s3, this.deps.buckets.athenaResults, historyKey(record));
    if (ended) this.#finalized.add(id);
    this.#remember(ended ?? record);
    return this.#queries.get(id)!;
  }

  #remember(info: QueryInfo): void {
    this.#queries.set(info.id, info);
    for (const [id] of this.#queries) {
      if (this.#queries.size <= KEEP_QUERIES) break;
      if (this.#finalized.has(id)) {
        this.#queries.delete(id);
        this.#finalized.delete(id);
      }
    }
  }

  /**
   * Writes a query's end once: the local engine's CSV (before the history entry, so a history entry that says
   * SUCCEEDED always has its CSV), then the history entry under the key its record determines. Two instances that see
   * the end at once write the same key with the same content (the engine's completion time): one entry.
   */
  async #finalize(info: QueryInfo, s: EngineStatus): Promise<void> {
    const pending = this.#finalizing.get(info.id);
    if (pending) return pending;
    const done = (async () => {
      info.completedAt = s.completedAt ?? this.#now().toISOString();
      info.elapsedMs = Math.max(0, Date.parse(info.completedAt) - Date.parse(info.submittedAt));
      const bucket = this.deps.buckets.athenaResults;
      if (info.state === 'SUCCEEDED') {
        if (this.deps.engine.name === 'duckdb') {
          info.resultKey = `${RESULTS_PREFIX}${info.id}.csv`;
          const { columns, rows } = await this.allResults(info.id);
          const body = csvText(
            columns.map((c) => ({ name: c.name, numeric: isNumericType(c.type) })),
            rows,
          );
          await this.deps.s3.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: info.resultKey,
              Body: body,
              ContentType: 'text/csv; charset=utf-8',
            }),
          );
        } else if (s.resultLocation) {
          const at = s3Location(s.resultLocation);
          if (at?.bucket === bucket) info.resultKey = at.key;
        }
      }
      await putJson(this.deps.s3, bucket, historyKey(info), info);
      this.#finalized.add(info.id);
    })();
    this.#finalizing.set(info.id, done);
    try {
      await done;
    } finally {
      this.#finalizing.delete(info.id);
    }
  }

  #now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  #today(): string {
    return this.#now().toISOString().slice(0, 10);
  }
}

const recordKey = (id: string) => `${RECORDS_PREFIX}${id}.json`;
const historyKey = (info: Pick<QueryInfo, 'id' | 'submittedAt'>) =>
  newestFirstKey(HISTORY_PREFIX, info.submittedAt, info.id);
const runOf = (info: QueryInfo): EngineRun => ({
  submittedAt: info.submittedAt,
  timeoutMs: info.timeoutMs,
  rowLimit: info.rowLimit,
});

/** `s3://bucket/key` → its parts (Athena's OutputLocation). */
function s3Location(uri: string): { bucket: string; key: string } | null {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  return m ? { bucket: m[1]!, key: m[2]! } : null;
}

async function* chunksOf(body: Readable): AsyncIterable<string> {
  // Decoded by the stream, so a character split across two chunks stays whole.
  for await (const chunk of body.setEncoding('utf8')) yield chunk as string;
}
