import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { runChild } from './child.ts';
import './s3-atomic.ts';

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
// s3rver is CommonJS without types; it needs --openssl-legacy-provider (its ListObjectsV2 tokens use DES).
const S3rver = createRequire(import.meta.url)('s3rver') as new (opts: Record<string, unknown>) => S3rverInstance;

const [host = '127.0.0.1', portArg = '4569', dir = '.data/s3', buckets = ''] = process.argv.slice(2);

runChild('s3rver', async () => {
  mkdirSync(dir, { recursive: true });
  const server = new S3rver({
    address: host,
    port: Number(portArg),
    directory: dir,
    silent: true,
    configureBuckets: buckets
      .split(',')
      .filter(Boolean)
      .map((name) => ({ name })),
  });
  const { port } = await server.run();
  return { port, close: () => server.close() };
});
