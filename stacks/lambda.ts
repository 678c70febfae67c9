/**
 * What every Tributary Lambda shares: runtime, architecture, the schemas it loads at start-up and the environment that
 * lib/config.ts reads in `aws` mode (it fails fast when one of the required variables is missing).
 */
import { athenaResults, imports, lake, quarantine } from './storage.ts';

/** Node 22 on Graviton. */
export const lambdaDefaults = {
  runtime: 'nodejs22.x',
  architecture: 'arm64',
  // lib/registry reads schemas/<type>/*.json from disk, lib/imports/tables.ts the table definitions tables/*.json:
  // ship both next to the bundle and point the readers at them (`to` is relative to the function root, which Lambda
  // mounts at LAMBDA_TASK_ROOT=/var/task).
  copyFiles: [
    { from: 'schemas', to: 'schemas' },
    { from: 'tables', to: 'tables' },
  ],
  // lib/composition.ts reaches the DuckDB engine (local mode's query engine, loaded on first use, never in AWS), whose
  // native bindings esbuild cannot bundle: left out, the build succeeds and nothing in AWS mode ever loads it. The
  // compactor, which does use DuckDB, replaces this with `nodejs.install` (installed for its platform).
  nodejs: { esbuild: { external: ['@duckdb/node-api'] } },
} satisfies Partial<sst.aws.FunctionArgs>;

/**
 * Environment of a Tributary function. loadConfig() in aws mode requires TRIBUTARY_STREAM_NAME, TRIBUTARY_LAKE_BUCKET
 * and TRIBUTARY_QUARANTINE_BUCKET in every function (the ingest API included), so all of them get the names; which
 * resources a function may actually touch is decided by its `permissions` (stacks/access.ts).
 */
export function tributaryEnvironment(streamName: $util.Input<string>): Record<string, $util.Input<string>> {
  return {
    TRIBUTARY_MODE: 'aws',
    TRIBUTARY_STREAM_NAME: streamName,
    TRIBUTARY_LAKE_BUCKET: lake.name,
    TRIBUTARY_QUARANTINE_BUCKET: quarantine.name,
    TRIBUTARY_ATHENA_RESULTS_BUCKET: athenaResults.name,
    TRIBUTARY_IMPORTS_BUCKET: imports.name,
    // Deployed: the copy made by `copyFiles`. Under `sst dev` the function runs on this machine, where /var/task does
    // not exist, so the registry keeps its own default (schemas/ resolved from the module URL).
    ...($dev ? {} : { TRIBUTARY_SCHEMAS_DIR: '/var/task/schemas', TRIBUTARY_TABLES_DIR: '/var/task/tables' }),
  };
}
