import { AthenaClient } from '@aws-sdk/client-athena';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AthenaEngine } from '../../lib/query/athena-engine.ts';
import type { EngineQuery, EngineRun } from '../../lib/query/engine.ts';
import { QueryRefusedError } from '../../lib/query/errors.ts';
import { AthenaSim } from './athena-sim.ts';

const query = (sql: string, values: EngineQuery['values'] = []): EngineQuery => ({
  sql,
  values,
  tables: [],
  keeps: () => true,
});
const run = (over: Partial<EngineRun> = {}): EngineRun => ({
  submittedAt: new Date().toISOString(),
  timeoutMs: 60_000,
  rowLimit: 100,
  ...over,
});

describe('Athena engine (SDK contract, aws-sdk-client-mock)', () => {
  let sim: AthenaSim;
  let engine: AthenaEngine;
  beforeEach(() => {
    sim = new AthenaSim();
    engine = new AthenaEngine({
      client: new AthenaClient({ region: 'eu-west-1' }),
      workGroup: 'tributary-prod',
      database: 'tributary_prod',
    });
  });
  afterEach(() => sim.restore());

  it('starts in the workgroup with values as ExecutionParameters and reports state, bytes, end and result location', async () => {
    const id = await engine.start(
      query('SELECT * FROM transactions WHERE dt = ? AND amt > ?', [
        { type: 'text', value: "O'Neil" },
        { type: 'number', value: 5 },
      ]),
      run(),
    );
    expect(sim.calls('StartQueryExecutionCommand')).toEqual([
      {
        QueryString: 'SELECT * FROM transactions WHERE dt = ? AND amt > ?',
        WorkGroup: 'tributary-prod',
        QueryExecutionContext: { Database: 'tributary_prod', Catalog: 'AwsDataCatalog' },
        ExecutionParameters: ["'O''Neil'", '5'],
      },
    ]);
    expect((await engine.status(id, run())).state).toBe('QUEUED');
    sim.run(id);
    expect((await engine.status(id, run())).state).toBe('RUNNING');
    await sim.succeed(id, [{ Name: 'n', Type: 'bigint' }], [['1']]);
    const done = await engine.status(id, run());
    expect(done).toEqual({
      state: 'SUCCEEDED',
      bytesScanned: 123_456_789,
      rows: 0,
      truncated: false,
      engineMs: 850,
      completedAt: sim.queries.get(id)!.completed!.toISOString(),
      resultLocation: `s3://athena-results/athena-results/${id}.csv`,
    });
    const failed = await engine.start(query('SELECT x'), run());
    sim.fail(failed, 'COLUMN_NOT_FOUND: line 1:8: Column x cannot be resolved');
    expect(await engine.status(failed, run())).toMatchObject({
      state: 'FAILED',
      error: 'COLUMN_NOT_FOUND: line 1:8: Column x cannot be resolved',
    });
  });

  it('pages results without the header row, converts types and stops at the row limit of the run', async () => {
    const id = await engine.start(query('SELECT 1'), run());
    const rows = Array.from({ length: 7 }, (_, i): (string | null)[] => [`c${i}`, String(i)]);
    rows[3] = [null, '3'];
    await sim.succeed(
      id,
      [
        { Name: 'category', Type: 'varchar' },
        { Name: 'n', Type: 'bigint' },
      ],
      rows,
    );
    const p1 = await engine.results(id, { maxResults: 3 }, run({ rowLimit: 5 }));
    expect(p1.columns).toEqual([
      { name: 'category', type: 'varchar' },
      { name: 'n', type: 'bigint' },
    ]);
    expect(p1.rows).toEqual([
      ['c0', 0],
      ['c1', 1],
      ['c2', 2],
    ]);
    expect(sim.calls('GetQueryResultsCommand').at(-1)).toMatchObject({ MaxResults: 4 });
    const p2 = await engine.results(id, { maxResults: 3, nextToken: p1.nextToken! }, run({ rowLimit: 5 }));
    expect(p2.rows).toEqual([
      [null, 3],
      ['c4', 4],
    ]);
    expect(p2.nextToken).toBeUndefined();
    await expect(engine.results(id, { maxResults: 3, nextToken: 'not-ours' }, run())).rejects.toBeInstanceOf(
      QueryRefusedError,
    );
    await expect(
      engine.results(id, { maxResults: 3, nextToken: Buffer.from('{"t":"1","n":-4}').toString('base64url') }, run()),
    ).rejects.toMatchObject({ code: 'bad_token', status: 400 });
  });

  it('stops a query past the deadline of its run, and reports it FAILED the same way afterwards', async () => {
    const submittedAt = new Date(Date.now() - 10_000).toISOString();
    const id = await engine.start(query('SELECT 1'), run({ submittedAt, timeoutMs: 5_000 }));
    sim.run(id);
    const s = await engine.status(id, run({ submittedAt, timeoutMs: 5_000 }));
    expect(s).toMatchObject({
      state: 'FAILED',
      error: 'Query timed out after 5.0 s and was stopped; add filters (dt, hour) or raise the timeout.',
    });
    expect(sim.calls('StopQueryExecutionCommand')).toEqual([{ QueryExecutionId: id }]);
    // Athena now says CANCELLED: an instance that did not stop it still reports the timeout, and stops nothing more.
    const again = await new AthenaEngine({
      client: new AthenaClient({ region: 'eu-west-1' }),
      workGroup: 'wg',
      database: 'db',
    }).status(id, run({ submittedAt, timeoutMs: 5_000 }));
    expect(again).toMatchObject({
      state: 'FAILED',
      error: 'Query timed out after 5.0 s and was stopped; add filters (dt, hour) or raise the timeout.',
    });
    expect(sim.calls('StopQueryExecutionCommand').length).toBe(1);
  });

  it('cancels on request: CANCELLED, not a timeout', async () => {
    const id = await engine.start(query('SELECT 1'), run());
    sim.run(id);
    await engine.cancel(id);
    expect(await engine.status(id, run())).toMatchObject({ state: 'CANCELLED' });
  });
});
