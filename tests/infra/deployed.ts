/**
 * The stages tests/infra/setup.ts (vitest globalSetup) deployed once per `npm run test:infra`, for every test file:
 * `deployed('ci')`, `deployed('production')`.
 */
import { inject } from 'vitest';
import { Infra } from './harness.ts';
import type { DeployedStages, StageName } from './setup.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    infraStages: DeployedStages;
  }
}

const cache = new Map<StageName, Infra>();

export function deployed(stage: StageName): Infra {
  let infra = cache.get(stage);
  if (!infra) {
    const { app, result } = inject('infraStages')[stage];
    infra = new Infra(app, result);
    cache.set(stage, infra);
  }
  return infra;
}
