/**
 * Hostile requests against the real local runtime (`startDev` on free loopback ports): the issue-13 fuzz run of at
 * least 10,000 requests, made from a seed by the generator the integration suite uses (tests/integration/hostile.ts,
 * where the cases are listed). Not a speed target: it passes when nothing is wrong (no 5xx, every emulator alive, each
 * answer what its request deserves, lake and quarantine holding exactly what was acknowledged).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDev, type DevRuntime } from '../local/dev.ts';
import { runHostileRequests, type HostileReport } from '../tests/integration/hostile.ts';
import { envInt, progress, QUICK } from './util.ts';

export async function runHostileBench(): Promise<HostileReport> {
  const requests = envInt('BENCH_HOSTILE_REQUESTS', QUICK ? 1_000 : 10_000);
  const seed = envInt('BENCH_HOSTILE_SEED', 1313);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tributary-bench-hostile-'));
  let rt: DevRuntime | undefined;
  try {
    progress(`hostile: starting the local runtime in ${dataDir}`);
    rt = await startDev({
      dataDir,
      ports: { api: 0, kinesis: 0, s3: 0 },
      console: false,
      oltp: false,
      consumers: false,
      pollIntervalMs: 100,
    });
    progress(`hostile: sending ${requests} requests (seed ${seed})`);
    const report = await runHostileRequests(rt, { seed, requests, lakeTimeoutMs: 900_000 });
    progress(`hostile: done, ${report.problems.length} problems`);
    return report;
  } finally {
    await rt?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
