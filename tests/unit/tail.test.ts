import {
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { tailStream } from '../../lib/stream/tail.ts';

const kinesisMock = mockClient(KinesisClient);
const kinesis = new KinesisClient({ region: 'us-east-1' });
const record = (seq: string, id: string) => ({
  SequenceNumber: seq,
  PartitionKey: id,
  ApproximateArrivalTimestamp: new Date(`2026-12-02T08:00:0${seq.at(-1)}.000Z`),
  Data: Buffer.from(JSON.stringify({ id, type: 'transactions' })),
});
const shard = (id: string, closed = false, parent?: string) => ({
  ShardId: id,
  ...(parent ? { ParentShardId: parent } : {}),
  HashKeyRange: { StartingHashKey: '0', EndingHashKey: '1' },
  SequenceNumberRange: { StartingSequenceNumber: '1', ...(closed ? { EndingSequenceNumber: '9' } : {}) },
});

describe('the live tail over the Kinesis contract', () => {
  afterEach(() => kinesisMock.reset());

  it('resumes after the last record seen when its iterator expired, and reads a child shard from its start', async () => {
    kinesisMock.on(ListShardsCommand).resolves({ Shards: [shard('s0')] });
    kinesisMock
      .on(GetShardIteratorCommand, { ShardId: 's0', ShardIteratorType: 'LATEST' })
      .resolves({ ShardIterator: 'it-latest' });
    const start = await tailStream(kinesis, 'events');
    kinesisMock.on(GetRecordsCommand, { ShardIterator: 'it-latest' }).resolves({
      Records: [record('11', 'a')],
      NextShardIterator: 'it-2',
      MillisBehindLatest: 0,
    });
    const one = await tailStream(kinesis, 'events', start.cursor);
    expect(one.records.map((r) => [r.shardId, r.sequenceNumber, (r.json as { id: string }).id])).toEqual([
      ['s0', '11', 'a'],
    ]);

    // Paused past the iterator's 5 minutes: the poll resumes after sequence 11. Meanwhile s0 was split into s1.
    kinesisMock.on(ListShardsCommand).resolves({ Shards: [shard('s0', true), shard('s1', false, 's0')] });
    kinesisMock
      .on(GetRecordsCommand, { ShardIterator: 'it-2' })
      .rejects(new ExpiredIteratorException({ message: 'expired', $metadata: {} }));
    kinesisMock
      .on(GetShardIteratorCommand, {
        ShardId: 's0',
        ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
        StartingSequenceNumber: '11',
      })
      .resolves({ ShardIterator: 'it-after-11' });
    kinesisMock.on(GetRecordsCommand, { ShardIterator: 'it-after-11' }).resolves({ Records: [record('12', 'b')] });
    kinesisMock
      .on(GetShardIteratorCommand, { ShardId: 's1', ShardIteratorType: 'TRIM_HORIZON' })
      .resolves({ ShardIterator: 'it-s1' });
    kinesisMock.on(GetRecordsCommand, { ShardIterator: 'it-s1' }).resolves({
      Records: [record('21', 'c')],
      NextShardIterator: 'it-s1-2',
      MillisBehindLatest: 1_500,
    });
    const two = await tailStream(kinesis, 'events', one.cursor);
    // By arrival across shards: c (sequence 21, at :01) before b (sequence 12, at :02).
    expect(two.records.map((r) => [r.shardId, (r.json as { id: string }).id, r.arrivedAt.slice(17, 19)])).toEqual([
      ['s1', 'c', '01'],
      ['s0', 'b', '02'],
    ]);
    expect(two.behindMs).toBe(1_500);
    // The parent, read to its end (no next iterator), leaves the cursor; the child stays.
    const cursor = JSON.parse(Buffer.from(two.cursor, 'base64url').toString()) as { shards: Record<string, unknown> };
    expect(cursor.shards).toEqual({ s1: { it: 'it-s1-2', seq: '21' } });
  });
});
