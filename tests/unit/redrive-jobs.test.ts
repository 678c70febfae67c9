/**
 * Re-drive jobs (lib/quarantine/jobs.ts) on fake timers: the pace they keep, a cancel from another process, and a job
 * whose process died, measured on the job clock instead of waited for.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { QuarantineIndex } from '../../lib/quarantine/quarantine-index.ts';
import { RedriveJobs } from '../../lib/quarantine/jobs.ts';
import type { QuarantineDeps } from '../../lib/quarantine/deps.ts';
import { quarantineRecord } from '../../lib/quarantine/record.ts';
import { writeQuarantine } from '../../lib/quarantine/write.ts';
import { putJson } from '../../lib/aws/s3.ts';
import { defaultRegistry } from '../../lib/registry/registry.ts';
import { hex32, transaction } from '../helpers/factories.ts';
import { memoryAws, type MemoryAws } from '../helpers/memory-aws.ts';

const OPERATOR = { role: 'operator' as const, by: 'oncall' };
const START = new Date('2026-03-01T12:00:00.000Z');
let aws: MemoryAws;

function deps(): QuarantineDeps {
  return {
    registry: defaultRegistry(),
    kinesis: aws.kinesis,
    s3: aws.s3,
    streamName: 'events',
    bucket: 'quarantine',
    index: new QuarantineIndex(aws.s3, 'quarantine'),
    now: () => new Date(),
  };
}

/** `n` quarantined transactions whose payloads are valid now (a schema that was fixed), ready to re-drive. */
async function quarantined(n: number): Promise<string[]> {
  const records = Array.from({ length: n }, (_, i) =>
    quarantineRecord({
      id: hex32(i + 1),
      stage: 'ingest',
      reason: 'schema_violation',
      errors: [{ path: '/amt', keyword: 'type', message: 'was not a number' }],
      type: 'transactions',
      v: 1,
      receivedAt: START.toISOString(),
      quarantinedAt: START.toISOString(),
      payload: JSON.stringify(transaction(i + 1, {}, '2026-03-01')),
      source: 'api',
    }),
  );
  await writeQuarantine(aws.s3, 'quarantine', records, 'ingest', 'seed');
  const index = new QuarantineIndex(aws.s3, 'quarantine');
  await index.refresh();
  return index.list({}, { limit: 500 }).items.map((e) => e.qid);
}

/** Records sent within any one-second window of the job clock, at most. */
function busiestSecond(puts: MemoryAws['puts']): number {
  const times = puts.flatMap((p) => p.data.map(() => p.at));
  return Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 1000).length));
}

beforeEach(() => {
  vi.useFakeTimers({ now: START });
  aws = memoryAws();
});

afterEach(() => {
  vi.useRealTimers();
  aws.restore();
});

describe('re-drive jobs on the job clock', () => {
  it('keeps its rate: 10 records at 2/s go out one every 500 ms, never 3 in one second', async () => {
    const qids = await quarantined(10);
    const jobs = new RedriveJobs(deps(), { defaultRate: 500, maxStaleMs: 0 });
    const started = await jobs.start({ qids, rate: 2 }, OPERATOR);
    const done = jobs.wait(started.id);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await done).toMatchObject({ status: 'succeeded', total: 10, accepted: 10, processed: 10 });
    expect(aws.puts.map((p) => p.data.length)).toEqual(Array(10).fill(1));
    const gaps = aws.puts.slice(1).map((p, i) => p.at - aws.puts[i]!.at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(500);
    expect(busiestSecond(aws.puts)).toBe(2);
    // 10 chunks, 500 ms apart: the first at once, the last 4.5 s later.
    expect(aws.puts.at(-1)!.at - aws.puts[0]!.at).toBe(4_500);
  });

  it('stops within a second of a cancel left by another process, and leaves the rest open', async () => {
    const qids = await quarantined(10);
    const runner = new RedriveJobs(deps(), { defaultRate: 500, maxStaleMs: 0 });
    const started = await runner.start({ qids, rate: 1 }, OPERATOR);
    const done = runner.wait(started.id);
    await vi.advanceTimersByTimeAsync(2_500);
    // The console of another instance: it does not run the job, so it leaves the marker the runner polls.
    const elsewhere = new RedriveJobs(deps(), { defaultRate: 500, maxStaleMs: 0 });
    const cancelAt = Date.now();
    expect((await elsewhere.cancel(started.id, OPERATOR)).status).toBe('running');
    await vi.advanceTimersByTimeAsync(5_000);
    const state = await done;
    expect(state.status).toBe('cancelled');
    expect(aws.puts.filter((p) => p.at > cancelAt + 1_000)).toEqual([]);
    expect(state.accepted).toBe(aws.puts.length);
    expect(state.accepted).toBeLessThan(10);
    const index = new QuarantineIndex(aws.s3, 'quarantine');
    await index.refresh();
    expect(index.counts()).toMatchObject({ open: 10 - state.accepted, redriven: state.accepted });
  });

  it('calls a job interrupted once its process has not updated it for 30 s', async () => {
    const jobs = new RedriveJobs(deps(), { defaultRate: 500, maxStaleMs: 0 });
    const state = {
      id: 'j-dead',
      kind: 'redrive',
      by: 'oncall',
      selection: 'qids',
      status: 'running',
      total: 4,
      processed: 1,
      accepted: 1,
      failed: 0,
      skipped: 0,
      errors: 0,
      rate: 10,
      chunks: 1,
      startedAt: START.toISOString(),
      updatedAt: START.toISOString(),
    };
    await putJson(aws.s3, 'quarantine', 'jobs/j-dead.json', state);
    vi.setSystemTime(START.getTime() + 30_000);
    expect((await jobs.job('j-dead')).state.status).toBe('running');
    vi.setSystemTime(START.getTime() + 30_001);
    expect((await jobs.job('j-dead')).state).toMatchObject({ status: 'interrupted', processed: 1 });
  });
});
