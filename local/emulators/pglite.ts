import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { runChild } from './child.ts';
import { keepBatchesTogether } from './pglite-queue.ts';

const [host = '127.0.0.1', portArg = '4570', dir = '.data/pglite', maxConnections = '8'] = process.argv.slice(2);

runChild('pglite', async () => {
  mkdirSync(dir, { recursive: true });
  // PGlite is one Postgres backend in WebAssembly; the socket server queues the clients' queries onto it, holding
  // the others while one is inside a transaction or an extended-protocol batch (pglite-queue.ts), so several pg
  // clients see ordinary connection and transaction semantics.
  const db = await PGlite.create(dir);
  const server = new PGLiteSocketServer({ db, host, port: Number(portArg), maxConnections: Number(maxConnections) });
  keepBatchesTogether(server);
  await server.start();
  const port = Number(server.getServerConn().split(':').pop());
  return {
    port,
    close: async () => {
      await server.stop();
      // Closing flushes the data directory; a kill -9 instead is what the restart test recovers from.
      await db.close();
    },
  };
});
