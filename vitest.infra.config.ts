import { defineConfig } from 'vitest/config';

/**
 * `npm run test:infra`: the stacks run offline under Pulumi mocks (tests/infra/harness.ts). Kept out of vitest.config.ts,
 * whose projects only include tests/unit, tests/integration and tests/e2e; this needs `.sst/platform` (`sst install`).
 */
export default defineConfig({
  test: {
    name: 'infra',
    include: ['tests/infra/**/*.test.ts'],
    // Deploys the `ci` and `production` stages once (tests/infra/deployed.ts hands them to the test files).
    globalSetup: ['tests/infra/setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    // Each offline deploy is a child process (bundle + @pulumi/aws + the stacks); a loaded 2-core machine needs room.
    testTimeout: 150_000,
    hookTimeout: 200_000,
    reporters: ['default'],
  },
});
