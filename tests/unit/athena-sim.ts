import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  InvalidRequestException,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type StartQueryExecutionCommandInput,
} from '@aws-sdk/client-athena';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

export interface SimQuery {
  id: string;
  input: StartQueryExecutionCommandInput;
  state: 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  submitted: Date;
  completed?: Date;
  reason?: string;
  scanned: number;
  columns: { Name: string; Type: string }[];
  rows: (string | null)[][];
}

/**
 * Athena as its API documents it, behind aws-sdk-client-mock: one simulated service that every AthenaClient in the
 * process reaches (each QueryService a test builds stands for another Lambda instance). States move QUEUED → RUNNING →
 * final only when the test says so; StopQueryExecution cancels a query that has not ended; GetQueryResults answers
 * only for SUCCEEDED queries, its first page starting with the header row, pages of at most 1,000 rows with
 * NextToken; a finished query's result is also written, as Athena writes it (a header, every value quoted, NULL as an
 * empty field), to `<outputPrefix><id>.csv` in S3 when an S3 client is given.
 */
export class AthenaSim {
  readonly queries = new Map<string, SimQuery>();
  readonly mock = mockClient(AthenaClient);
  #n = 0;

  constructor(
    readonly options: { outputPrefix: string; s3?: S3Client } = { outputPrefix: 's3://athena-results/athena-results/' },
  ) {
    this.mock.on(StartQueryExecutionCommand).callsFake((input: StartQueryExecutionCommandInput) => {
      const id = `0f${String(++this.#n).padStart(6, '0')}-sim`;
      this.queries.set(id, { id, input, state: 'QUEUED', submitted: new Date(), scanned: 0, columns: [], rows: [] });
      return { QueryExecutionId: id };
    });
    this.mock.on(GetQueryExecutionCommand).callsFake(({ QueryExecutionId }: { QueryExecutionId: string }) => {
      const q = this.#get(QueryExecutionId);
      return {
        QueryExecution: {
          QueryExecutionId: q.id,
          Query: q.input.QueryString,
          Status: {
            State: q.state,
            SubmissionDateTime: q.submitted,
            ...(q.completed ? { CompletionDateTime: q.completed } : {}),
            ...(q.reason ? { StateChangeReason: q.reason } : {}),
          },
          Statistics: { DataScannedInBytes: q.scanned, EngineExecutionTimeInMillis: 850 },
          ResultConfiguration: { OutputLocation: `${this.options.outputPrefix}${q.id}.csv` },
        },
      };
    });
    this.mock.on(StopQueryExecutionCommand).callsFake(({ QueryExecutionId }: { QueryExecutionId: string }) => {
      const q = this.#get(QueryExecutionId);
      if (q.state === 'QUEUED' || q.state === 'RUNNING') {
        q.state = 'CANCELLED';
        q.completed = new Date();
      }
      return {};
    });
    this.mock
      .on(GetQueryResultsCommand)
      .callsFake(
        ({
          QueryExecutionId,
          NextToken,
          MaxResults,
        }: {
          QueryExecutionId: string;
          NextToken?: string;
          MaxResults?: number;
        }) => {
          const q = this.#get(QueryExecutionId);
          if (q.state !== 'SUCCEEDED')
            throw new InvalidRequestException({
              message: `Query has not yet finished. Current state: ${q.state}`,
              $metadata: {},
            });
          const max = MaxResults ?? 1000;
          if (max > 1000)
            throw new InvalidRequestException({ message: 'MaxResults must be at most 1000', $metadata: {} });
          const all = [q.columns.map((c) => c.Name), ...q.rows];
          const from = NextToken ? Number(NextToken) : 0;
          const page = all.slice(from, from + max);
          return {
            ResultSet: {
              Rows: page.map((r) => ({ Data: r.map((v) => (v === null ? {} : { VarCharValue: v })) })),
              ResultSetMetadata: { ColumnInfo: q.columns },
            },
            ...(from + page.length < all.length ? { NextToken: String(from + page.length) } : {}),
          };
        },
      );
  }

  #get(id: string): SimQuery {
    const q = this.queries.get(id);
    if (!q) throw new InvalidRequestException({ message: `QueryExecution ${id} was not found`, $metadata: {} });
    return q;
  }

  run(id: string): void {
    this.#get(id).state = 'RUNNING';
  }

  /** Ends a query with its result, and writes the result object Athena would write. */
  async succeed(
    id: string,
    columns: { Name: string; Type: string }[],
    rows: (string | null)[][],
    scanned = 123_456_789,
  ): Promise<void> {
    const q = this.#get(id);
    Object.assign(q, { columns, rows, scanned });
    if (this.options.s3) {
      const quote = (v: string | null) => (v === null ? '' : `"${v.replace(/"/g, '""')}"`);
      const body = [columns.map((c) => quote(c.Name)), ...rows.map((r) => r.map(quote))]
        .map((r) => `${r.join(',')}\n`)
        .join('');
      const [, bucket, key] = /^s3:\/\/([^/]+)\/(.*)$/.exec(`${this.options.outputPrefix}${id}.csv`)!;
      await this.options.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    }
    q.state = 'SUCCEEDED';
    q.completed = new Date();
  }

  fail(id: string, reason: string): void {
    Object.assign(this.#get(id), { state: 'FAILED', reason, completed: new Date() });
  }

  calls(
    name:
      | 'StartQueryExecutionCommand'
      | 'StopQueryExecutionCommand'
      | 'GetQueryExecutionCommand'
      | 'GetQueryResultsCommand',
  ): Record<string, unknown>[] {
    return this.mock
      .calls()
      .filter((c) => c.args[0].constructor.name === name)
      .map((c) => c.args[0].input as Record<string, unknown>);
  }

  restore(): void {
    this.mock.restore();
  }
}
