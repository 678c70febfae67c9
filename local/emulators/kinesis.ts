import { mkdirSync } from 'node:fs';
import { runChild } from './child.ts';
import { loadKinesalite } from './kinesis-iterators.ts';

const kinesalite = loadKinesalite();

const [host = '127.0.0.1', portArg = '4567', dir] = process.argv.slice(2);

runChild('kinesalite', async () => {
  if (dir) mkdirSync(dir, { recursive: true });
  // Streams become ACTIVE at once: a laptop has no reason to wait like the real service does.
  const server = kinesalite({
    ...(dir ? { path: dir } : {}),
    createStreamMs: 0,
    deleteStreamMs: 0,
    updateStreamMs: 0,
    shardLimit: 100,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(portArg), host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : Number(portArg),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
});
