import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type Row,
} from '@aws-sdk/client-athena';
import { describe, expect, it } from 'vitest';
import { AthenaEngine } from '../../lib/query/athena-engine.ts';

/**
 * Athena cannot run offline, so this stands in for its API with the documented behaviour the engine relies on: the
 * first results page starts with a header row, pages carry NextToken, states move QUEUED → RUNNING → final.
 */
class FakeAthena {
  calls: { name: string; input: Record<string, unknown> }[] = [];
  states: string[] = ['QUEUED', 'RUNNING', 'SUCCEEDED'];
  rows: string[][] = [];
  scanned = 123_456_789;
  async send(cmd: { input: Record<string, unknown> }): Promise<unknown> {
    this.calls.push({ name: cmd.constructor.name, input: cmd.input });
    if (cmd instanceof StartQueryExecutionCommand) return { QueryExecutionId: 'q-1' };
    if (cmd instanceof StopQueryExecutionCommand) {
      this.states = ['CANCELLED'];
      return {};
    }
    if (cmd instanceof GetQueryExecutionCommand) {
      const state = this.states.length > 1 ? this.states.shift()! : this.states[0]!;
      return {
        QueryExecution: {
          Status: { State: state, ...(state === 'FAILED' ? { StateChangeReason: 'COLUMN_NOT_FOUND: line 1:8: Column x cannot be resolved' } : {}) },
          Statistics: { DataScannedInBytes: this.scanned, EngineExecutionTimeInMillis: 850 },
        },
      };
    }
    if (cmd instanceof GetQueryResultsCommand) {
      const input = cmd.input as { NextToken?: string; MaxResults: number };
      const all: Row[] = [{ Data: [{ VarCharValue: 'category' }, { VarCharValue: 'n' }] }, ...this.rows.map((r) => ({ Data: r.map((v) => (v === 'NULL' ? {} : { VarCharValue: v })) }))];
      const from = input.NextToken ? Number(input.NextToken) : 0;
      const page = all.slice(from, from + input.MaxResults);
      const next = from + page.length;
      return {
        ResultSet: { Rows: page, ResultSetMetadata: { ColumnInfo: [{ Name: 'category', Type: 'varchar' }, { Name: 'n', Type: 'bigint' }] } },
        ...(next < all.length ? { NextToken: String(next) } : {}),
      };
    }
    throw new Error(`unexpected ${cmd.constructor.name}`);
  }
}

describe('Athena engine', () => {
  it('starts in the workgroup with values as ExecutionParameters and reports state, bytes and errors', async () => {
    const fake = new FakeAthena();
    const engine = new AthenaEngine({ client: fake, workGroup: 'tributary-prod', database: 'tributary_prod' });
    const id = await engine.start('SELECT * FROM transactions WHERE dt = ? AND amt > ?', [{ type: 'text', value: "O'Neil" }, { type: 'number', value: 5 }], { timeoutMs: 60_000, rowLimit: 100 });
    expect(id).toBe('q-1');
    expect(fake.calls[0]).toEqual({
      name: 'StartQueryExecutionCommand',
      input: {
        QueryString: 'SELECT * FROM transactions WHERE dt = ? AND amt > ?',
        WorkGroup: 'tributary-prod',
        QueryExecutionContext: { Database: 'tributary_prod', Catalog: 'AwsDataCatalog' },
        ExecutionParameters: ["'O''Neil'", '5'],
      },
    });
    expect((await engine.status(id)).state).toBe('QUEUED');
    expect((await engine.status(id)).state).toBe('RUNNING');
    expect(await engine.status(id)).toEqual({ state: 'SUCCEEDED', bytesScanned: 123_456_789, rows: 0, truncated: false, engineMs: 850 });
    fake.states = ['FAILED'];
    expect(await engine.status(id)).toMatchObject({ state: 'FAILED', error: 'COLUMN_NOT_FOUND: line 1:8: Column x cannot be resolved' });
  });

  it('pages results without the header row, converts types and stops at the row limit', async () => {
    const fake = new FakeAthena();
    fake.rows = Array.from({ length: 7 }, (_, i) => [`c${i}`, String(i)]);
    fake.rows[3] = ['NULL', '3'];
    const engine = new AthenaEngine({ client: fake, workGroup: 'wg', database: 'db' });
    const id = await engine.start('SELECT 1', [], { timeoutMs: 60_000, rowLimit: 5 });
    const p1 = await engine.results(id, { maxResults: 3 });
    expect(p1.columns).toEqual([{ name: 'category', type: 'varchar' }, { name: 'n', type: 'bigint' }]);
    expect(p1.rows).toEqual([['c0', 0], ['c1', 1], ['c2', 2]]);
    expect(fake.calls.at(-1)!.input).toMatchObject({ MaxResults: 4 });
    const p2 = await engine.results(id, { maxResults: 3, nextToken: p1.nextToken! });
    expect(p2.rows).toEqual([[null, 3], ['c4', 4]]);
    expect(p2.nextToken).toBeUndefined();
  });

  it('stops a query that outlives its timeout and cancels on request', async () => {
    const fake = new FakeAthena();
    fake.states = ['RUNNING'];
    const engine = new AthenaEngine({ client: fake, workGroup: 'wg', database: 'db' });
    const id = await engine.start('SELECT 1', [], { timeoutMs: 0, rowLimit: 5 });
    const s = await engine.status(id);
    expect(s.state).toBe('FAILED');
    expect(s.error).toMatch(/timed out after 0.0 s and was stopped/);
    expect(fake.calls.filter((c) => c.name === 'StopQueryExecutionCommand')).toEqual([{ name: 'StopQueryExecutionCommand', input: { QueryExecutionId: 'q-1' } }]);
    await engine.cancel(id);
    expect(fake.calls.filter((c) => c.name === 'StopQueryExecutionCommand').length).toBe(2);
  });
});
