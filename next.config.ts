import type { NextConfig } from 'next';

const config: NextConfig = {
  // The console runs server code from lib/ (AWS SDK clients); keep Node-only packages out of the bundle.
  serverExternalPackages: ['kinesalite', 's3rver', 'leveldown', '@duckdb/node-api'],
  // lib/registry, lib/imports/tables.ts and lib/query/saved.ts read schemas/, tables/ and queries/ from disk at run
  // time, by paths the file tracer cannot follow: without this the deployed server (OpenNext's standalone output)
  // ships only the files the tracer happened to see (the .json of queries/, none of their .sql). Every server route
  // may load any of them (the catalog has the imported tables; uploads check the table's definition).
  outputFileTracingIncludes: { '/**': ['./schemas/**/*', './tables/**/*', './queries/**/*'] },
  typescript: { tsconfigPath: 'tsconfig.json' },
  poweredByHeader: false,
  // No Next.js badge over the console's content, under `next dev` (`--console-dev`) too.
  devIndicators: false,
};

export default config;
