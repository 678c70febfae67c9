/**
 * OpenNext, which `sst.aws.Nextjs` builds the console with (stacks/console.ts pins its version): by default it runs
 * `npm run build`, which this package does not have; the console's build is `build:console`. The console's server
 * parses every query with DuckDB's parser (lib/query/parser.ts) before Athena runs it, so its function carries
 * DuckDB's native binding for the function's platform (linux-arm64, stacks/console.ts) at the version package-lock.json
 * locks (tests/infra): the build host's binding, which Next's file tracing copies, would not load there.
 */
export default {
  default: {
    // npm 10+ takes the platform as --os/--cpu (OpenNext passes --os and --arch, which npm 11 ignores).
    install: { packages: ['@duckdb/node-api@1.5.6-r.1'], arch: 'arm64' as const, additionalArgs: '--cpu=arm64' },
  },
  buildCommand: 'npm run build:console',
};
