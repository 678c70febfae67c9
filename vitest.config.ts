import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The console's imports go through the `@/` alias of tsconfig.json (the routes and components tests import them).
  resolve: { alias: { '@/': new URL('./', import.meta.url).pathname } },
  test: {
    pool: 'forks',
    maxWorkers: 2,
    // Timeouts only catch hangs (every test asserts exact results); a loaded 2-core machine needs room.
    testTimeout: 90_000,
    hookTimeout: 120_000,
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    },
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit+integration',
          include: ['tests/unit/**/*.test.ts', 'tests/integration/**/*.test.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      // The browser tests (next dev + Chromium) run after the rest, not beside it: together they starved the
      // emulators of CPU on a 2-core machine.
      { extends: true, test: { name: 'e2e', include: ['tests/e2e/**/*.test.ts'], sequence: { groupOrder: 1 } } },
    ],
  },
});
