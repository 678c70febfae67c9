/**
 * globalSetup of vitest.infra.config.ts: one offline deploy per stage (in parallel), provided to all test files
 * (tests/infra/deployed.ts), so the stacks run once however many files assert on them.
 */
import type { TestProject } from 'vitest/node';
import { deployStage, type AppConfig } from './harness.ts';
import type { RuntimeResult } from './runtime.ts';

export const STAGES = ['ci', 'production'] as const;
export type StageName = (typeof STAGES)[number];
export type DeployedStages = Record<StageName, { app: AppConfig; result: RuntimeResult }>;

export default async function setup(project: TestProject): Promise<void> {
  const started = Date.now();
  const deploys = await Promise.all(STAGES.map((stage) => deployStage(stage)));
  const stages = Object.fromEntries(deploys.map((infra) => [infra.stage, { app: infra.app, result: infra.result }])) as DeployedStages;
  project.provide('infraStages', stages);
  const counts = deploys.map((infra) => `${infra.stage}: ${infra.resources.length} resources`).join(', ');
  console.log(`[infra] offline deploys in ${((Date.now() - started) / 1000).toFixed(1)} s (${counts})`);
}
