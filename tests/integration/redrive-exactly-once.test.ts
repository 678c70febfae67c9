/**
 * Re-drive exactly once (issue 13 item 4a): a record is claimed with an S3 conditional write before it goes back on
 * the stream. Against the real emulators (s3rver patched for conditional writes, kinesalite, the lake writer):
 * two jobs in two service instances over the same 1,000 records, a worker SIGKILLed between claim and put and
 * resumed, and a worker SIGKILLed after put whose records another job takes over.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hex32 as hex, transaction } from '../helpers/factories.ts';
import { awsClients } from '../../lib/aws/clients.ts';
import type { Envelope } from '../../lib/envelope.ts';
import { RedriveJobFailedError } from '../../lib/quarantine/errors.ts';
import { redriveSource } from '../../lib/quarantine/redrive-prepare.ts';
import { QuarantineService, type JobState } from '../../lib/quarantine/service.ts';
import { QuarantineIndex, type LedgerEntry } from '../../lib/quarantine/quarantine-index.ts';
import { quarantineService, redriveWorkerStep } from '../../lib/composition.ts';
import { compareSeq } from '../../lib/stream/records.ts';
import type { DevRuntime } from '../../local/dev.ts';
import { readLake, removeDir, startTestRuntime, tempDir, waitFor } from './helpers.ts';

const OPERATOR = { by: 'alice', role: 'operator' as const };
const today = new Date().toISOString().slice(0, 10);
const WORKER = path.join(import.meta.dirname, 'fixtures', 'redrive-worker.ts');

const tx = (i: number) => transaction(i);

describe('re-drive: every record on the stream exactly once', () => {
  let rt: DevRuntime;
  let dir: string;

  /** Puts envelopes without "v" on the stream (a producer writing directly): the lake writer quarantines them. */
  async function quarantineBroken(from: number, count: number): Promise<string[]> {
    const { kinesis } = awsClients(rt.config);
    for (let i = 0; i < count; i += 500) {
      const envs = Array.from({ length: Math.min(500, count - i) }, (_, j) => ({
        id: hex(from + i + j),
        type: 'transactions',
        received_at: `${today}T09:00:00.000Z`,
        event_time: `${today}T10:00:00.000Z`,
        source: 'producer',
        data: tx(from + i + j),
      }));
      const res = await kinesis.send(
        new PutRecordsCommand({
          StreamName: rt.config.streamName,
          Records: envs.map((e) => ({ Data: Buffer.from(JSON.stringify(e)), PartitionKey: e.id })),
        }),
      );
      expect(res.FailedRecordCount).toBe(0);
    }
    const ids = new Set(Array.from({ length: count }, (_, i) => hex(from + i)));
    const svc = quarantineService(rt.config);
    const all = await waitFor(
      async () => {
        const out: string[] = [];
        for (let offset = 0; ; offset += 500) {
          const page = await svc.list({ stage: 'lake-writer' }, { offset, limit: 500 });
          out.push(...page.items.filter((e) => ids.has(redriveSource(e.record).id)).map((e) => e.qid));
          if (offset + 500 >= page.total) break;
        }
        return out;
      },
      (q) => q.length === count,
    );
    expect(all.length).toBe(count);
    return all;
  }

  /** Every accepted ledger line of these jobs, read by an index of its own (what any process sees). */
  async function ledger(jobs: string[]): Promise<LedgerEntry[]> {
    const ix = new QuarantineIndex(awsClients(rt.config).s3, rt.config.buckets.quarantine);
    await ix.refresh();
    return jobs.flatMap((j) => ix.outcomesOf(j));
  }

  /** The lake's re-driven rows for these ids, once the lake writer has read past every record the jobs put. */
  async function lakeRows(lines: LedgerEntry[], ids: Set<string>): Promise<Envelope[]> {
    const last = new Map<string, string>();
    for (const l of lines)
      if (
        l.outcome === 'accepted' &&
        (!last.has(l.shard_id!) || compareSeq(l.sequence_number!, last.get(l.shard_id!)!) > 0)
      )
        last.set(l.shard_id!, l.sequence_number!);
    await waitFor(
      async () => rt.poller.stats(),
      (stats) =>
        [...last].every(([shard, seq]) =>
          stats.some((s) => s.shardId === shard && s.checkpoint !== undefined && compareSeq(s.checkpoint, seq) >= 0),
        ),
    );
    return (await readLake(rt.config)).rows.filter((r) => r.source === 'redrive' && ids.has(r.id));
  }

  function runWorker(
    job: string,
    hang: 'before-put' | 'after-put',
    at: number,
  ): { marker: string; kill: () => Promise<void> } {
    const marker = path.join(dir, `marker-${job}`);
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(rt.config), job], {
      env: { ...process.env, HANG: hang, HANG_AT: String(at), MARKER: marker },
      stdio: 'inherit',
    });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    return {
      marker,
      kill: async () => {
        child.kill('SIGKILL');
        await exited;
      },
    };
  }

  /**
   * 200 quarantined records in a job the console hands to a worker process (100/s: chunks of 25), SIGKILLed at its
   * third PutRecords, before sending it or once Kinesis has stored it.
   */
  async function killedMidJob(
    from: number,
    hang: 'before-put' | 'after-put',
  ): Promise<{ qids: string[]; job: JobState }> {
    const qids = await quarantineBroken(from, 200);
    const console_ = new QuarantineService(quarantineService(rt.config).deps, { dispatch: async () => {} });
    const job = await console_.startRedrive({ qids, rate: 100 }, OPERATOR);
    const worker = runWorker(job.id, hang, 3);
    await waitFor(
      async () => existsSync(worker.marker),
      (x) => x,
      60_000,
      50,
    );
    await worker.kill();
    return { qids, job };
  }

  beforeAll(async () => {
    dir = tempDir('redrive-once');
    rt = await startTestRuntime(dir);
  }, 180_000);

  afterAll(async () => {
    await rt?.stop();
    removeDir(dir);
  });

  it('two jobs in two service instances started 0.3 s apart put each of 1,000 records on the stream once', async () => {
    const qids = await quarantineBroken(1, 1000);
    const a = quarantineService(rt.config);
    const b = quarantineService(rt.config);
    const j1 = await a.startRedrive({ qids, rate: 1000 }, OPERATOR);
    await new Promise((r) => setTimeout(r, 300));
    // The other way round, so the two meet in the middle instead of one trailing the other.
    const j2 = await b.startRedrive({ qids: [...qids].reverse(), rate: 1000 }, OPERATOR);
    const [s1, s2] = await Promise.all([a.wait(j1.id), b.wait(j2.id)]);
    expect([s1.status, s2.status]).toEqual(['succeeded', 'succeeded']);
    expect(s1.accepted + s2.accepted).toBe(1000);
    expect(s1.skipped + s2.skipped).toBe(1000);
    expect([s1.failed, s2.failed, s1.errors, s2.errors]).toEqual([0, 0, 0, 0]);
    // Both really ran over the same records at the same time: each sent some, and skipped what the other had.
    expect(Math.min(s1.accepted, s2.accepted)).toBeGreaterThan(0);

    const lines = await ledger([j1.id, j2.id]);
    const accepted = lines.filter((l) => l.outcome === 'accepted');
    expect(accepted.length).toBe(1000);
    expect(new Set(accepted.map((l) => l.qid)).size).toBe(1000);
    const rows = await lakeRows(lines, new Set(Array.from({ length: 1000 }, (_, i) => hex(1 + i))));
    expect(rows.length).toBe(1000);
    expect(new Set(rows.map((r) => r.id)).size).toBe(1000);
    expect(new Set(rows.map((r) => r.redrive!.job))).toEqual(new Set([j1.id, j2.id]));
  }, 300_000);

  it('a worker SIGKILLed between claiming and putting loses nothing and sends nothing twice when the job resumes', async () => {
    // The third PutRecords never leaves the worker.
    const { job } = await killedMidJob(5001, 'before-put');
    const before = await ledger([job.id]);
    expect(before.filter((l) => l.outcome === 'accepted').length).toBe(50);

    const { state } = await quarantineService(rt.config).resume(job.id);
    expect(state).toMatchObject({
      status: 'succeeded',
      processed: 200,
      accepted: 200,
      skipped: 0,
      failed: 0,
      errors: 0,
    });
    const lines = await ledger([job.id]);
    expect(lines.map((l) => l.outcome)).toEqual(Array(200).fill('accepted'));
    expect(new Set(lines.map((l) => l.qid)).size).toBe(200);
    const rows = await lakeRows(lines, new Set(Array.from({ length: 200 }, (_, i) => hex(5001 + i))));
    expect(rows.length).toBe(200);
    expect(new Set(rows.map((r) => r.id)).size).toBe(200);
  }, 300_000);

  it('a discard leaves alone the records a running re-drive holds, so no record is both sent and discarded', async () => {
    // The dead job has sent 50 and holds fresh claims on the 25 of its third chunk; 125 it never reached.
    const { qids, job } = await killedMidJob(9001, 'before-put');
    const svc = quarantineService(rt.config);
    const discarded = await svc.discard({ qids, reason: 'superseded by a replay' }, OPERATOR);
    expect(discarded).toMatchObject({ discarded: 125, skipped: 75 });
    const skips = (await ledger([`discard-${discarded.audit}`])).filter((l) => l.outcome === 'skipped');
    expect(skips.filter((l) => l.errors?.[0]?.keyword === 'claimed').length).toBe(25);
    expect(skips.find((l) => l.errors?.[0]?.keyword === 'claimed')!.errors![0]!.message).toContain(
      `being re-driven by job ${job.id}`,
    );

    // The job resumes and sends only what it holds; the discarded records stay discarded.
    const { state } = await quarantineService(rt.config).resume(job.id);
    expect(state).toMatchObject({ status: 'succeeded', processed: 200, accepted: 75, skipped: 125 });
    const lines = await ledger([job.id, `discard-${discarded.audit}`]);
    const sent = new Set(lines.filter((l) => l.outcome === 'accepted').map((l) => l.qid));
    const gone = new Set(lines.filter((l) => l.outcome === 'discarded').map((l) => l.qid));
    expect([sent.size, gone.size]).toEqual([75, 125]);
    expect([...sent].filter((q) => gone.has(q))).toEqual([]);
  }, 300_000);

  it('a worker SIGKILLed after putting: its claims are taken over once stale, and only the chunk in flight goes twice', async () => {
    const { qids, job: dead } = await killedMidJob(7001, 'after-put');

    // Within the takeover time another job leaves the dead job's claimed records alone.
    const takeoverMs = 20_000;
    // The other instance's clock: the dead job's claims stay fresh for the early job, and are past the takeover time
    // for the late one, without waiting that long.
    let skewMs = 0;
    const other = new QuarantineService({
      ...quarantineService(rt.config).deps,
      index: new QuarantineIndex(awsClients(rt.config).s3, rt.config.buckets.quarantine),
      claims: { takeoverMs, leaseMs: 10_000 },
      now: () => new Date(Date.now() + skewMs),
    });
    const early = await other.startRedrive({ qids, rate: 1000 }, OPERATOR);
    const earlyDone: JobState = await other.wait(early.id);
    // 50 accepted and 25 claimed by the dead job; the 125 it never reached go now.
    expect(earlyDone).toMatchObject({ status: 'succeeded', accepted: 125, skipped: 75 });
    const claimedSkips = (await other.job(early.id, { limit: 500 })).outcomes.filter(
      (o) => o.errors?.[0]?.keyword === 'claimed',
    );
    expect(claimedSkips.length).toBe(25);
    expect(claimedSkips[0]!.errors![0]!.message).toContain(`being re-driven by job ${dead.id}`);

    // Once the claims are older than that, the dead job's 25 unconfirmed records are taken over and sent.
    skewMs = takeoverMs + 1_000;
    const late = await other.startRedrive({ qids: claimedSkips.map((o) => o.qid), rate: 1000 }, OPERATOR);
    expect(await other.wait(late.id)).toMatchObject({ status: 'succeeded', accepted: 25, skipped: 0 });

    const lines = await ledger([dead.id, early.id, late.id]);
    const accepted = lines.filter((l) => l.outcome === 'accepted');
    expect(accepted.length).toBe(200);
    expect(new Set(accepted.map((l) => l.qid)).size).toBe(200);
    // The chunk the dead worker had put but not recorded is on the stream twice (Kinesis has no idempotency key),
    // with the same event ids: readers de-duplicate by id. Nothing else is.
    const rows = await lakeRows(lines, new Set(Array.from({ length: 200 }, (_, i) => hex(7001 + i))));
    expect(new Set(rows.map((r) => r.id)).size).toBe(200);
    expect(rows.length).toBe(225);
    const twice = new Set(
      rows
        .filter((r) => r.redrive!.job === dead.id && rows.some((x) => x.id === r.id && x.redrive!.job === late.id))
        .map((r) => r.id),
    );
    expect(twice.size).toBe(25);
  }, 300_000);

  it("a job the stream refuses fails the worker invocation (so the worker's error alarm fires), once: the retry finds it ended", async () => {
    const qids = await quarantineBroken(9001, 10);
    const console_ = new QuarantineService(quarantineService(rt.config).deps, { dispatch: async () => {} });
    const job = await console_.startRedrive({ qids, rate: 100 }, OPERATOR);
    // The worker's stream is gone (deleted, renamed): every record's put fails; they stay open.
    const broken = { ...rt.config, streamName: 'no-such-stream' };
    const thrown = await redriveWorkerStep(job.id, 60_000, 'worker', broken).then(
      () => null,
      (e: unknown) => e,
    );
    expect(thrown).toBeInstanceOf(RedriveJobFailedError);
    expect((thrown as Error).message).toBe(
      `Re-drive job ${job.id} failed: the stream refused 10 of 10 records; they stay in quarantine, open: re-drive them again once the stream takes writes.`,
    );
    // Lambda retries a failed asynchronous invocation: the job has ended, saved, and the retry returns it quietly.
    expect(await redriveWorkerStep(job.id, 60_000, 'worker', broken)).toMatchObject({
      id: job.id,
      status: 'succeeded',
      processed: 10,
      accepted: 0,
      errors: 10,
    });
    // A job that delivered everything does not fail its invocation.
    const ok = await console_.startRedrive({ qids, rate: 100 }, OPERATOR);
    expect(await redriveWorkerStep(ok.id, 60_000, 'worker', rt.config)).toMatchObject({
      status: 'succeeded',
      accepted: 10,
      errors: 0,
    });
  }, 120_000);
});
