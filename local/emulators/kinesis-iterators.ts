import { createDecipheriv, createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import { fastNumbers, type KinesaliteNumbers } from './kinesis-numbers.ts';

/**
 * kinesalite loses a record that Kinesis never would. PutRecords gives each record its sequence number (a per-stream
 * counter, then the arrival second) before it writes the record to LevelDB, and answers once the write is done. A
 * GetRecords that finds nothing hands back a next iterator at the same counter but at *its own* current second. When
 * that read runs while a write is still pending and a second has passed since the record's number was given, the
 * record sorts before the new iterator and no reader of that iterator ever sees it. The counter only matches for the
 * first record of a stream read from TRIM_HORIZON (or the first after LATEST), so the loss is exactly one record, and
 * only on a loaded machine: the pipeline tests saw 299 of 300 and 399 of 400 rows.
 *
 * Kinesis itself never skips a record a reader has not seen, so the override below keeps an empty read's next iterator
 * where the read started on an open shard (nothing was read, so nothing is to be skipped). A closed shard keeps
 * kinesalite's answer: nothing can be written to it any more, and its advancing iterator is how the reader learns it
 * has reached the end.
 */

type Callback = (
  err: unknown,
  res?: { Records: unknown[]; NextShardIterator?: string; MillisBehindLatest?: number },
) => void;
type Action = (store: Store, data: { ShardIterator: string }, cb: Callback) => void;
interface Store {
  getStream(
    name: string,
    cb: (err: unknown, stream?: { Shards: { SequenceNumberRange: { EndingSequenceNumber?: string } }[] }) => void,
  ): void;
}
interface KinesaliteDb extends KinesaliteNumbers {
  ITERATOR_PWD_KEY: Buffer;
  ITERATOR_PWD_IV: Buffer;
  createShardIterator(streamName: string, shardId: string, seq: string): string;
}

export type Kinesalite = (opts: Record<string, unknown>) => Server;

const require = createRequire(import.meta.url);

/** The iterator's stream, shard and starting sequence number (kinesalite encrypts them into the iterator). */
function iteratorPosition(db: KinesaliteDb, iterator: string): { stream: string; shardId: string; seq: string } {
  const decipher = createDecipheriv('aes-256-cbc', db.ITERATOR_PWD_KEY, db.ITERATOR_PWD_IV);
  const buffer = Buffer.from(iterator, 'base64');
  const [, stream, shardId, seq] = Buffer.concat([decipher.update(buffer.subarray(8)), decipher.final()])
    .toString('utf8')
    .split('/');
  return { stream: stream!, shardId: shardId!, seq: seq! };
}

/**
 * kinesalite with empty reads that never move past a record still being written, and its sequence arithmetic on
 * BigInt (./kinesis-numbers.ts). Must run before anything else in the process loads kinesalite (its actions are bound
 * when its index module loads).
 */
export function loadKinesalite(): Kinesalite {
  const indexPath = require.resolve('kinesalite');
  if (require.cache[indexPath]) throw new Error('kinesalite was loaded before its GetRecords override was installed.');
  const actionPath = require.resolve('kinesalite/actions/getRecords');
  const getRecords = require(actionPath) as Action;
  const db = require('kinesalite/db') as KinesaliteDb;
  // The actions call these through the module's exports at run time, so replacing the exports is enough.
  Object.assign(
    db,
    fastNumbers(
      {
        parseSequence: db.parseSequence,
        stringifySequence: db.stringifySequence,
        partitionKeyToHashKey: db.partitionKeyToHashKey,
      },
      (s) => createHash('md5').update(s, 'utf8').digest('hex'),
    ),
  );
  const consistent: Action = (store, data, cb) =>
    getRecords(store, data, (err, res) => {
      if (err || !res || res.Records.length || !res.NextShardIterator) return cb(err, res);
      // The original already validated the iterator, so it decodes.
      const at = iteratorPosition(db, data.ShardIterator);
      store.getStream(at.stream, (streamErr, stream) => {
        const shard = stream?.Shards[Number.parseInt(at.shardId.split('-')[1]!, 10)];
        if (streamErr || !shard || shard.SequenceNumberRange.EndingSequenceNumber) return cb(null, res);
        cb(null, { ...res, NextShardIterator: db.createShardIterator(at.stream, at.shardId, at.seq) });
      });
    });
  require.cache[actionPath]!.exports = consistent;
  return require(indexPath) as Kinesalite;
}
