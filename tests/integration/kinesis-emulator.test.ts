import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKinesalite } from '../../local/emulators/kinesis-iterators.ts';
import { sleep } from '../../lib/util/time.ts';
import { waitFor } from './helpers.ts';

const require = createRequire(import.meta.url);

/**
 * Holds the next PutRecords' LevelDB write for `holdMs` after kinesalite has given the records their sequence numbers:
 * the window a loaded machine opens by chance, held open on purpose.
 */
function holdNextWrite(holdMs: number): { numbered: Promise<number> } {
  const path = require.resolve('kinesalite/actions/putRecords');
  const putRecords = require(path) as (store: unknown, data: unknown, cb: unknown) => void;
  let numbered!: (at: number) => void;
  const state = { numbered: new Promise<number>((r) => (numbered = r)) };
  require.cache[path]!.exports = (
    store: { getStreamDb(name: string): { batch: (...a: unknown[]) => void } },
    data: { StreamName: string },
    cb: unknown,
  ) => {
    const streamDb = store.getStreamDb(data.StreamName);
    const batch = streamDb.batch;
    streamDb.batch = (...args: unknown[]) => {
      streamDb.batch = batch;
      numbered(Date.now());
      setTimeout(() => batch.apply(streamDb, args), holdMs);
    };
    putRecords(store, data, cb);
  };
  return state;
}

describe('the local Kinesis (kinesalite with its GetRecords override)', () => {
  // Installed before kinesalite loads: its actions are bound when its index module is first required.
  const held = holdNextWrite(2_500);
  let server: Server;
  let kinesis: KinesisClient;

  beforeAll(async () => {
    server = loadKinesalite()({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 10 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    kinesis = new KinesisClient({
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      // Kinesis's client defaults to HTTP/2, which kinesalite does not speak.
      requestHandler: new NodeHttpHandler(),
    });
  });

  afterAll(async () => {
    kinesis?.destroy();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  async function createStream(name: string): Promise<string> {
    await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
    await waitFor(
      () => kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name })),
      (s) => s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE',
      10_000,
      20,
    );
    return (await kinesis.send(new ListShardsCommand({ StreamName: name }))).Shards![0]!.ShardId!;
  }

  const trimHorizon = async (stream: string, shardId: string) =>
    (
      await kinesis.send(
        new GetShardIteratorCommand({ StreamName: stream, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
      )
    ).ShardIterator!;

  it('never moves an empty read past a record whose write is still under way', async () => {
    const shardId = await createStream('pending-write');
    let iterator = await trimHorizon('pending-write', shardId);
    const put = kinesis.send(
      new PutRecordsCommand({
        StreamName: 'pending-write',
        Records: [{ Data: Buffer.from('{"n":1}'), PartitionKey: 'a' }],
      }),
    );
    // The record has its number; the read must come in a later second than that number, while the write is held.
    const numberedAt = await held.numbered;
    await sleep(Math.floor(numberedAt / 1000) * 1000 + 1_050 - Date.now());
    const during = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator }));
    expect(during.Records).toEqual([]);
    iterator = during.NextShardIterator!;
    const stored = (await put).Records![0]!;
    const after = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator }));
    expect(after.Records!.map((r) => [r.SequenceNumber, Buffer.from(r.Data!).toString()])).toEqual([
      [stored.SequenceNumber, '{"n":1}'],
    ]);
  });

  it('still ends a closed shard once it has been read to its end', async () => {
    const parent = await createStream('closed-shard');
    await kinesis.send(
      new PutRecordsCommand({
        StreamName: 'closed-shard',
        Records: [{ Data: Buffer.from('{"n":2}'), PartitionKey: 'b' }],
      }),
    );
    let iterator: string | undefined = await trimHorizon('closed-shard', parent);
    await kinesis.send(
      new SplitShardCommand({
        StreamName: 'closed-shard',
        ShardToSplit: parent,
        NewStartingHashKey: (2n ** 127n).toString(),
      }),
    );
    await waitFor(
      () => kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'closed-shard' })),
      (s) => s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE',
      10_000,
      20,
    );
    const read: string[] = [];
    let reads = 0;
    while (iterator && reads < 10) {
      const res: GetRecordsCommandOutput = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator }));
      read.push(...res.Records!.map((r) => Buffer.from(r.Data!).toString()));
      iterator = res.NextShardIterator;
      reads++;
    }
    expect(read).toEqual(['{"n":2}']);
    expect(iterator).toBeUndefined();
  });
});
