import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJsonOrNull } from '../../lib/aws/s3.ts';
import { Catalog } from '../../lib/catalog/catalog.ts';
import { AthenaEngine } from '../../lib/query/athena-engine.ts';
import { QueryRefusedError } from '../../lib/query/errors.ts';
import type { QueryInfo } from '../../lib/query/query-info.ts';
import { QueryService } from '../../lib/query/service.ts';
import { defaultRegistry } from '../../lib/registry/registry.ts';
import { listAll } from '../../lib/aws/s3.ts';
import { startS3, type RunningEmulator } from '../../local/emulators/index.ts';
import { AthenaSim } from '../unit/athena-sim.ts';
import { removeDir, tempDir, waitFor } from './helpers.ts';

const buckets = { lake: 'lake', quarantine: 'quarantine', athenaResults: 'athena-results' };
const ALICE = { by: 'alice', role: 'viewer' as const };

/**
 * The query service as the console runs it in AWS, where every request may land on another Lambda instance: Athena
 * behind aws-sdk-client-mock (one simulated service), the real s3rver for S3, and each "instance" a QueryService with
 * its own S3 client, Athena client and engine, sharing nothing but S3 and Athena.
 */
describe('query service across Lambda instances (Athena mocked at the SDK, S3 real)', () => {
  let s3rver: RunningEmulator;
  let dir: string;
  let sim: AthenaSim;
  const clients: S3Client[] = [];

  const s3Client = () => {
    const c = new S3Client({
      region: 'eu-west-1',
      endpoint: `http://127.0.0.1:${s3rver.port}`,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    clients.push(c);
    return c;
  };
  const instance = (resultsBucket = buckets.athenaResults) =>
    new QueryService({
      engine: new AthenaEngine({
        client: new AthenaClient({ region: 'eu-west-1' }),
        workGroup: 'tributary-ci',
        database: 'tributary_ci',
      }),
      catalog: new Catalog(defaultRegistry()),
      s3: s3Client(),
      buckets: { ...buckets, athenaResults: resultsBucket },
    });
  const historyOf = async (id: string) => {
    const s3 = s3Client();
    const keys = (await listAll(s3, buckets.athenaResults, 'history/'))
      .map((o) => o.Key!)
      .filter((k) => k.endsWith(`-${id}.json`));
    return Promise.all(keys.map((k) => getJsonOrNull<QueryInfo>(s3, buckets.athenaResults, k)));
  };
  const csvOf = async (chunks: AsyncIterable<string>) => {
    let out = '';
    for await (const c of chunks) out += c;
    return out;
  };

  beforeAll(async () => {
    dir = tempDir('query-athena');
    s3rver = await startS3('127.0.0.1', 0, dir, Object.values(buckets));
    sim = new AthenaSim({ outputPrefix: `s3://${buckets.athenaResults}/athena-results/`, s3: s3Client() });
  });

  afterAll(async () => {
    sim?.restore();
    for (const c of clients) c.destroy();
    await s3rver?.stop();
    removeDir(dir);
  });

  it('one instance starts, another answers status, results and the CSV; history is written once, with the signed-in user', async () => {
    const a = instance();
    const b = instance();
    const started = await a.start({
      sql: 'SELECT category, n FROM transactions WHERE dt = $day;',
      params: { day: { type: 'text', value: '2026-01-03' } },
      actor: ALICE,
    });
    // The engine got the guarded text with ? and the value as a parameter; the record is in S3 before start answers.
    expect(sim.calls('StartQueryExecutionCommand')[0]).toMatchObject({
      QueryString: 'SELECT category, n FROM transactions WHERE dt = ?',
      ExecutionParameters: ["'2026-01-03'"],
      WorkGroup: 'tributary-ci',
    });
    const record = await getJsonOrNull<QueryInfo>(s3Client(), buckets.athenaResults, `queries/${started.id}.json`);
    expect(record).toMatchObject({
      id: started.id,
      state: 'RUNNING',
      by: 'alice',
      engine: 'athena',
      timeoutMs: 300_000,
      rowLimit: 10_000,
    });

    expect(await b.status(started.id)).toMatchObject({ id: started.id, state: 'QUEUED', by: 'alice' });
    sim.run(started.id);
    expect((await b.status(started.id)).state).toBe('RUNNING');
    await sim.succeed(
      started.id,
      [
        { Name: 'category', Type: 'varchar' },
        { Name: 'n', Type: 'bigint' },
      ],
      [
        ['=HYPERLINK("http://evil","click")', '-5'],
        ['+cmd', '12'],
        ['grocery_pos', null],
        ['@SUM(A1)', '9007199254740993'],
      ],
    );
    const done = await b.status(started.id);
    expect(done).toMatchObject({
      state: 'SUCCEEDED',
      bytesScanned: 123_456_789,
      by: 'alice',
      resultKey: `athena-results/${started.id}.csv`,
      completedAt: sim.queries.get(started.id)!.completed!.toISOString(),
    });
    // The instance that started it sees the end too, and writes the same history entry again: still one.
    expect(await a.status(started.id)).toMatchObject({ state: 'SUCCEEDED', completedAt: done.completedAt });
    expect(await historyOf(started.id)).toEqual([
      expect.objectContaining({ id: started.id, state: 'SUCCEEDED', by: 'alice', completedAt: done.completedAt }),
    ]);
    expect((await a.history(10)).filter((h) => h.id === started.id).length).toBe(1);

    // A third instance, which never saw the query, pages its rows and downloads its CSV: Athena's own result object,
    // rewritten so no cell is a formula, numbers left as numbers.
    const c = instance();
    const page = await c.results(started.id, { maxResults: 2 });
    expect(page.rows).toEqual([
      ['=HYPERLINK("http://evil","click")', -5],
      ['+cmd', 12],
    ]);
    expect((await c.results(started.id, { maxResults: 2, nextToken: page.nextToken! })).rows).toEqual([
      ['grocery_pos', null],
      ['@SUM(A1)', '9007199254740993'],
    ]);
    const csv = await csvOf(await c.csv(started.id));
    expect(csv).toBe(
      'category,n\r\n"\'=HYPERLINK(""http://evil"",""click"")",-5\r\n\'+cmd,12\r\ngrocery_pos,\r\n\'@SUM(A1),9007199254740993\r\n',
    );
    expect(parseCsv(csv)).toEqual([
      ['category', 'n'],
      ['\'=HYPERLINK("http://evil","click")', '-5'],
      ["'+cmd", '12'],
      ['grocery_pos', ''],
      ["'@SUM(A1)", '9007199254740993'],
    ]);
  });

  it('another instance cancels; a query past its timeout is stopped by whichever instance polls and reported the same by all', async () => {
    const a = instance();
    const b = instance();
    const q = await a.start({ sql: "SELECT count(*) FROM transactions WHERE dt = '2026-01-03'", actor: ALICE });
    sim.run(q.id);
    expect((await b.cancel(q.id)).state).toBe('CANCELLED');
    expect(sim.calls('StopQueryExecutionCommand')).toContainEqual({ QueryExecutionId: q.id });
    expect((await a.status(q.id)).state).toBe('CANCELLED');
    expect(await historyOf(q.id)).toEqual([expect.objectContaining({ state: 'CANCELLED', by: 'alice' })]);
    await expect(a.csv(q.id)).rejects.toMatchObject({ code: 'no_results', status: 404 });

    const slow = await a.start({
      sql: "SELECT count(*) FROM transactions WHERE dt = '2026-01-04'",
      timeoutMs: 3_000,
      actor: ALICE,
    });
    sim.run(slow.id);
    await expect(b.csv(slow.id)).rejects.toMatchObject({ code: 'not_ready', status: 409 });
    // Nobody stops it but the deadline: the first instance to poll after it stops the query.
    const timedOut = await waitFor(
      () => b.status(slow.id),
      (s) => s.state !== 'RUNNING',
      30_000,
      100,
    );
    expect(timedOut).toMatchObject({
      state: 'FAILED',
      error: 'Query timed out after 3.0 s and was stopped; add filters (dt, hour) or raise the timeout.',
    });
    expect(await a.status(slow.id)).toMatchObject({ state: 'FAILED', error: timedOut.error });
    expect(sim.calls('StopQueryExecutionCommand').filter((c) => c.QueryExecutionId === slow.id).length).toBe(1);
    expect(await historyOf(slow.id)).toEqual([expect.objectContaining({ state: 'FAILED', error: timedOut.error })]);
  });

  it('unknown and malformed ids are 404; a query whose record cannot be written is stopped again', async () => {
    const a = instance();
    await expect(a.status('0f999999-sim')).rejects.toMatchObject({ code: 'unknown_query', status: 404 });
    await expect(a.csv('../history/x')).rejects.toMatchObject({ code: 'unknown_query', status: 404 });
    await expect(a.results('x'.repeat(200))).rejects.toMatchObject({ code: 'unknown_query', status: 404 });
    const broken = instance('no-such-bucket');
    await expect(broken.start({ sql: "SELECT 1 FROM transactions WHERE dt = '2026-01-03'" })).rejects.toThrow();
    const last = sim.calls('StartQueryExecutionCommand').length;
    const lost = [...sim.queries.values()][last - 1]!;
    expect(lost.state).toBe('CANCELLED');
  });

  it('the guard runs in AWS too: Athena never sees a refused query', async () => {
    const a = instance();
    const before = sim.calls('StartQueryExecutionCommand').length;
    for (const sql of [
      'SELECT 1; DROP TABLE transactions',
      "SELECT count(*) FROM transactions WHERE dt = '2026-01-03' /* /* */ OR true -- */",
      'SELECT * FROM lake_objects',
    ]) {
      await expect(a.start({ sql }), sql).rejects.toBeInstanceOf(QueryRefusedError);
    }
    expect(sim.calls('StartQueryExecutionCommand').length).toBe(before);
  });
});
