import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type AthenaClient,
} from '@aws-sdk/client-athena';
import { normalizeCell, timeoutMessage, type EngineStartOptions, type EngineStatus, type QueryEngine, type QueryState, type ResultPage } from './engine.ts';
import { sqlLiteral, type BoundValue } from './params.ts';
import { QueryError } from './sql.ts';

export interface AthenaEngineOptions {
  client: Pick<AthenaClient, 'send'>;
  workGroup: string;
  database: string;
  catalog?: string;
}

interface Tracked {
  deadline: number;
  timeoutMs: number;
  rowLimit: number;
  timedOut?: boolean;
}

const STATES: Record<string, QueryState> = { QUEUED: 'QUEUED', RUNNING: 'RUNNING', SUCCEEDED: 'SUCCEEDED', FAILED: 'FAILED', CANCELLED: 'CANCELLED' };

/**
 * Athena behind the query-engine interface: StartQueryExecution in the stage's workgroup (which enforces the result
 * location and the bytes-scanned cutoff) with values as ExecutionParameters, GetQueryExecution for state and bytes,
 * GetQueryResults pages, StopQueryExecution on cancel or timeout.
 */
export class AthenaEngine implements QueryEngine {
  readonly name = 'athena' as const;
  readonly #tracked = new Map<string, Tracked>();

  constructor(readonly options: AthenaEngineOptions) {}

  async start(sql: string, values: BoundValue[], opts: EngineStartOptions): Promise<string> {
    const res = await this.options.client.send(
      new StartQueryExecutionCommand({
        QueryString: sql,
        WorkGroup: this.options.workGroup,
        QueryExecutionContext: { Database: this.options.database, Catalog: this.options.catalog ?? 'AwsDataCatalog' },
        ...(values.length ? { ExecutionParameters: values.map(sqlLiteral) } : {}),
      }),
    );
    const id = res.QueryExecutionId;
    if (!id) throw new QueryError('athena_no_id', 'Athena accepted the query but returned no QueryExecutionId.');
    this.#tracked.set(id, { deadline: Date.now() + opts.timeoutMs, timeoutMs: opts.timeoutMs, rowLimit: opts.rowLimit });
    return id;
  }

  async status(id: string): Promise<EngineStatus> {
    const res = await this.options.client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    const q = res.QueryExecution;
    let state = STATES[q?.Status?.State ?? ''] ?? 'RUNNING';
    const tracked = this.#tracked.get(id);
    if ((state === 'QUEUED' || state === 'RUNNING') && tracked && Date.now() >= tracked.deadline) {
      tracked.timedOut = true;
      await this.options.client.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
      state = 'FAILED';
    }
    const error = tracked?.timedOut
      ? timeoutMessage(tracked.timeoutMs, true)
      : state === 'FAILED'
        ? (q?.Status?.StateChangeReason ?? q?.Status?.AthenaError?.ErrorMessage ?? 'Athena reported the query as FAILED.')
        : undefined;
    return {
      state: tracked?.timedOut ? 'FAILED' : state,
      ...(error ? { error } : {}),
      bytesScanned: q?.Statistics?.DataScannedInBytes ?? 0,
      rows: 0,
      truncated: false,
      ...(q?.Statistics?.EngineExecutionTimeInMillis !== undefined ? { engineMs: q.Statistics.EngineExecutionTimeInMillis } : {}),
    };
  }

  async results(id: string, page: { nextToken?: string; maxResults: number }): Promise<ResultPage> {
    const cursor = page.nextToken ? (JSON.parse(Buffer.from(page.nextToken, 'base64url').toString()) as { t: string; n: number }) : { t: undefined, n: 0 };
    const limit = this.#tracked.get(id)?.rowLimit ?? Number.MAX_SAFE_INTEGER;
    const first = !page.nextToken;
    // The first page starts with a header row, so ask for one more (Athena allows at most 1000 per call).
    const want = Math.min(page.maxResults, limit - cursor.n);
    const res = await this.options.client.send(
      new GetQueryResultsCommand({ QueryExecutionId: id, MaxResults: Math.min(1000, want + (first ? 1 : 0)), ...(cursor.t ? { NextToken: cursor.t } : {}) }),
    );
    const columns = (res.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => ({ name: c.Name ?? '', type: (c.Type ?? 'varchar').toLowerCase() }));
    let data = res.ResultSet?.Rows ?? [];
    if (first) data = data.slice(1);
    const rows = data.slice(0, Math.max(0, want)).map((r) => (r.Data ?? []).map((d, i) => normalizeCell(columns[i]?.type ?? 'varchar', d.VarCharValue ?? null)));
    const n = cursor.n + rows.length;
    const more = !!res.NextToken && n < limit;
    return { columns, rows, ...(more ? { nextToken: Buffer.from(JSON.stringify({ t: res.NextToken, n })).toString('base64url') } : {}) };
  }

  async cancel(id: string): Promise<void> {
    await this.options.client.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
  }

  async close(): Promise<void> {
    this.#tracked.clear();
  }
}
