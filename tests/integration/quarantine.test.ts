import { gunzipSync } from 'node:zlib';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transaction } from '../helpers/factories.ts';
import { awsClients } from '../../lib/aws/clients.ts';
import type { Envelope } from '../../lib/envelope.ts';
import { QuarantineForbiddenError, QuarantineRequestError } from '../../lib/quarantine/errors.ts';
import { QuarantineService } from '../../lib/quarantine/service.ts';
import { QuarantineIndex } from '../../lib/quarantine/quarantine-index.ts';
import { savedQuery, savedRequest } from '../../lib/query/saved.ts';
import { queryService, quarantineService } from '../../lib/composition.ts';
import { listAll } from '../../lib/aws/s3.ts';
import type { DevRuntime } from '../../local/dev.ts';
import { post, readLake, removeDir, startTestRuntime, tempDir, waitFor } from './helpers.ts';

const OPERATOR = { by: 'alice', role: 'operator' as const };
const VIEWER = { by: 'bob', role: 'viewer' as const };
const today = new Date().toISOString().slice(0, 10);

const tx = (i: number, extra: Record<string, unknown> = {}) =>
  transaction(i, { merchant: "O'Reilly & <b>Sons</b>", ...extra });

describe('quarantine: browse, fix, re-drive, discard, export, audit', () => {
  let rt: DevRuntime;
  let dir: string;
  let svc: QuarantineService;
  let cancelledProcessed = 0;

  beforeAll(async () => {
    dir = tempDir('quarantine');
    rt = await startTestRuntime(dir);
    // 8 bad genders and 3 amounts that are not numbers through the API…
    const bad = [
      ...Array.from({ length: 8 }, (_, i) => tx(i + 1, { gender: 'X' })),
      ...Array.from({ length: 3 }, (_, i) => tx(i + 101, { amt: 'lots' })),
    ];
    const res = await post(rt, 'transactions', JSON.stringify(bad));
    expect(res.json).toMatchObject({ accepted: 0, rejected: 11 });
    // …and 4 envelopes a producer put on the stream itself without "v": the lake writer quarantines them.
    const { kinesis } = awsClients(rt.config);
    const broken = Array.from({ length: 4 }, (_, i) => ({
      id: tx(201 + i).trans_num,
      type: 'transactions',
      received_at: `${today}T09:00:00.000Z`,
      event_time: `${today}T10:00:00.000Z`,
      source: 'producer',
      data: tx(201 + i),
    }));
    await kinesis.send(
      new PutRecordsCommand({
        StreamName: rt.config.streamName,
        Records: broken.map((b) => ({ Data: Buffer.from(JSON.stringify(b)), PartitionKey: b.id })),
      }),
    );
    svc = quarantineService(rt.config);
    await waitFor(
      () => svc.list({ stage: 'lake-writer' }),
      (p) => p.total === 4,
    );
  }, 180_000);

  afterAll(async () => {
    await rt?.stop();
    removeDir(dir);
  });

  it('lists newest first with server-side filters and paging', async () => {
    const all = await svc.list({});
    expect(all.total).toBe(15);
    expect(all.items.map((e) => e.record.quarantined_at)).toEqual(
      [...all.items.map((e) => e.record.quarantined_at)].sort().reverse(),
    );
    expect((await svc.list({ type: 'transactions', stage: 'ingest' })).total).toBe(11);
    expect((await svc.list({ q: '/GENDER' })).total).toBe(8);
    expect((await svc.list({ q: 'lots' })).items.map((e) => e.record.errors[0]!.path)).toEqual([
      '/amt',
      '/amt',
      '/amt',
    ]);
    expect((await svc.list({ reason: 'invalid_envelope' })).total).toBe(4);
    expect((await svc.list({ status: 'discarded' })).total).toBe(0);
    expect((await svc.list({ to: '2000-01-01T00:00:00.000Z' })).total).toBe(0);
    const p1 = await svc.list({ stage: 'ingest' }, { offset: 0, limit: 5 });
    const p3 = await svc.list({ stage: 'ingest' }, { offset: 10, limit: 5 });
    expect([p1.items.length, p3.items.length, p3.total]).toEqual([5, 1, 11]);
    // The same record never shows on two pages.
    const pages = await Promise.all([0, 5, 10].map((offset) => svc.list({ stage: 'ingest' }, { offset, limit: 5 })));
    expect(new Set(pages.flatMap((p) => p.items.map((e) => e.qid))).size).toBe(11);
  });

  it('shows a record with its event, errors and schema, and checks a fix live', async () => {
    const [e] = (await svc.list({ q: tx(1).trans_num })).items;
    const d = await svc.detail(e!.qid);
    expect(d.entry.record.errors).toEqual([
      { path: '/gender', keyword: 'enum', message: 'must be one of "M", "F", null' },
    ]);
    expect(d.source.type).toBe('transactions');
    expect(JSON.parse(d.source.event)).toEqual(tx(1, { gender: 'X' }));
    expect((d.schema as { title: string }).title).toBe('transactions v1');
    const still = await svc.check(e!.qid, { event: JSON.stringify(tx(1, { gender: 'Q' })) });
    expect(still).toMatchObject({ valid: false, errors: [{ path: '/gender', keyword: 'enum' }] });
    expect(await svc.check(e!.qid, { event: '{"trans_num": ' })).toMatchObject({
      valid: false,
      errors: [{ path: '/', keyword: 'json' }],
    });
    expect(await svc.check(e!.qid, { event: JSON.stringify(tx(1, { gender: 'F' })) })).toEqual({
      valid: true,
      type: 'transactions',
      v: 1,
      errors: [],
    });
  });

  it('refuses viewers, and discards only with a reason', async () => {
    const [e] = (await svc.list({ q: tx(101).trans_num })).items;
    await expect(svc.startRedrive({ qids: [e!.qid] }, VIEWER)).rejects.toBeInstanceOf(QuarantineForbiddenError);
    await expect(svc.discard({ qids: [e!.qid], reason: 'x' }, VIEWER)).rejects.toBeInstanceOf(QuarantineForbiddenError);
    await expect(svc.discard({ qids: [e!.qid], reason: '  ' }, OPERATOR)).rejects.toBeInstanceOf(
      QuarantineRequestError,
    );
    await expect(svc.startRedrive({ qids: ['nope.0'] }, OPERATOR)).rejects.toThrow(/not found/);
    expect(await svc.discard({ qids: [e!.qid, e!.qid], reason: 'test data from a load test' }, OPERATOR)).toMatchObject(
      { discarded: 1, skipped: 0 },
    );
    expect(await svc.discard({ qids: [e!.qid], reason: 'again' }, OPERATOR)).toMatchObject({
      discarded: 0,
      skipped: 1,
    });
    expect((await svc.list({ status: 'discarded' })).items.map((x) => x.qid)).toEqual([e!.qid]);
  });

  it('re-drives a fixed record and all records matching a filter, once each, into the lake with the redrive block', async () => {
    const [fixMe] = (await svc.list({ q: tx(1).trans_num })).items;
    const one = await svc.startRedrive(
      { qids: [fixMe!.qid], fixes: { [fixMe!.qid]: { event: JSON.stringify(tx(1, { gender: 'F' })) } } },
      OPERATOR,
    );
    expect(await svc.wait(one.id)).toMatchObject({ status: 'succeeded', total: 1, accepted: 1, failed: 0, skipped: 0 });

    // All matching /gender: the fixed one is no longer open, so 7 go, and fail again with the same error.
    const gender = await svc.startRedrive({ filter: { q: '/gender' } }, OPERATOR);
    expect(gender).toMatchObject({
      total: 7,
      rate: 500,
      selection: 'filter',
      filter: { q: '/gender', status: 'open' },
    });
    const done = await svc.wait(gender.id);
    expect(done).toMatchObject({ status: 'succeeded', total: 7, processed: 7, accepted: 0, failed: 7 });
    const again = await svc.list({ stage: 'redrive' });
    expect(again.total).toBe(7);
    expect(
      again.items.every(
        (e) => e.record.attempts === 2 && e.record.errors[0]!.path === '/gender' && e.record.source === 'redrive',
      ),
    ).toBe(true);
    const { outcomes, outcomeTotal } = await svc.job(gender.id);
    expect(outcomeTotal).toBe(7);
    expect(
      outcomes.every((o) => o.outcome === 'failed' && o.new_qid && again.items.some((e) => e.qid === o.new_qid)),
    ).toBe(true);

    // The broken envelopes: re-driving their data works; the same selection twice in one job goes once.
    const broken = (await svc.list({ stage: 'lake-writer' })).items.map((e) => e.qid);
    const job = await svc.startRedrive({ qids: [...broken, ...broken], rate: 2 }, OPERATOR);
    expect(job).toMatchObject({ total: 4, rate: 2 });
    const t0 = Date.now();
    expect(await svc.wait(job.id)).toMatchObject({ status: 'succeeded', accepted: 4, failed: 0, skipped: 0 });
    // 4 records at 2/s: at least 1.5 s (the first chunk goes at once).
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
    // A second job over the same records skips them all.
    const twice = await svc.startRedrive({ qids: broken }, OPERATOR);
    expect(await svc.wait(twice.id)).toMatchObject({ accepted: 0, skipped: 4 });

    const lake = await waitFor(
      () => readLake(rt.config),
      (l) => l.rows.length >= 5,
    );
    const rows = lake.rows as Envelope[];
    expect(rows.length).toBe(5);
    expect(rows.map((r) => r.id).sort()).toEqual([1, 201, 202, 203, 204].map((i) => tx(i).trans_num));
    const fixed = rows.find((r) => r.id === tx(1).trans_num)!;
    expect(fixed).toMatchObject({
      source: 'redrive',
      v: 1,
      data: tx(1, { gender: 'F' }),
      redrive: { job: one.id, by: 'alice', attempt: 1 },
    });
    const env = rows.find((r) => r.id === tx(201).trans_num)!;
    expect(env).toMatchObject({
      source: 'redrive',
      received_at: `${today}T09:00:00.000Z`,
      event_time: `${today}T10:00:00.000Z`,
      redrive: { job: job.id },
    });

    // The ledger is in the bucket: a fresh index (another process) derives the same statuses.
    const fresh = new QuarantineIndex(awsClients(rt.config).s3, rt.config.buckets.quarantine);
    await fresh.refresh();
    expect(fresh.counts()).toMatchObject({ open: 2 + 7, redriven: 1 + 7 + 4, discarded: 1 });
  });

  it('cancels a running job and leaves the rest open', async () => {
    const open = (await svc.list({ stage: 'redrive' })).items.map((e) => e.qid);
    const job = await svc.startRedrive({ qids: open, rate: 1 }, OPERATOR);
    const cancelled = await svc.cancel(job.id, OPERATOR);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.processed).toBeGreaterThanOrEqual(1);
    expect(cancelled.processed).toBeLessThan(open.length);
    cancelledProcessed = cancelled.processed;
    const after = new Set((await svc.list({ stage: 'redrive' })).items.map((e) => e.qid));
    expect(open.filter((q) => after.has(q)).length).toBe(open.length - cancelled.processed);
    expect((await svc.job(job.id)).outcomes.map((o) => o.outcome)).toEqual(Array(cancelled.processed).fill('failed'));
  });

  it('exports every match as JSONL and CSV and keeps an audit log', async () => {
    let jsonl = '';
    for await (const c of svc.export({ status: 'all' }, 'jsonl', OPERATOR)) jsonl += c;
    const lines = jsonl
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { qid: string; status: string; payload: string });
    expect(lines.length).toBe(15 + 7 + cancelledProcessed);
    expect(new Set(lines.map((l) => l.qid)).size).toBe(lines.length);
    let csv = '';
    for await (const c of svc.export({ q: 'lots' }, 'csv', OPERATOR)) csv += c;
    const rows = csv.trim().split('\r\n');
    expect(rows[0]).toBe(
      'qid,status,id,stage,reason,type,v,received_at,quarantined_at,attempts,source,errors,payload_encoding,payload',
    );
    // Three amounts were "lots"; one was discarded, and an export takes open records unless told otherwise.
    expect(rows.length).toBe(1 + 2);
    expect(rows[1]).toContain('"O\'Reilly & <b>Sons</b>"'.replace(/"/g, '""'));
    await expect(async () => {
      for await (const _ of svc.export({}, 'csv', VIEWER)) void _;
    }).rejects.toBeInstanceOf(QuarantineForbiddenError);
    const off = quarantineService({ ...rt.config, console: { ...rt.config.console, exportEnabled: false } });
    await expect(off.export({}, 'jsonl', OPERATOR).next()).rejects.toMatchObject({ code: 'export_disabled' });

    const { entries: audit } = await svc.audit();
    expect(audit.map((a) => a.action)).toEqual([
      'export',
      'export',
      'redrive',
      'redrive',
      'redrive',
      'redrive',
      'redrive',
      'discard',
      'discard',
    ]);
    expect(audit[2]).toMatchObject({ by: 'alice', status: 'cancelled' });
    // The log keeps the search's length, never its text (it can be a card number an operator typed).
    expect(audit.find((a) => a.selection === 'filter' && a.action === 'redrive')).toMatchObject({
      filter: { qWithheld: '7', status: 'open' },
      requested: 7,
      counts: { failed: 7 },
    });
    expect(audit.at(-1)).toMatchObject({
      action: 'discard',
      note: 'test data from a load test',
      counts: { discarded: 1 },
    });
    // Each line names its records or links its job, and carries the fix as a diff; the log filters by record (named,
    // or reached by a filter re-drive's job), action, who and job.
    const fixed = audit.filter((a) => a.edits);
    expect(fixed).toHaveLength(1);
    const fixedQid = fixed[0]!.qids![0]!;
    expect(fixed[0]).toMatchObject({
      selection: 'one',
      qids: [fixedQid],
      note: '1 edited',
      edits: [{ qid: fixedQid, changes: [{ op: 'replace', path: '/gender', from: 'X', to: 'F' }] }],
    });
    expect((await svc.audit({ record: fixedQid })).entries.map((a) => a.id)).toEqual([fixed[0]!.id]);
    const discarded = audit.filter((a) => a.action === 'discard');
    expect(new Set(discarded.flatMap((a) => a.qids))).toEqual(new Set([discarded[0]!.qids![0]]));
    expect((await svc.audit({ record: discarded[0]!.qids![0]! })).entries.map((a) => a.id)).toEqual(
      discarded.map((a) => a.id),
    );
    const byFilter = audit.find((a) => a.selection === 'filter' && a.action === 'redrive')!;
    expect(byFilter).not.toHaveProperty('qids');
    const reached = (await svc.job(byFilter.job!)).outcomes[0]!.qid;
    expect((await svc.audit({ record: reached })).entries.map((a) => a.id)).toContain(byFilter.id);
    expect((await svc.audit({ action: 'export' })).entries.map((a) => a.action)).toEqual(['export', 'export']);
    expect((await svc.audit({ job: byFilter.job! })).entries.map((a) => a.id)).toEqual([byFilter.id]);
    expect((await svc.audit({ by: 'ALI' })).entries.map((a) => a.by)).toEqual(
      audit.filter((a) => a.by === 'alice').map((a) => a.by),
    );
    expect((await svc.audit({ limit: 2 })).entries.map((a) => a.id)).toEqual(audit.slice(0, 2).map((a) => a.id));
    expect((await svc.audit({ to: audit.at(-1)!.at })).entries).toEqual([]);
    // Everything the console records is in the quarantine bucket: ledger, jobs and audit.
    const { s3 } = awsClients(rt.config);
    const ledger = await listAll(s3, rt.config.buckets.quarantine, 'ledger/');
    expect(ledger.length).toBeGreaterThan(0);
    const first = await s3.send(new GetObjectCommand({ Bucket: rt.config.buckets.quarantine, Key: ledger[0]!.Key! }));
    expect(
      JSON.parse(
        gunzipSync(Buffer.from(await first.Body!.transformToByteArray()))
          .toString()
          .split('\n')[0]!,
      ),
    ).toHaveProperty('outcome');
    const jobFiles = (await listAll(s3, rt.config.buckets.quarantine, 'jobs/')).map((o) => o.Key!);
    expect(jobFiles.filter((k) => k.endsWith('.request.json')).length).toBe(5);
    expect((await svc.jobs()).length).toBe(5);

    // The ledger is a table too: re-drive outcomes in SQL.
    const sql = queryService(rt.config);
    try {
      const res = await sql.run({
        sql: `SELECT outcome, count(*) AS n, count(DISTINCT "by") AS who FROM redrives WHERE dt >= '2000-01-01' GROUP BY outcome ORDER BY outcome`,
      });
      expect(res.rows.map((r) => r.map(String))).toEqual([
        ['accepted', '5', '1'],
        ['discarded', '1', '1'],
        ['failed', String(7 + cancelledProcessed), '1'],
        ['skipped', '5', '1'],
      ]);
      // The saved query over the same ledger: one row per job, oldest first (jobs: one, gender, broken, twice, cancelled;
      // the two discards are jobs too).
      const perJob = await sql.run(
        savedRequest(savedQuery('redrive_outcomes'), { period: `${today}..${today}` }, 'duckdb'),
      );
      expect(perJob.columns.map((c) => c.name)).toEqual([
        'job',
        'run_by',
        'started',
        'accepted',
        'failed_again',
        'skipped',
        'discarded',
      ]);
      expect(perJob.rows.map((r) => [r[1], ...r.slice(3).map(Number)])).toEqual([
        ['alice', 0, 0, 0, 1],
        ['alice', 0, 0, 1, 0],
        ['alice', 1, 0, 0, 0],
        ['alice', 0, 7, 0, 0],
        ['alice', 4, 0, 0, 0],
        ['alice', 0, 0, 4, 0],
        ['alice', 0, cancelledProcessed, 0, 0],
      ]);
    } finally {
      await sql.deps.engine.close();
    }
  });
});

describe('re-drive jobs run by another process (the AWS worker)', () => {
  let rt: DevRuntime;
  let dir: string;

  beforeAll(async () => {
    dir = tempDir('quarantine-worker');
    rt = await startTestRuntime(dir);
    const res = await post(
      rt,
      'transactions',
      JSON.stringify(Array.from({ length: 6 }, (_, i) => tx(300 + i, { cc_num: 'x' }))),
    );
    expect(res.json).toMatchObject({ rejected: 6 });
  }, 180_000);

  afterAll(async () => {
    await rt?.stop();
    removeDir(dir);
  });

  it('dispatches a job, resumes it across deadlines in a fresh process and honours a cancel from the console', async () => {
    const dispatched: string[] = [];
    const console_ = new QuarantineService(quarantineService(rt.config).deps, {
      dispatch: async (id) => void dispatched.push(id),
    });
    const open = await waitFor(
      () => console_.list({}),
      (p) => p.total === 6,
    );
    const qids = open.items.map((e) => e.qid);
    const fix = (qid: string) => ({ event: JSON.stringify(tx(300 + open.items.findIndex((e) => e.qid === qid))) });
    const job = await console_.startRedrive(
      { qids: qids.slice(0, 4), fixes: Object.fromEntries(qids.slice(0, 4).map((q) => [q, fix(q)])), rate: 2 },
      OPERATOR,
    );
    expect(dispatched).toEqual([job.id]);
    expect((await console_.job(job.id)).state).toMatchObject({ status: 'running', processed: 0 });

    // The worker: another service over the same bucket, with a time limit per invocation.
    const worker = quarantineService(rt.config);
    // A deadline already passed still moves the job on by one chunk (one record at 2/s), so no invocation is wasted.
    const first = await worker.resume(job.id, Date.now());
    expect(first.more).toBe(true);
    expect(first.state.processed).toBe(1);
    const second = await quarantineService(rt.config).resume(job.id);
    expect(second).toMatchObject({ more: false, state: { status: 'succeeded', processed: 4, accepted: 4 } });
    // The console sees the worker's ledger once its index re-lists the bucket (at most 2 s stale).
    const seen = await waitFor(
      () => console_.job(job.id),
      (j) => j.outcomeTotal === 4,
      10_000,
    );
    expect(seen.outcomes.map((o) => o.outcome)).toEqual(['accepted', 'accepted', 'accepted', 'accepted']);
    // Resuming a finished job does nothing.
    expect((await worker.resume(job.id)).more).toBe(false);

    const slow = await console_.startRedrive({ qids: qids.slice(4), rate: 1 }, OPERATOR);
    const running = quarantineService(rt.config).resume(slow.id);
    await new Promise((r) => setTimeout(r, 300));
    expect((await console_.cancel(slow.id, OPERATOR)).status).toBe('running');
    const stopped = await running;
    expect(stopped).toMatchObject({ more: false, state: { status: 'cancelled' } });
    expect(stopped.state.processed).toBeLessThan(2);
    const lake = await waitFor(
      () => readLake(rt.config),
      (l) => l.rows.length >= 4,
    );
    expect(lake.rows.map((r) => (r as Envelope).id).sort()).toEqual(
      [300, 301, 302, 303].map((i) => tx(i).trans_num).sort(),
    );
  }, 120_000);
});
