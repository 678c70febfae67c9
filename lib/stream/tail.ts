import {
  ExpiredIteratorException,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type KinesisClient,
  type ShardIteratorType,
} from '@aws-sdk/client-kinesis';
import { listAllShards } from '../aws/kinesis.ts';
import { browsedRecord, type BrowsedRecord, StreamBrowseError } from './browse.ts';
import { compareSeq } from './records.ts';

/**
 * The live tail of the stream: what arrived on any shard since the last look. The position is the client's (an
 * opaque cursor holding each shard's next iterator and last sequence number), so any console instance answers the
 * next poll and nothing is kept per viewer on the server. The first poll starts at every open shard's tip; a shard
 * that appears later (a split or merge) is read from its start, so no record of a resharding is skipped; an iterator
 * that expired (a tail paused for over 5 minutes) resumes after the last record seen.
 */

export interface TailRecord extends BrowsedRecord {
  shardId: string;
}

export interface TailPage {
  /** Oldest first within a shard; across shards by arrival time. */
  records: TailRecord[];
  /** Send it back for what comes next. */
  cursor: string;
  /** How far the slowest shard's read is behind its tip (0 when caught up). */
  behindMs: number;
}

interface ShardPosition {
  /** The shard iterator to read next. */
  it?: string;
  /** The last sequence number seen (where to resume when the iterator expired). */
  seq?: string;
}

interface Cursor {
  v: 1;
  shards: Record<string, ShardPosition>;
}

/** Records per shard per poll (a poll is one GetRecords per shard). */
export const TAIL_LIMIT_PER_SHARD = 500;

function readCursor(text: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Cursor;
    if (c?.v === 1 && c.shards && typeof c.shards === 'object') return c;
  } catch {
    // Refused below.
  }
  throw new StreamBrowseError(
    'bad_cursor',
    'The tail cursor is not one this console gave out: start the tail again (send no cursor).',
  );
}

const writeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString('base64url');

async function iterator(
  kinesis: KinesisClient,
  streamName: string,
  shardId: string,
  start: { ShardIteratorType: ShardIteratorType; StartingSequenceNumber?: string },
): Promise<string | undefined> {
  return (await kinesis.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ...start })))
    .ShardIterator;
}

/**
 * One poll of the live tail: every shard's records since the cursor (none on the first poll, which marks the tip).
 *
 * @throws StreamBrowseError 400 for a cursor this console did not give out.
 */
export async function tailStream(
  kinesis: KinesisClient,
  streamName: string,
  cursorText?: string,
  limitPerShard = TAIL_LIMIT_PER_SHARD,
): Promise<TailPage> {
  const first = !cursorText;
  const cursor: Cursor = cursorText ? readCursor(cursorText) : { v: 1, shards: {} };
  const shards = await listAllShards(kinesis, streamName);
  const next: Cursor = { v: 1, shards: {} };
  const records: TailRecord[] = [];
  let behindMs = 0;
  await Promise.all(
    shards.map(async (s) => {
      const id = s.ShardId!;
      const known = cursor.shards[id];
      const open = !s.SequenceNumberRange?.EndingSequenceNumber;
      // A closed shard the tail never read holds nothing new; one it read is followed to its end.
      if (!known && (!open || first)) {
        if (open) next.shards[id] = { it: await iterator(kinesis, streamName, id, { ShardIteratorType: 'LATEST' }) };
        return;
      }
      const pos: ShardPosition = known ?? {};
      let it = pos.it ?? (await iterator(kinesis, streamName, id, { ShardIteratorType: 'TRIM_HORIZON' }));
      let res: GetRecordsCommandOutput;
      try {
        res = await kinesis.send(new GetRecordsCommand({ ShardIterator: it, Limit: limitPerShard }));
      } catch (err) {
        if (!(err instanceof ExpiredIteratorException)) throw err;
        it = await iterator(
          kinesis,
          streamName,
          id,
          pos.seq
            ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: pos.seq }
            : { ShardIteratorType: 'LATEST' },
        );
        res = await kinesis.send(new GetRecordsCommand({ ShardIterator: it, Limit: limitPerShard }));
      }
      const got = (res.Records ?? []).map((r) => ({ ...browsedRecord(r), shardId: id }));
      records.push(...got);
      behindMs = Math.max(behindMs, res.MillisBehindLatest ?? 0);
      const seq = got.at(-1)?.sequenceNumber ?? pos.seq;
      // A closed shard read to its end has no next iterator: it leaves the cursor.
      if (res.NextShardIterator) next.shards[id] = { it: res.NextShardIterator, ...(seq ? { seq } : {}) };
    }),
  );
  records.sort((a, b) =>
    a.arrivedAt === b.arrivedAt
      ? a.shardId === b.shardId
        ? compareSeq(a.sequenceNumber, b.sequenceNumber)
        : a.shardId < b.shardId
          ? -1
          : 1
      : a.arrivedAt < b.arrivedAt
        ? -1
        : 1,
  );
  return { records, cursor: writeCursor(next), behindMs };
}
