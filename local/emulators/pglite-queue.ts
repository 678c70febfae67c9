/*
 * PGlite is one Postgres session; pglite-socket (0.2.x) queues the messages of its many client connections onto it.
 * It keeps a connection's messages together only while a transaction is open, but an extended-protocol batch (Parse,
 * Bind, Describe, Execute, then Sync) is not a transaction: two connections' batches interleave, and one's Parse
 * replaces the other's unnamed statement before its Bind ("unnamed prepared statement does not exist", or rows of the
 * wrong query). A failed message also left its queue stopped for good. Both are electric-sql/pglite#1046. A Postgres
 * server keeps each connection's state apart; this queue does the same: once a connection sends a message of a batch,
 * only its messages run until its Sync, and a failure fails that message alone.
 */

/** Frontend messages that begin or continue an extended-protocol batch (PostgreSQL protocol, "Message Formats"). */
const IN_BATCH = new Set(['P', 'B', 'D', 'E', 'C', 'H'].map((c) => c.charCodeAt(0)));
/** Messages after which the backend is ready for any connection again (outside a transaction): Sync, simple Query. */
const ENDS_BATCH = new Set(['S', 'Q'].map((c) => c.charCodeAt(0)));

/** A frontend message: its type byte, then its length (itself included) and body. */
function message(type: string, body: Buffer = Buffer.alloc(0)): Uint8Array {
  const m = Buffer.alloc(5 + body.length);
  m.write(type, 0, 'latin1');
  m.writeInt32BE(4 + body.length, 1);
  body.copy(m, 5);
  return new Uint8Array(m);
}
/**
 * What a server does for a connection that closed in the middle of a batch: ROLLBACK aborts what its statements did
 * (outside a transaction block it aborts the implicit one), and Sync ends the batch (after an error the session skips
 * everything until a Sync, the ROLLBACK too, and the Sync then aborts).
 */
const ABANDON_BATCH = [message('Q', Buffer.from('ROLLBACK\0', 'latin1')), message('S')];

interface QueuedMessage {
  handlerId: number;
  message: Uint8Array;
  resolve(bytes: number): void;
  reject(err: unknown): void;
  onData(data: Uint8Array): void;
}

/** The parts of pglite-socket's QueryQueueManager this replaces (its fields, as 0.2.17 has them). */
interface QueryQueue {
  queue: QueuedMessage[];
  processing: boolean;
  lastHandlerId: number | null;
  db: {
    isInTransaction(): boolean;
    runExclusive<T>(fn: () => Promise<T>): Promise<T>;
    execProtocolRawStream(message: Uint8Array, options: { onRawData(data: Uint8Array): void }): Promise<unknown>;
  };
  processQueue(): Promise<void>;
  clearQueueForHandler(handlerId: number): void;
}

/**
 * Gives a PGLiteSocketServer's queue per-connection batches (see the module comment).
 *
 * @throws Error when the server's queue is not the shape this was written against (a pglite-socket upgrade).
 */
export function keepBatchesTogether(server: object): void {
  const q = (server as { queryQueue?: QueryQueue }).queryQueue;
  if (!q || !Array.isArray(q.queue) || typeof q.processQueue !== 'function' || typeof q.db?.runExclusive !== 'function')
    throw new Error('pglite-socket changed: local/emulators/pglite-queue.ts no longer fits its query queue');
  // The connection whose batch is open (its last message was one of a batch and no Sync followed yet).
  let batchOf: number | null = null;
  const clear = q.clearQueueForHandler.bind(q);
  q.clearQueueForHandler = (handlerId) => {
    clear(handlerId);
    if (batchOf !== handlerId) return;
    batchOf = null;
    void q.db
      .runExclusive(async () => {
        for (const m of ABANDON_BATCH) await q.db.execProtocolRawStream(m, { onRawData: () => {} });
      })
      .catch(() => {})
      // The others' messages waited for this connection's; nothing else may come to run them.
      .then(() => q.processQueue());
  };
  q.processQueue = async function (this: QueryQueue) {
    if (this.processing || this.queue.length === 0) return;
    this.processing = true;
    try {
      while (this.queue.length > 0) {
        const owner = batchOf ?? (this.db.isInTransaction() ? this.lastHandlerId : null);
        const at = owner === null ? 0 : this.queue.findIndex((m) => m.handlerId === owner);
        // The owner's next message is not here yet: it arrives with its own call, which goes on from here.
        if (at === -1) break;
        const item = this.queue.splice(at, 1)[0]!;
        let bytes = 0;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(item.message, {
              onRawData: (data) => {
                bytes += data.length;
                item.onData(data);
              },
            }),
          );
        } catch (err) {
          // That connection gets no answer and is closed by its handler; the others go on.
          if (batchOf === item.handlerId) batchOf = null;
          item.reject(err);
          continue;
        }
        const type = item.message[0] ?? 0;
        if (IN_BATCH.has(type)) batchOf = item.handlerId;
        else if (ENDS_BATCH.has(type)) batchOf = null;
        this.lastHandlerId = item.handlerId;
        item.resolve(bytes);
      }
    } finally {
      this.processing = false;
    }
  };
}
