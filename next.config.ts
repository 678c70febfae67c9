import type { NextConfig } from 'next';

const config: NextConfig = {
  // The console runs server code from lib/ (AWS SDK clients); keep Node-only packages out of the bundle.
  serverExternalPackages: ['kinesalite', 's3rver', 'leveldown', '@duckdb/node-api'],
  typescript: { tsconfigPath: 'tsconfig.json' },
  poweredByHeader: false,
};

export default config;
