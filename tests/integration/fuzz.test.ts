import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevRuntime } from '../../local/dev.ts';
import { removeDir, startTestRuntime, tempDir } from './helpers.ts';
import { runHostileRequests } from './hostile.ts';

// The suite sends a share of what `npm run bench` sends (10,000, section 8) to stay within minutes on a loaded
// 2-core machine; TRIBUTARY_FUZZ_REQUESTS=10000 runs the full set here, TRIBUTARY_FUZZ_SEED replays a run.
const SEED = Number(process.env.TRIBUTARY_FUZZ_SEED ?? 1313);
const REQUESTS = Number(process.env.TRIBUTARY_FUZZ_REQUESTS ?? 1_000);

describe(`${REQUESTS} hostile requests against tributary dev (seed ${SEED})`, () => {
  let rt: DevRuntime;
  let dir: string;
  beforeAll(async () => {
    dir = tempDir('fuzz');
    rt = await startTestRuntime(dir, { consumers: false });
  });
  afterAll(async () => {
    await rt?.stop();
    removeDir(dir);
  });

  it('answers each with what it deserves, stays up, and keeps exactly what it acknowledged', {
    timeout: 900_000,
  }, async () => {
    const report = await runHostileRequests(rt, { seed: SEED, requests: REQUESTS });
    expect(report.problems).toEqual([]);
    expect([...report.statuses].filter(([s]) => s >= 500)).toEqual([]);
    expect(report.lakeRows).toBe(report.accepted);
    expect(report.quarantined).toBe(report.rejected + report.bodies);
    // The run exercised every side: accepted, rejected and refused bodies all happened.
    expect(Math.min(report.accepted, report.rejected, report.bodies)).toBeGreaterThan(0);
    expect(report.kinds.size).toBeGreaterThan(25);
  });
});
