import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type AthenaClient,
} from '@aws-sdk/client-athena';
import {
  normalizeCell,
  timeoutMessage,
  type EngineQuery,
  type EngineRun,
  type EngineStatus,
  type QueryEngine,
  type QueryState,
  type ResultPage,
} from './engine.ts';
import { QueryError, QueryRefusedError } from './errors.ts';
import { sqlLiteral } from './params.ts';

export interface AthenaEngineOptions {
  client: Pick<AthenaClient, 'send'>;
  workGroup: string;
  database: string;
  catalog?: string;
}

const STATES: Record<string, QueryState> = {
  QUEUED: 'QUEUED',
  RUNNING: 'RUNNING',
  SUCCEEDED: 'SUCCEEDED',
  FAILED: 'FAILED',
  CANCELLED: 'CANCELLED',
};

/**
 * Athena behind the query-engine interface: StartQueryExecution in the stage's workgroup (which enforces the result
 * location and the bytes-scanned cutoff) with values as ExecutionParameters, GetQueryExecution for state and bytes,
 * GetQueryResults pages, StopQueryExecution on cancel or timeout. It keeps nothing in memory: the query id and the
 * run's record (submission time, timeout, row limit) are all any Lambda instance needs to answer for a query another
 * one started.
 */
export class AthenaEngine implements QueryEngine {
  readonly name = 'athena' as const;

  constructor(readonly options: AthenaEngineOptions) {}

  async start(query: EngineQuery, _run: EngineRun): Promise<string> {
    const res = await this.options.client.send(
      new StartQueryExecutionCommand({
        QueryString: query.sql,
        WorkGroup: this.options.workGroup,
        QueryExecutionContext: { Database: this.options.database, Catalog: this.options.catalog ?? 'AwsDataCatalog' },
        ...(query.values.length ? { ExecutionParameters: query.values.map(sqlLiteral) } : {}),
      }),
    );
    const id = res.QueryExecutionId;
    if (!id) throw new QueryError('athena_no_id', 'Athena accepted the query but returned no QueryExecutionId.');
    return id;
  }

  /**
   * State, bytes and end of a query. One past its timeout is stopped; a query Athena reports CANCELLED that ran
   * until its timeout was stopped by it (by whichever instance saw the deadline first), so every instance reports it
   * the same way: FAILED with the timeout message.
   */
  async status(id: string, run: EngineRun): Promise<EngineStatus> {
    const res = await this.options.client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    const q = res.QueryExecution;
    let state = STATES[q?.Status?.State ?? ''] ?? 'RUNNING';
    const deadline = Date.parse(run.submittedAt) + run.timeoutMs;
    let timedOut = false;
    if ((state === 'QUEUED' || state === 'RUNNING') && Date.now() >= deadline) {
      await this.options.client.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
      timedOut = true;
    }
    const completed = q?.Status?.CompletionDateTime;
    if (state === 'CANCELLED' && completed && completed.getTime() >= deadline) timedOut = true;
    if (timedOut) state = 'FAILED';
    const error = timedOut
      ? timeoutMessage(run.timeoutMs, true)
      : state === 'FAILED'
        ? (q?.Status?.StateChangeReason ??
          q?.Status?.AthenaError?.ErrorMessage ??
          'Athena reported the query as FAILED.')
        : undefined;
    const location = q?.ResultConfiguration?.OutputLocation;
    return {
      state,
      ...(error ? { error } : {}),
      bytesScanned: q?.Statistics?.DataScannedInBytes ?? 0,
      rows: 0,
      truncated: false,
      ...(q?.Statistics?.EngineExecutionTimeInMillis !== undefined
        ? { engineMs: q.Statistics.EngineExecutionTimeInMillis }
        : {}),
      ...(completed && state !== 'QUEUED' && state !== 'RUNNING' ? { completedAt: completed.toISOString() } : {}),
      ...(location ? { resultLocation: location } : {}),
    };
  }

  async results(id: string, page: { nextToken?: string; maxResults: number }, run: EngineRun): Promise<ResultPage> {
    const cursor = page.nextToken ? pageCursor(page.nextToken) : { t: undefined, n: 0 };
    const limit = run.rowLimit;
    const first = !page.nextToken;
    // The first page starts with a header row, so ask for one more (Athena allows at most 1000 per call).
    const want = Math.min(page.maxResults, limit - cursor.n);
    const res = await this.options.client.send(
      new GetQueryResultsCommand({
        QueryExecutionId: id,
        MaxResults: Math.min(1000, want + (first ? 1 : 0)),
        ...(cursor.t ? { NextToken: cursor.t } : {}),
      }),
    );
    const columns = (res.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => ({
      name: c.Name ?? '',
      type: (c.Type ?? 'varchar').toLowerCase(),
    }));
    let data = res.ResultSet?.Rows ?? [];
    if (first) data = data.slice(1);
    const rows = data
      .slice(0, Math.max(0, want))
      .map((r) => (r.Data ?? []).map((d, i) => normalizeCell(columns[i]?.type ?? 'varchar', d.VarCharValue ?? null)));
    const n = cursor.n + rows.length;
    const more = !!res.NextToken && n < limit;
    return {
      columns,
      rows,
      ...(more ? { nextToken: Buffer.from(JSON.stringify({ t: res.NextToken, n })).toString('base64url') } : {}),
    };
  }

  async cancel(id: string): Promise<void> {
    await this.options.client.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
  }

  async close(): Promise<void> {}
}

/** Our page token: Athena's NextToken and the rows handed out so far. Anything else is a client's mistake (400). */
function pageCursor(token: string): { t: string; n: number } {
  try {
    const c = JSON.parse(Buffer.from(token, 'base64url').toString()) as { t?: unknown; n?: unknown };
    if (typeof c.t === 'string' && typeof c.n === 'number' && Number.isSafeInteger(c.n) && c.n >= 0)
      return { t: c.t, n: c.n };
  } catch {
    // not ours: refused below
  }
  throw new QueryRefusedError(
    'bad_token',
    'This nextToken was not issued for these results; start again from the first page.',
  );
}
