/**
 * What tests/infra/setup.ts (vitest globalSetup) prepared once per `npm run test:infra`, for every test file: the
 * stages it deployed (`deployed('ci')`, `deployed('production')`) and the real console build (`consoleBuild()`).
 */
import { inject } from 'vitest';
import type { ConsoleBuild } from './console-build.ts';
import { Infra } from './harness.ts';
import type { DeployedStages, StageName } from './setup.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    infraStages: DeployedStages;
    /** null when skipped (TRIBUTARY_INFRA_CONSOLE_BUILD=skip). */
    consoleBuild: ConsoleBuild | null;
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

/** The console build of the `ci` deploy; throws (failing the test that asks) when it was skipped. */
export function consoleBuild(): ConsoleBuild {
  const build = inject('consoleBuild');
  if (!build)
    throw new Error(
      'The console build was skipped (TRIBUTARY_INFRA_CONSOLE_BUILD=skip); run npm run test:infra without it.',
    );
  return build;
}
