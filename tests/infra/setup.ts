/**
 * globalSetup of vitest.infra.config.ts: one offline deploy per stage (in parallel), provided to all test files
 * (tests/infra/deployed.ts), so the stacks run once however many files assert on them; then the console built for real
 * with the command the `ci` deploy records (tests/infra/console-build.ts), for console-build.test.ts.
 */
import type { TestProject } from 'vitest/node';
import { buildConsole, SKIP_CONSOLE_BUILD, type ConsoleBuild } from './console-build.ts';
import { deployStage, type AppConfig } from './harness.ts';
import type { RuntimeResult } from './runtime.ts';

export const STAGES = ['ci', 'production'] as const;
export type StageName = (typeof STAGES)[number];
export type DeployedStages = Record<StageName, { app: AppConfig; result: RuntimeResult }>;

export default async function setup(project: TestProject): Promise<void> {
  const started = Date.now();
  // No test timeout applies here: a loaded machine gets more than the harness's default 100 s per deploy.
  const deploys = await Promise.all(STAGES.map((stage) => deployStage(stage, { timeoutMs: 300_000 })));
  const stages = Object.fromEntries(
    deploys.map((infra) => [infra.stage, { app: infra.app, result: infra.result }]),
  ) as DeployedStages;
  project.provide('infraStages', stages);
  const counts = deploys.map((infra) => `${infra.stage}: ${infra.resources.length} resources`).join(', ');
  console.log(`[infra] offline deploys in ${((Date.now() - started) / 1000).toFixed(1)} s (${counts})`);
  let build: ConsoleBuild | null = null;
  if (!SKIP_CONSOLE_BUILD) {
    build = await buildConsole(stages.ci.result.resources);
    console.log(
      `[infra] console build (${build.command}) exited ${build.code} in ${(build.ms / 1000).toFixed(1)} s; log: ${build.logFile}`,
    );
  }
  project.provide('consoleBuild', build);
}
