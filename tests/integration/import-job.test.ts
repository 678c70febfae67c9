/**
 * The import job end to end (lib/imports/job.ts, applier.ts): exports dropped in the imports bucket, deltas on the
 * real stream, applied to Postgres by the runtime's applier, through a crash mid-publish, the delete guard and a
 * refused file.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lib/aws/clients.ts';
import { listAll, readJsonl } from '../../lib/aws/s3.ts';
import { compactLake } from '../../lib/compact/compact.ts';
import { compactorDeps, importJobDeps, queryService } from '../../lib/composition.ts';
import { ImportPublishError } from '../../lib/imports/errors.ts';
import { handleImportTrigger, type ImportTriggerDeps } from '../../lib/imports/drops.ts';
import { ImportJob } from '../../lib/imports/job.ts';
import { opPartitionKey } from '../../lib/imports/ops.ts';
import { ImportService } from '../../lib/imports/service.ts';
import { TableRegistry } from '../../lib/imports/tables.ts';
import type { ImportFile } from '../../lib/imports/registry.ts';
import { createPool } from '../../lib/oltp/db.ts';
import { listAllShards } from '../../lib/aws/kinesis.ts';
import { aggregateTexts, hashKeyOf, isAggregate } from '../../lib/stream/aggregate.ts';
import type { DevRuntime } from '../../local/dev.ts';
import { testDatabase, type TestDatabase } from './db.ts';
import { readLake, removeDir, startTestRuntime, tempDir, waitFor } from './helpers.ts';

/** A row of the shipped example table (tables/example.json): PK, COL2..COL4, text, NULL where null. */
type Row = [string, string | null, string | null, string | null];
type State = Map<string, Row>;

/** The example table's file format: `;`, no header, `"` quotes, the empty unquoted field is NULL, gzip. */
function exportFile(rows: Row[]): Buffer {
  const cell = (v: string | null) =>
    v === null ? '' : v === '' || /[;"\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
  return gzipSync(`${rows.map((r) => r.map(cell).join(';')).join('\n')}\n`);
}

describe('table imports through the stream into Postgres', () => {
  let dir: string;
  let db: TestDatabase;
  let rt: DevRuntime;
  let pool: pg.Pool;
  let deps: ImportTriggerDeps;

  beforeAll(async () => {
    dir = tempDir('import-job');
    db = await testDatabase('import_job');
    // The job is run by the tests themselves here: no notifications, no sweep.
    rt = await startTestRuntime(dir, { oltp: true, databaseUrl: db.url, imports: false });
    pool = createPool(db.url, { max: 3 });
    deps = importJobDeps(rt.config, pool);
  }, 180_000);
  afterAll(async () => {
    await rt?.stop();
    await pool?.end();
    await db?.drop();
    removeDir(dir);
  });

  /** Drops an export where the S3 event would announce it, and registers it as the event handler does. */
  async function drop(tenant: string, version: string, rows: Row[] | Buffer): Promise<ImportFile> {
    const key = `exports/${tenant}/example/${version}/part-0.csv.gz`;
    const body = Buffer.isBuffer(rows) ? rows : exportFile(rows);
    const put = await deps.s3.send(new PutObjectCommand({ Bucket: deps.buckets.imports, Key: key, Body: body }));
    return deps.registry.register({ key, etag: put.ETag!, size: body.length });
  }

  /** The tenant's live rows; none while the applier has not created the table yet (its first batch does). */
  const table = async (tenant: string): Promise<Row[]> => {
    try {
      const r = await pool.query<{ PK: string; COL2: string | null; COL3: string | null; COL4: string | null }>(
        `SELECT "PK", "COL2", "COL3", "COL4" FROM imports.example
          WHERE tributary_tenant = $1 AND NOT tributary_deleted ORDER BY "PK" COLLATE "C"`,
        [tenant],
      );
      return r.rows.map((x) => [x.PK, x.COL2, x.COL3, x.COL4]);
    } catch (err) {
      if ((err as { code?: string }).code === '42P01') return [];
      throw err;
    }
  };
  const sorted = (s: State): Row[] => [...s.values()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  /** Waits until the applier has made the table what the export says (exact rows), and returns what it holds. */
  const applied = async (tenant: string, want: State) =>
    waitFor(
      () => table(tenant),
      (rows) => JSON.stringify(rows) === JSON.stringify(sorted(want)),
      120_000,
      250,
    );

  /** Every record on the stream, all shards, from the start. */
  /**
   * Every envelope on the stream, aggregates opened, with the shard it is on and the shard its operation's partition
   * key hashes into (the same, unless the stream was resharded in between).
   */
  async function streamRecords(
    kinesis: KinesisClient,
  ): Promise<{ id: string; text: string; version?: string; shard: string; keyShard?: string }[]> {
    const out: { id: string; text: string; version?: string; shard: string; keyShard?: string }[] = [];
    const ranges = (await listAllShards(kinesis, rt.config.streamName)).map((x) => ({
      id: x.ShardId!,
      start: BigInt(x.HashKeyRange!.StartingHashKey!),
      end: BigInt(x.HashKeyRange!.EndingHashKey!),
    }));
    for (const shard of await listAllShards(kinesis, rt.config.streamName)) {
      let it = (
        await kinesis.send(
          new GetShardIteratorCommand({
            StreamName: rt.config.streamName,
            ShardId: shard.ShardId!,
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        )
      ).ShardIterator;
      while (it) {
        const r = await kinesis.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10_000 }));
        for (const rec of r.Records ?? []) {
          const data = Buffer.from(rec.Data!);
          for (const text of isAggregate(data) ? aggregateTexts(data) : [data.toString('utf8')]) {
            const e = JSON.parse(text) as {
              id: string;
              data: { tributary_version?: string; tributary_tenant?: string; PK?: string };
            };
            const h = e.data.tributary_tenant
              ? hashKeyOf(opPartitionKey(e.data.tributary_tenant, 'example', JSON.stringify([e.data.PK])))
              : undefined;
            const keyShard = h === undefined ? undefined : ranges.find((x) => h >= x.start && h <= x.end)?.id;
            out.push({ id: e.id, text, version: e.data.tributary_version, shard: shard.ShardId!, keyShard });
          }
        }
        if (!r.Records?.length && (r.MillisBehindLatest ?? 0) === 0) break;
        it = r.NextShardIterator;
      }
    }
    return out;
  }

  /** Every tenant's live rows of the Postgres table, as the lake's current view lists them. */
  const postgresRows = async () =>
    (
      await pool.query<Record<string, string | null>>(
        `SELECT tributary_tenant AS tenant, "PK" AS pk, "COL2" AS col2, "COL3" AS col3, "COL4" AS col4, tributary_version AS v
           FROM imports.example WHERE NOT tributary_deleted ORDER BY tributary_tenant COLLATE "C", "PK" COLLATE "C"`,
      )
    ).rows.map((r) => [r.tenant, r.pk, r.col2, r.col3, r.col4, r.v]);

  const v1: State = new Map();
  for (let i = 1; i <= 1200; i++) {
    const pk = `K${String(i).padStart(5, '0')}`;
    v1.set(pk, [pk, i % 7 === 0 ? null : `name ${i}`, i % 5 === 0 ? '' : `${i}.0`, i % 11 === 0 ? null : 'a;b"c']);
  }

  it('publishes a first export as inserts, then exact deltas, and an identical re-export as nothing', async () => {
    const job = new ImportJob(deps);
    const first = await drop('acme', '20201230_V0001', sorted(v1));
    expect((await job.runTable('acme', 'example')).done.map((f) => [f.id, f.status, f.counts])).toEqual([
      [first.id, 'published', { insert: 1200, update: 0, delete: 0, unchanged: 0, rows: 1200, base: '' }],
    ]);
    expect(await applied('acme', v1)).toEqual(sorted(v1));

    // 100 changed (NULL ↔ value both ways, '' ↔ NULL, 1.0 ↔ 1 as text), 50 deleted, 30 new.
    const v2: State = new Map([...v1].map(([k, r]) => [k, [...r] as Row]));
    let n = 0;
    for (const r of v2.values()) {
      if (n >= 100) break;
      const i = Number(r[0].slice(1));
      if (i % 3 !== 0) continue;
      n++;
      if (n % 4 === 0) r[1] = r[1] === null ? 'now set' : null;
      else if (n % 4 === 1) r[2] = r[2] === '' ? null : '';
      else if (n % 4 === 2) r[2] = r[2] === null || r[2] === '' ? '1' : r[2].replace('.0', '');
      else r[3] = r[3] === null ? '' : null;
    }
    for (let i = 1001; i <= 1050; i++) v2.delete(`K${String(i).padStart(5, '0')}`);
    for (let i = 2001; i <= 2030; i++) v2.set(`K${i}`, [`K${i}`, 'new', null, '']);
    const second = await drop('acme', '20201230_V0002', sorted(v2));
    const [done] = (await job.runTable('acme', 'example')).done;
    expect([done!.id, done!.status, done!.counts]).toEqual([
      second.id,
      'published',
      { insert: 30, update: 100, delete: 50, unchanged: 1050, rows: 1180, base: '20201230_V0001' },
    ]);
    expect(await applied('acme', v2)).toEqual(sorted(v2));

    // The same rows in another order: nothing to publish.
    const third = await drop('acme', '20201231_V0001', sorted(v2).reverse());
    expect((await job.runTable('acme', 'example')).done.map((f) => [f.id, f.counts])).toEqual([
      [third.id, { insert: 0, update: 0, delete: 0, unchanged: 1180, rows: 1180, base: '20201230_V0002' }],
    ]);
    const onStream = await streamRecords(deps.kinesis);
    expect(onStream.filter((r) => r.version === '20201231_V0001')).toEqual([]);
    expect(onStream.filter((r) => r.version === '20201230_V0002').length).toBe(180);
    // Each operation is on the shard its key hashes into, so one key's operations stay in order.
    expect(onStream.filter((r) => r.shard !== r.keyShard)).toEqual([]);
    // Deleted keys stay as tombstones of the version that deleted them: a late insert of an older version cannot revive them.
    const tomb = await pool.query(
      `SELECT count(*)::int AS n FROM imports.example WHERE tributary_tenant = 'acme' AND tributary_deleted AND tributary_version = '20201230_V0002'`,
    );
    expect(tomb.rows[0].n).toBe(50);
    // The lake keeps every operation, with its table's changes, one partition per tenant; none is quarantined.
    const lakeOps = async () => {
      const keys = (await listAll(deps.s3, rt.config.buckets.lake, 'imports/example/changes/')).map((o) => o.Key!);
      const rows = await Promise.all(keys.map((k) => readJsonl<{ id: string }>(deps.s3, rt.config.buckets.lake, k)));
      return { keys, ids: new Set(rows.flat().map((r) => r.id)) };
    };
    const inLake = await waitFor(lakeOps, (l) => l.ids.size === 1380, 60_000, 250);
    expect(inLake.ids.size).toBe(1380);
    expect(
      inLake.keys.every((k) => /^imports\/example\/changes\/dt=\d{4}-\d\d-\d\d\/hour=\d\d\/tenant=acme\//.test(k)),
    ).toBe(true);
    expect((await readLake(rt.config)).quarantine.map((q) => q.reason)).toEqual([]);
  }, 240_000);

  it('finishes a publish that stopped half-way: the rest is sent, and the chunk sent twice changes nothing', async () => {
    const before = await table('acme');
    const v4: State = new Map(before.map((r) => [r[0], [...r] as Row]));
    for (const r of v4.values()) r[1] = `v4 ${r[0]}`;
    const file = await drop('acme', '20210101_V0001', sorted(v4));
    // The stream takes the second PutRecords, but its answer is lost: the job cannot know the records are there.
    const flaky = createAwsClients(rt.config).kinesis;
    let puts = 0;
    flaky.middlewareStack.add(
      (next) => async (args) => {
        const out = await next(args);
        if ((args.input as { Records?: unknown[] }).Records && ++puts === 2) throw new Error('socket hang up');
        return out;
      },
      { step: 'deserialize', name: 'loseSecondAnswer' },
    );
    // One PutRecords call at a time, so the second call is the second chunk of 500.
    await expect(new ImportJob({ ...deps, kinesis: flaky, roundOps: 500 }).runTable('acme', 'example')).rejects.toThrow(
      ImportPublishError,
    );
    expect(await deps.registry.get(file.id)).toMatchObject({ status: 'running', publishedOps: 500 });
    const [done] = (await new ImportJob(deps).runTable('acme', 'example')).done;
    expect([done!.status, done!.counts]).toEqual([
      'published',
      { insert: 0, update: 1180, delete: 0, unchanged: 0, rows: 1180, base: '20201231_V0001' },
    ]);
    const ops = (await streamRecords(deps.kinesis)).filter((r) => r.version === '20210101_V0001');
    // 1,180 operations, the second chunk twice — byte for byte the same records.
    expect(new Set(ops.map((o) => o.id)).size).toBe(1180);
    expect(ops.length).toBe(1680);
    const byId = new Map<string, Set<string>>();
    for (const o of ops) byId.set(o.id, (byId.get(o.id) ?? new Set()).add(o.text));
    expect([...byId.values()].every((texts) => texts.size === 1)).toBe(true);
    expect(await applied('acme', v4)).toEqual(sorted(v4));
  }, 240_000);

  it('holds an export that deletes too much until an operator decides, and keeps later exports waiting', async () => {
    const job = new ImportJob(deps);
    const base = new Map((await table('acme')).map((r) => [r[0], r] as const));
    const kept = new Map([...base].slice(0, 400));
    const held = await drop('acme', '20210102_V0001', sorted(kept));
    const later = await drop('acme', '20210103_V0001', sorted(kept));
    expect((await job.runTable('acme', 'example')).done.map((f) => [f.id, f.status, f.counts?.delete])).toEqual([
      [held.id, 'held', 780],
    ]);
    expect((await deps.registry.get(held.id)).error).toBe(
      'It would delete 780 of the 1,180 rows the last applied export had (66.1 %), more than the 20 % an import may delete on its own; it waits for an operator to approve or reject it.',
    );
    expect(await deps.registry.get(later.id)).toMatchObject({ status: 'queued' });
    expect((await streamRecords(deps.kinesis)).filter((r) => r.version === '20210102_V0001')).toEqual([]);
    await deps.registry.decide(held.id, 'approve', 'sam');
    expect((await job.runTable('acme', 'example')).done.map((f) => [f.id, f.status, f.counts])).toEqual([
      [held.id, 'published', { insert: 0, update: 0, delete: 780, unchanged: 400, rows: 400, base: '20210101_V0001' }],
      [later.id, 'published', { insert: 0, update: 0, delete: 0, unchanged: 400, rows: 400, base: '20210102_V0001' }],
    ]);
    expect(await applied('acme', kept)).toEqual(sorted(kept));

    // Rejected, the next export's delta is against the last published one.
    const wiped = await drop('acme', '20210104_V0001', sorted(kept).slice(0, 10));
    expect((await job.runTable('acme', 'example')).done.map((f) => f.status)).toEqual(['held']);
    expect(await deps.registry.decide(wiped.id, 'reject', 'erin')).toMatchObject({ status: 'rejected' });
    const next = new Map(kept);
    next.set('K99999', ['K99999', 'after the rejected one', null, null]);
    await drop('acme', '20210105_V0001', sorted(next));
    expect((await job.runTable('acme', 'example')).done.map((f) => f.counts)).toEqual([
      { insert: 1, update: 0, delete: 0, unchanged: 400, rows: 401, base: '20210103_V0001' },
    ]);
    expect(await applied('acme', next)).toEqual(sorted(next));
  }, 240_000);

  it('refuses a malformed export as a whole, lists its bad rows and quarantines them; an older version is refused too', async () => {
    const job = new ImportJob(deps);
    const text = ['K1;a;b;c', 'K2;a;b', 'K3;a;b;c', 'K1;x;y;z', 'K4;a;b;c;d', ''].join('\n');
    const bad = await drop('acme', '20210106_V0001', gzipSync(text));
    const old = await drop('acme', '20201230_V0009', sorted(v1));
    const done = (await job.runTable('acme', 'example')).done;
    expect(done.map((f) => [f.id, f.status])).toEqual([[bad.id, 'refused']]);
    expect(done[0]!.badRows?.map((b) => [b.line, b.text])).toEqual([
      [2, 'K2;a;b'],
      [5, 'K4;a;b;c;d'],
    ]);
    expect(await deps.registry.get(old.id)).toMatchObject({
      status: 'refused',
      error: expect.stringContaining('is not after the last published version 20210105_V0001'),
    });
    const lake = await waitFor(
      () => readLake(rt.config),
      (l) => l.quarantine.filter((q) => q.reason === 'export_refused').length === 2,
      30_000,
    );
    expect(
      lake.quarantine
        .filter((q) => q.reason === 'export_refused')
        .map((q) => [q.stage, q.errors[0]!.path, q.payload])
        .sort(),
    ).toEqual([
      ['import', '/line/2', 'K2;a;b'],
      ['import', '/line/5', 'K4;a;b;c;d'],
    ]);
    // Nothing of it reached the table.
    expect((await table('acme')).length).toBe(401);
  }, 240_000);

  it('runs one import of a table at a time however many jobs start, other tenants alongside, in version order', async () => {
    const rows = (tag: string, n: number): Row[] =>
      Array.from({ length: n }, (_, i) => [`B${i}`, tag, null, null] as Row);
    const a = await drop('beta', 'v2', rows('second', 20));
    const b = await drop('beta', 'v1', rows('first', 10));
    const c = await drop('gamma', 'v1', rows('gamma', 5));
    const results = await Promise.all([
      new ImportJob(deps).runTable('beta', 'example'),
      new ImportJob(deps).runTable('beta', 'example'),
      new ImportJob(deps).runTable('gamma', 'example'),
    ]);
    const beta = results.slice(0, 2);
    // One took both files; the other found the table busy, or (started after) nothing left.
    expect(beta.map((r) => r.done.length).sort()).toEqual([0, 2]);
    const ran = beta.find((r) => r.done.length)!;
    expect(ran.done.map((f) => [f.id, f.counts?.insert, f.counts?.update])).toEqual([
      [b.id, 10, 0],
      [a.id, 10, 10],
    ]);
    expect(results[2]!.done.map((f) => f.id)).toEqual([c.id]);
    expect(await applied('beta', new Map(rows('second', 20).map((r) => [r[0], r])))).toHaveLength(20);
    expect(await applied('gamma', new Map(rows('gamma', 5).map((r) => [r[0], r])))).toHaveLength(5);
  }, 240_000);

  it('keeps its lease through a download that outlasts it', async () => {
    const slow = createAwsClients(rt.config).s3;
    slow.middlewareStack.add(
      (next) => async (args) => {
        if (String((args.input as { Key?: string }).Key).startsWith('exports/slow/'))
          await new Promise((r) => setTimeout(r, 1_000));
        return next(args);
      },
      { step: 'initialize', name: 'slowExports' },
    );
    const f = await drop('slow', 'v1', [['S1', 'x', null, null]]);
    const r = await new ImportJob({ ...deps, s3: slow, leaseMs: 300 }).runTable('slow', 'example');
    expect(r.done.map((d) => [d.id, d.status])).toEqual([[f.id, 'published']]);
  }, 60_000);

  it('resumes a committed import from what it saved, though its object and its definition are gone since', async () => {
    const rows: Row[] = Array.from({ length: 1200 }, (_, i) => [`R${String(i).padStart(4, '0')}`, `r${i}`, null, null]);
    const file = await drop('resume', 'v1', rows);
    const flaky = createAwsClients(rt.config).kinesis;
    let puts = 0;
    flaky.middlewareStack.add(
      (next) => async (args) => {
        if ((args.input as { Records?: unknown[] }).Records && ++puts === 2) throw new Error('socket hang up');
        return next(args);
      },
      { step: 'initialize', name: 'failSecondPut' },
    );
    await expect(
      new ImportJob({ ...deps, kinesis: flaky, roundOps: 500 }).runTable('resume', 'example'),
    ).rejects.toThrow(ImportPublishError);
    expect(await deps.registry.get(file.id)).toMatchObject({ status: 'running', publishedOps: 500 });
    expect((await deps.registry.get(file.id)).committedAt).toBeDefined();
    await deps.s3.send(new DeleteObjectCommand({ Bucket: deps.buckets.imports, Key: file.key }));
    const noDefinitions = new TableRegistry(tempDir('no-tables'));
    const [done] = (await new ImportJob({ ...deps, tables: noDefinitions }).runTable('resume', 'example')).done;
    expect([done!.status, done!.publishedOps, done!.counts?.insert]).toEqual(['published', 1200, 1200]);
    expect(await applied('resume', new Map(rows.map((r) => [r[0], r])))).toHaveLength(1200);
  }, 120_000);

  it('imports an object written over a queued one instead, and a failed file again when it is dropped again', async () => {
    const job = new ImportJob(deps);
    const first = await drop('redrop', 'v1', [['A', 'first', null, null]]);
    const second = await drop('redrop', 'v1', [['A', 'second', null, null]]);
    expect(await deps.registry.get(first.id)).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('Replaced by a newer object at the same key'),
    });
    expect((await job.runTable('redrop', 'example')).done.map((f) => [f.id, f.status])).toEqual([
      [second.id, 'published'],
    ]);
    expect(await applied('redrop', new Map([['A', ['A', 'second', null, null] as Row]]))).toHaveLength(1);
    // A file whose object vanished fails; the same bytes dropped again are imported.
    const rows: Row[] = [['A', 'third', null, null]];
    const gone = await drop('redrop', 'v2', rows);
    await deps.s3.send(new DeleteObjectCommand({ Bucket: deps.buckets.imports, Key: gone.key }));
    expect((await job.runTable('redrop', 'example')).done.map((f) => [f.status, f.error])).toEqual([
      ['failed', `${gone.key} no longer exists in the imports bucket; drop the export again.`],
    ]);
    const again = await drop('redrop', 'v2', rows);
    expect([again.id, again.status]).toEqual([gone.id, 'queued']);
    expect((await job.runTable('redrop', 'example')).done.map((f) => f.status)).toEqual(['published']);
    expect(await applied('redrop', new Map([['A', rows[0]!]]))).toHaveLength(1);
  }, 60_000);

  it('refuses an export with a row too large for a stream record, naming its key', async () => {
    const f = await drop('wide', 'v1', [
      ['W1', 'small', null, null],
      ['W2', 'x'.repeat(1_100_000), null, null],
    ]);
    const [done] = (await new ImportJob(deps).runTable('wide', 'example')).done;
    expect([done!.id, done!.status, done!.badRows]).toEqual([
      f.id,
      'refused',
      [
        {
          // The operation's data as it would travel: the JSON of its fields and the row.
          problem: `key ["W2"]: ${Buffer.byteLength(
            JSON.stringify({
              tributary_op: 'insert',
              tributary_tenant: 'wide',
              tributary_version: 'v1',
              PK: 'W2',
              COL2: 'x'.repeat(1_100_000),
              COL3: null,
              COL4: null,
            }),
          ).toLocaleString('en-US')} bytes of data`,
        },
      ],
    ]);
  }, 60_000);

  it('finds an export whose notification never came on the next sweep', async () => {
    const key = 'exports/swept/example/v1/lost.csv.gz';
    await deps.s3.send(
      new PutObjectCommand({ Bucket: deps.buckets.imports, Key: key, Body: exportFile([['L1', 'lost', null, null]]) }),
    );
    const r = await handleImportTrigger({ sweep: true }, deps);
    expect(r.registered.map((f) => f.key)).toEqual([key]);
    expect(r.runs.find((x) => x.tenant === 'swept')?.done.map((f) => f.status)).toEqual(['published']);
    // Registered once: the next sweep finds nothing new.
    expect((await handleImportTrigger({ sweep: true }, deps)).registered).toEqual([]);
  }, 60_000);

  it('holds an approved export again when a version published before it changed its delta', async () => {
    const job = new ImportJob(deps);
    const base: Row[] = Array.from({ length: 100 }, (_, i) => [`G${i}`, 'g', null, null]);
    await drop('guard', 'v1', base);
    await job.runTable('guard', 'example');
    const held = await drop('guard', 'v3', base.slice(0, 10));
    expect((await job.runTable('guard', 'example')).done.map((f) => [f.status, f.counts?.delete])).toEqual([
      ['held', 90],
    ]);
    // A version between the two arrives; the held one is approved as it was (90 of 100).
    await drop('guard', 'v2', [...base, ['G100', 'new', null, null]]);
    await deps.registry.decide(held.id, 'approve', 'sam');
    const done = (await job.runTable('guard', 'example')).done;
    expect(done.map((f) => [f.version, f.status, f.counts?.delete, f.counts?.base])).toEqual([
      ['v2', 'published', 0, 'v1'],
      ['v3', 'held', 91, 'v2'],
    ]);
    expect((await deps.registry.get(held.id)).decidedBy).toBeUndefined();
  }, 60_000);

  it("the lake's current-state view holds the same rows as Postgres, every tenant, and the changes table every operation", async () => {
    // Once the applier has every published import in (the tests above wait for their own tenants only).
    const imports = new ImportService({ ...deps, importsBucket: deps.buckets.imports });
    const unapplied = await waitFor(
      async () => (await imports.list({ limit: 1000 })).filter((f) => f.status === 'published' && !f.applied),
      (l) => l.length === 0,
      60_000,
      250,
    );
    expect(unapplied).toEqual([]);
    const want = await postgresRows();
    expect(want.length).toBe(1730);
    const svc = queryService(rt.config);
    try {
      const lake = await waitFor(
        async () =>
          (
            await svc.run({
              sql: 'SELECT tenant, pk, col2, col3, col4, tributary_version FROM example ORDER BY tenant, pk',
              allowFullScan: true,
            })
          ).rows,
        (rows) => JSON.stringify(rows) === JSON.stringify(want),
        60_000,
        500,
      );
      expect(lake).toEqual(want);
      // Every operation, once: the 180 of the second export, by kind.
      const ops = await svc.run({
        sql: "SELECT tributary_op, count(*) FROM example_changes WHERE tenant = 'acme' AND tributary_version = '20201230_V0002' GROUP BY 1 ORDER BY 1",
        allowFullScan: true,
      });
      expect(ops.rows).toEqual([
        ['delete', 50],
        ['insert', 30],
        ['update', 100],
      ]);
    } finally {
      await svc.deps.engine.close();
    }
  }, 120_000);
  it('a job SIGKILLed mid-publish is taken over once its lease expires: the rest is sent, nothing lost, nothing applied twice', async () => {
    const want: State = new Map();
    for (let i = 1; i <= 6000; i++) {
      const pk = `Z${String(i).padStart(5, '0')}`;
      want.set(pk, [pk, `row ${i}`, i % 3 === 0 ? null : `${i}`, '']);
    }
    const file = await drop('killed', '20210301_V0001', sorted(want));
    // Rounds of 2,000 operations, one PutRecords call each (a few aggregates): the first round is recorded, the second
    // call (the second round's) is stored by Kinesis and never answered; then the process dies without giving its
    // lease back.
    const marker = path.join(dir, 'import-job-marker');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(import.meta.dirname, 'fixtures', 'import-job-worker.ts'),
        JSON.stringify(rt.config),
        'killed',
        'example',
      ],
      { env: { ...process.env, HANG_AT: '2', ROUND_OPS: '2000', MARKER: marker, LEASE_MS: '6000' }, stdio: 'inherit' },
    );
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    await waitFor(
      async () => existsSync(marker),
      (x) => x,
      120_000,
      50,
    );
    child.kill('SIGKILL');
    await exited;
    // Progress is recorded per round: 2,000 (unless a partial failure's retry was the second call, then 0).
    const left = await deps.registry.get(file.id);
    expect([left.status, left.fence, [0, 2000].includes(left.publishedOps)]).toEqual(['running', 1, true]);

    // Another job finds the table busy until the dead one's lease runs out, then takes it with a higher fence and
    // sends the rest from where the progress says.
    const job = new ImportJob({ ...deps, leaseMs: 6000 });
    const run = await waitFor(
      () => job.runTable('killed', 'example'),
      (r) => !r.busy,
      30_000,
      250,
    );
    expect(run.done.map((f) => [f.id, f.status, f.fence, f.counts])).toEqual([
      [file.id, 'published', 2, { insert: 6000, update: 0, delete: 0, unchanged: 0, rows: 6000, base: '' }],
    ]);
    const ops = (await streamRecords(deps.kinesis)).filter((o) => o.version === '20210301_V0001');
    const ids = new Set(ops.map((o) => o.id));
    expect(ids.size).toBe(6000);
    // The killed round went again, byte for byte the same records.
    expect(ops.length).toBeGreaterThanOrEqual(8000);
    const texts = new Map<string, Set<string>>();
    for (const o of ops) texts.set(o.id, (texts.get(o.id) ?? new Set()).add(o.text));
    expect([...texts.values()].every((t) => t.size === 1)).toBe(true);
    expect(await applied('killed', want)).toEqual(sorted(want));
  }, 300_000);
  it('compacts the changes to Parquet like events: the current view and every operation read the same after', async () => {
    const svc = queryService(rt.config);
    const current = async () =>
      (
        await svc.run({
          sql: 'SELECT tenant, pk, col2, col3, col4, tributary_version FROM example ORDER BY tenant, pk',
          allowFullScan: true,
        })
      ).rows;
    const perVersion = async () =>
      (
        await svc.run({
          sql: 'SELECT tenant, tributary_version, tributary_op, count(*) FROM example_changes GROUP BY ALL ORDER BY ALL',
          allowFullScan: true,
        })
      ).rows;
    try {
      const want = await postgresRows();
      expect(want.length).toBe(7730);
      // The lake writer has every operation of the imports above (the killed job's too) before the hour is closed.
      expect(await waitFor(current, (rows) => JSON.stringify(rows) === JSON.stringify(want), 60_000, 500)).toEqual(
        want,
      );
      const ops = await perVersion();
      const jsonl = async () =>
        (await listAll(deps.s3, rt.config.buckets.lake, 'imports/example/changes/')).filter((o) =>
          o.Key!.endsWith('.jsonl.gz'),
        ).length;
      expect(await jsonl()).toBeGreaterThan(0);
      const next = new Date(Date.now() + 3600_000).toISOString().slice(0, 13);
      const r = await compactLake(compactorDeps(rt.config), { before: next, tables: ['example_changes'] });
      expect([r.failed, r.unreadable, r.parquetObjects > 0]).toEqual([[], [], true]);
      expect(await jsonl()).toBe(0);
      const parquet = await listAll(deps.s3, rt.config.buckets.lake, 'imports/example/compacted/');
      expect(parquet.length).toBe(r.parquetObjects);
      expect(
        parquet.every((o) => /\/dt=\d{4}-\d{2}-\d{2}\/hour=\d{2}\/tenant=[^/]+\/part-\w+\.parquet$/.test(o.Key!)),
      ).toBe(true);
      expect(await current()).toEqual(want);
      expect(await perVersion()).toEqual(ops);
    } finally {
      await svc.deps.engine.close();
    }
  }, 180_000);
});
