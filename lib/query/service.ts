// Over 300 lines on purpose: one class holds the life of a query across instances (start record, status from the
// engine or the history, one finalization, results, CSV, cancel), and each step reads the others' state. What is not
// that life lives beside it: scan.ts (the estimate), history.ts (where queries are kept), result-csv.ts, query-info.ts.
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { Catalog } from '../catalog/catalog.ts';
import { errorMessage } from '../errors.ts';
import { getJsonOrNull, putJson } from '../aws/s3.ts';
import { csvText } from '../util/csv.ts';
import {
  isFinal,
  isNumericType,
  type Cell,
  type EngineQuery,
  type EngineRun,
  type EngineStatus,
  type QueryEngine,
  type ResultColumn,
  type ResultPage,
} from './engine.ts';
import { QueryError, QueryForbiddenError, QueryNotFoundError, QueryRefusedError } from './errors.ts';
import { guardQuery, type GuardReport, type TableRead } from './guard.ts';
import { historyKey, listHistory, recordKey, RESULTS_PREFIX } from './history.ts';
import { orderedValues } from './params.ts';
import { athenaCostUsd, DEFAULT_LIMITS, type QueryInfo, type QueryLimits, type QueryRequest } from './query-info.ts';
import { athenaCsv, chunksOf, s3Location } from './result-csv.ts';
import { emptyFilterNotice, liftHint, ScanEstimator, scanRefusal, type ScanEstimate } from './scan.ts';
import { sleep } from '../util/time.ts';
import { sqlParser, type SqlParser } from './parser.ts';
import { type Masker, masksFor } from '../masking.ts';
import type { Actor } from '../quarantine/access.ts';
import { maskRows, masksColumn, resultMasking, type ResultMasking } from './sensitive.ts';

/** A viewer sees sensitive columns masked; a query without an actor is this process's own (an operator). */
const viewer = (actor: Actor | undefined): boolean => !!actor && masksFor(actor);

export interface QueryServiceDeps {
  engine: QueryEngine;
  catalog: Catalog;
  s3: S3Client;
  buckets: { lake: string; quarantine: string; athenaResults: string };
  limits?: Partial<QueryLimits>;
  now?: () => Date;
  /** DuckDB's parser (the process's shared one by default). */
  parser?: SqlParser;
  /** The types' sensitive fields: a viewer's result shows them masked (none: nothing is masked). */
  masker?: Masker;
  /** Called before a signed-in operator is given a result that holds sensitive columns unmasked (the audit). */
  onUnmaskedRead?: (actor: Actor, queryId: string) => Promise<void>;
}

/** Queries kept in memory; older finished ones are read back from S3 when asked for. */
const KEEP_QUERIES = 500;
/** How long after its timeout a local query that another process started is given before it counts as interrupted. */
const ORPHAN_GRACE_MS = 60_000;
/** Athena's QueryExecutionId and the local engine's UUIDs: letters, digits, `-` and `_`, at most 128. */
const QUERY_ID = /^[A-Za-z0-9_-]{1,128}$/;

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
  readonly #scan: ScanEstimator;
  readonly #parser: SqlParser;

  constructor(readonly deps: QueryServiceDeps) {
    this.limits = { ...DEFAULT_LIMITS, ...deps.limits };
    this.#parser = deps.parser ?? sqlParser();
    this.#scan = new ScanEstimator(deps.s3, deps.buckets);
  }

  get engine(): QueryEngine['name'] {
    return this.deps.engine.name;
  }

  /**
   * Applies the guards; returns the statement for the engine (placeholders bound in order) and the guard's estimate,
   * or throws {@link QueryRefusedError} (what to change) or {@link QueryForbiddenError} (a viewer lifting the guard).
   */
  async check(
    req: QueryRequest,
  ): Promise<{ query: EngineQuery; estimate: ScanEstimate[]; report: GuardReport; masking: ResultMasking }> {
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
          .join(', ')}) with a filter on dt instead. ${liftHint(req.via)}`,
      );
    }
    // Worked out for every query, whoever runs it, so a viewer opening an operator's query is held to it too.
    const masking = this.deps.masker ? resultMasking(parsed.tree, report.reads, this.deps.masker) : { masks: {} };
    if (masking.refusal && viewer(req.actor)) throw new QueryForbiddenError(masking.refusal);
    const estimate = await this.#scan.estimate(report.reads);
    const total = estimate.reduce((a, e) => a + e.bytes, 0);
    if (!req.allowFullScan && total > this.limits.maxUnfilteredScanBytes)
      throw scanRefusal(estimate, total, this.limits.maxUnfilteredScanBytes, this.#today(), req.via);
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
      masking,
    };
  }

  /**
   * Guards and starts a query; returns at once with its id (state RUNNING or QUEUED), once its record is in S3 (a
   * query whose record cannot be written is stopped again: nobody could ask about it).
   */
  async start(req: QueryRequest): Promise<QueryInfo> {
    const { query, estimate, masking } = await this.check(req);
    const notice = emptyFilterNotice(estimate);
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
      ...(Object.keys(masking.masks).length ? { masks: masking.masks } : {}),
      ...(masking.refusal ? { viewerRefusal: masking.refusal } : {}),
      ...(req.unlisted ? { unlisted: true as const } : {}),
      ...(notice ? { notice } : {}),
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
  async results(
    id: string,
    page: { nextToken?: string; maxResults?: number } = {},
    actor?: Actor,
  ): Promise<ResultPage> {
    const info = await this.#info(id);
    const maxResults = Math.max(1, Math.min(Math.floor(page.maxResults ?? 1000) || 1000, 1000));
    const masked = viewer(actor);
    if (masked && info.viewerRefusal) throw new QueryForbiddenError(info.viewerRefusal);
    try {
      const result = await this.deps.engine.results(
        id,
        { maxResults, ...(page.nextToken ? { nextToken: page.nextToken } : {}) },
        runOf(info),
      );
      if (masked && info.masks) return { ...result, rows: maskRows(info.masks, result.columns, result.rows) };
      // A signed-in operator given sensitive columns in full: the audit says so (before the rows leave).
      if (actor && info.masks && result.columns.some((c) => masksColumn(info.masks!, c.name)))
        await this.deps.onUnmaskedRead?.(actor, id);
      return result;
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
  async allResults(id: string, actor?: Actor): Promise<{ columns: ResultColumn[]; rows: Cell[][] }> {
    const rows: Cell[][] = [];
    let columns: ResultColumn[] = [];
    let token: string | undefined;
    do {
      const page = await this.results(id, { ...(token ? { nextToken: token } : {}), maxResults: 1000 }, actor);
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
  async csv(id: string, actor?: Actor): Promise<AsyncIterable<string>> {
    const info = await this.status(id);
    if (viewer(actor) && info.viewerRefusal) throw new QueryForbiddenError(info.viewerRefusal);
    if (viewer(actor) && info.masks && info.state === 'SUCCEEDED') {
      // A viewer's CSV is the masked rows (the stored one holds the values), from the rows the engine kept.
      const { columns, rows } = await this.allResults(id, actor);
      return (async function* () {
        yield csvText(
          columns.map((c) => ({ name: c.name, numeric: isNumericType(c.type) })),
          rows,
        );
      })();
    }
    if (!isFinal(info.state))
      throw new QueryError('not_ready', `Query ${id} is ${info.state}; its CSV exists once it has SUCCEEDED.`);
    if (info.state !== 'SUCCEEDED' || !info.resultKey)
      throw new QueryNotFoundError(
        'no_results',
        `Query ${id} ended ${info.state}; only queries that SUCCEEDED have a CSV.`,
      );
    // The CSV holds every column in full: an operator's download of one with sensitive columns is audited.
    if (actor && info.masks) await this.deps.onUnmaskedRead?.(actor, id);
    const body = await this.#object(info.resultKey, id);
    if (this.deps.engine.name === 'duckdb') return chunksOf(body);
    const { columns } = await this.results(id, { maxResults: 1 });
    return athenaCsv(body, new Map(columns.map((c) => [c.name, c.type])));
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

  /** The newest history entries first. */
  history(limit = 50): Promise<QueryInfo[]> {
    return listHistory(this.deps.s3, this.deps.buckets.athenaResults, limit);
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

const runOf = (info: QueryInfo): EngineRun => ({
  submittedAt: info.submittedAt,
  timeoutMs: info.timeoutMs,
  rowLimit: info.rowLimit,
});
