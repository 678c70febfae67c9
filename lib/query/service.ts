import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Catalog, TableDef } from '../catalog/catalog.ts';
import { partitionValuesOf } from '../catalog/catalog.ts';
import { errorMessage } from '../errors.ts';
import { listAll } from '../status.ts';
import { newestFirstKey, putJson } from '../aws/s3.ts';
import { isFinal, type Cell, type EngineStatus, type QueryEngine, type QueryState, type ResultColumn, type ResultPage } from './engine.ts';
import { bindPlaceholders, type BoundValue } from './params.ts';
import { toCsv } from './csv.ts';
import { formatBytes } from '../util/format.ts';
import { QueryError, QueryRefusedError, assertReadOnly, filtersOn, referencedTables } from './sql.ts';

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
  /** A query over a partitioned table without a dt filter is refused when the table holds more than this. */
  maxUnfilteredScanBytes: number;
}

export const DEFAULT_LIMITS: QueryLimits = { timeoutMs: 5 * 60_000, rowLimit: 10_000, maxUnfilteredScanBytes: 100 * MB };

export interface QueryServiceDeps {
  engine: QueryEngine;
  catalog: Catalog;
  s3: S3Client;
  buckets: { lake: string; quarantine: string; athenaResults: string };
  limits?: Partial<QueryLimits>;
  now?: () => Date;
}

export interface QueryRequest {
  sql: string;
  params?: Record<string, BoundValue>;
  /** Name of the saved query it came from. */
  saved?: string;
  /** Skip the partition-filter guard for this query. */
  allowFullScan?: boolean;
  rowLimit?: number;
  timeoutMs?: number;
  /** Who ran it (the console's user; the CLI's OS user). */
  by?: string;
}

/** One query as the service reports it, and as its history entry stores it. */
export interface QueryInfo {
  id: string;
  engine: QueryEngine['name'];
  sql: string;
  saved?: string;
  params: Record<string, string | number>;
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
  /** Key of the CSV of the full result in the athena-results bucket. */
  resultKey?: string;
}

export interface TableSize {
  bytes: number;
  objects: number;
  firstDt?: string;
  lastDt?: string;
}

const HISTORY_PREFIX = 'history/';
const RESULTS_PREFIX = 'query-results/';
const SIZE_CACHE_MS = 30_000;

/**
 * Runs guarded, read-only SQL on one engine and keeps a history in S3. Guards: one SELECT/WITH statement, a timeout, a
 * row limit, and a partition-filter guard (Athena cannot require a filter on dt; this refuses an unfiltered scan of
 * a big partitioned table before it costs anything, naming the filter to add).
 */
export class QueryService {
  readonly limits: QueryLimits;
  readonly #queries = new Map<string, QueryInfo>();
  readonly #finalized = new Set<string>();
  readonly #sizes = new Map<string, { at: number; size: TableSize }>();

  constructor(readonly deps: QueryServiceDeps) {
    this.limits = { ...DEFAULT_LIMITS, ...deps.limits };
  }

  get engine(): QueryEngine['name'] {
    return this.deps.engine.name;
  }

  /** Objects and bytes of a table (JSONL and compacted), and the dt range they cover; cached for 30 s. */
  async tableSize(t: TableDef): Promise<TableSize> {
    const cached = this.#sizes.get(t.name);
    if (cached && Date.now() - cached.at < SIZE_CACHE_MS) return cached.size;
    const bucket = t.bucket === 'lake' ? this.deps.buckets.lake : this.deps.buckets.quarantine;
    const objects = (await listAll(this.deps.s3, bucket, t.prefix)).concat(t.compactedPrefix ? await listAll(this.deps.s3, bucket, t.compactedPrefix) : []);
    const size: TableSize = { bytes: 0, objects: 0 };
    for (const o of objects) {
      const values = partitionValuesOf(t, o.Key!);
      if (!values) continue;
      size.bytes += o.Size ?? 0;
      size.objects++;
      const dt = values.dt;
      if (dt && (!size.firstDt || dt < size.firstDt)) size.firstDt = dt;
      if (dt && (!size.lastDt || dt > size.lastDt)) size.lastDt = dt;
    }
    this.#sizes.set(t.name, { at: Date.now(), size });
    return size;
  }

  /** Applies the guards; returns the statement with placeholders bound, or throws {@link QueryRefusedError}. */
  async check(req: QueryRequest): Promise<{ sql: string; values: BoundValue[]; tables: string[] }> {
    const tokens = assertReadOnly(req.sql);
    const tables = referencedTables(tokens).filter((n) => this.deps.catalog.has(n));
    if (!req.allowFullScan && !filtersOn(tokens, 'dt')) {
      for (const name of tables) {
        const t = this.deps.catalog.table(name);
        if (!t.partitions.some((p) => p.name === 'dt')) continue;
        const size = await this.tableSize(t);
        if (size.bytes > this.limits.maxUnfilteredScanBytes) {
          const last = size.lastDt ?? this.#today();
          const weekBefore = new Date(Date.parse(`${last}T00:00:00Z`) - 6 * 86_400_000).toISOString().slice(0, 10);
          throw new QueryRefusedError(
            'partition_filter_required',
            `This query reads all of ${t.name} (${formatBytes(size.bytes)} in ${size.objects.toLocaleString('en-US')} objects${size.firstDt ? `, dt ${size.firstDt} … ${size.lastDt}` : ''}) without a filter on its partition column dt; unfiltered scans are limited to ${formatBytes(this.limits.maxUnfilteredScanBytes)}. ` +
              `Add a filter on dt, e.g. WHERE dt = '${last}' or WHERE dt BETWEEN '${weekBefore}' AND '${last}' (and on hour to narrow further). To scan everything anyway, pass --allow-full-scan.`,
          );
        }
      }
    }
    const bound = bindPlaceholders(req.sql, req.params ?? {});
    return { ...bound, tables };
  }

  /** Guards and starts a query; returns at once with its id (state RUNNING or QUEUED). */
  async start(req: QueryRequest): Promise<QueryInfo> {
    const { sql, values } = await this.check(req);
    const timeoutMs = Math.min(req.timeoutMs ?? this.limits.timeoutMs, this.limits.timeoutMs);
    const rowLimit = Math.min(req.rowLimit ?? this.limits.rowLimit, this.limits.rowLimit);
    const submitted = this.#now();
    const id = await this.deps.engine.start(sql, values, { timeoutMs, rowLimit });
    const info: QueryInfo = {
      id,
      engine: this.deps.engine.name,
      sql: req.sql,
      ...(req.saved ? { saved: req.saved } : {}),
      params: Object.fromEntries(Object.entries(req.params ?? {}).map(([k, v]) => [k, v.value])),
      ...(req.by ? { by: req.by } : {}),
      state: 'RUNNING',
      submittedAt: submitted.toISOString(),
      elapsedMs: 0,
      bytesScanned: 0,
      costUsd: 0,
      rows: 0,
      truncated: false,
    };
    this.#queries.set(id, info);
    return info;
  }

  /** Current state of a query of this process (elapsed time, bytes, cost, rows). */
  async status(id: string): Promise<QueryInfo> {
    const info = this.#queries.get(id);
    if (!info) throw new QueryError('unknown_query', `No running query ${id}; finished ones are in the history (tributary query --history).`);
    if (this.#finalized.has(id)) return info;
    let s: EngineStatus;
    try {
      s = await this.deps.engine.status(id);
    } catch (err) {
      s = { state: 'FAILED', error: errorMessage(err), bytesScanned: 0, rows: 0, truncated: false };
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
    if (isFinal(s.state)) await this.#finalize(info);
    return info;
  }

  /** Polls until the query is final. */
  async wait(id: string, everyMs = 100): Promise<QueryInfo> {
    for (;;) {
      const info = await this.status(id);
      if (isFinal(info.state)) return info;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }

  /** One page of a finished query's rows. */
  results(id: string, page: { nextToken?: string; maxResults?: number } = {}): Promise<ResultPage> {
    return this.deps.engine.results(id, { maxResults: Math.min(page.maxResults ?? 1000, 1000), ...(page.nextToken ? { nextToken: page.nextToken } : {}) });
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

  async cancel(id: string): Promise<QueryInfo> {
    await this.deps.engine.cancel(id);
    return this.status(id);
  }

  /** Runs a query to the end and returns its info and rows (the CLI and the saved-query tests). */
  async run(req: QueryRequest): Promise<{ info: QueryInfo; columns: ResultColumn[]; rows: Cell[][] }> {
    const started = await this.start(req);
    const info = await this.wait(started.id);
    if (info.state !== 'SUCCEEDED') {
      throw new QueryError(info.state === 'CANCELLED' ? 'cancelled' : 'query_failed', info.error ?? `Query ${info.id} ended ${info.state}.`);
    }
    return { info, ...(await this.allResults(info.id)) };
  }

  /** The CSV of a finished query (this process's or an earlier one's), from the athena-results bucket. */
  async csv(id: string): Promise<string> {
    const key = `${RESULTS_PREFIX}${id}.csv`;
    try {
      const res = await this.deps.s3.send(new GetObjectCommand({ Bucket: this.deps.buckets.athenaResults, Key: key }));
      return await res.Body!.transformToString();
    } catch (err) {
      throw new QueryError('no_results', `No stored result for query ${id} (${errorMessage(err)}); only queries that SUCCEEDED have one.`);
    }
  }

  /** The newest history entries first. */
  async history(limit = 50): Promise<QueryInfo[]> {
    const keys = (await listAll(this.deps.s3, this.deps.buckets.athenaResults, HISTORY_PREFIX)).map((o) => o.Key!).sort().slice(0, limit);
    const out: QueryInfo[] = [];
    for (const key of keys) {
      const res = await this.deps.s3.send(new GetObjectCommand({ Bucket: this.deps.buckets.athenaResults, Key: key }));
      out.push(JSON.parse(await res.Body!.transformToString()) as QueryInfo);
    }
    return out;
  }

  async #finalize(info: QueryInfo): Promise<void> {
    if (this.#finalized.has(info.id)) return;
    this.#finalized.add(info.id);
    info.completedAt = this.#now().toISOString();
    const bucket = this.deps.buckets.athenaResults;
    if (info.state === 'SUCCEEDED') {
      info.resultKey = `${RESULTS_PREFIX}${info.id}.csv`;
      // Athena writes its own CSV to the workgroup's output location; the local engine's is written here.
      if (this.deps.engine.name === 'duckdb') {
        const { columns, rows } = await this.allResults(info.id);
        await this.deps.s3.send(new PutObjectCommand({ Bucket: bucket, Key: info.resultKey, Body: toCsv(columns, rows), ContentType: 'text/csv' }));
      }
    }
    await putJson(this.deps.s3, bucket, newestFirstKey(HISTORY_PREFIX, info.submittedAt, info.id), info);
  }

  #now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  #today(): string {
    return this.#now().toISOString().slice(0, 10);
  }
}
