import { PutRecordCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsClients } from '../../lib/aws/clients.ts';
import { listShards, readShard, type BrowsedRecord } from '../../lib/stream/browse.ts';
import { compareSeq } from '../../lib/stream/records.ts';
import { tailStream, type TailRecord } from '../../lib/stream/tail.ts';
import type { DevRuntime } from '../../local/dev.ts';
import { removeDir, sendTransactions, startTestRuntime, tempDir } from './helpers.ts';

describe('stream browser over kinesalite', () => {
  let rt: DevRuntime;
  let dir: string;
  let ids: string[];
  const all = new Map<string, BrowsedRecord[]>();

  beforeAll(async () => {
    dir = tempDir('browse');
    // Consumers off: records stay on the stream, exactly as sent.
    rt = await startTestRuntime(dir, { consumers: false });
    ids = await sendTransactions(rt, 120, 3);
    const { kinesis } = awsClients(rt.config);
    for (const s of await listShards(kinesis, rt.config.streamName)) {
      all.set(
        s.id,
        await readShard(kinesis, rt.config.streamName, s.id, { from: { timestamp: new Date(0) }, limit: 1000 }),
      );
    }
  }, 60_000);

  afterAll(async () => {
    await rt?.stop();
    removeDir(dir);
  });

  it('lists the shards with hash-key and sequence ranges', async () => {
    const shards = await listShards(awsClients(rt.config).kinesis, rt.config.streamName);
    expect(shards.map((s) => s.id)).toEqual(['shardId-000000000000', 'shardId-000000000001']);
    expect(shards.every((s) => s.open && s.children.length === 0 && !s.parent)).toBe(true);
    expect(shards[0]!.hashKeyRange.start).toBe('0');
    expect(shards[1]!.hashKeyRange.end).toBe('340282366920938463463374607431768211455');
    expect(BigInt(shards[0]!.hashKeyRange.end) + 1n).toBe(BigInt(shards[1]!.hashKeyRange.start));
  });

  it('reads every record from a timestamp, decoded as JSON envelopes, in sequence order', () => {
    const records = [...all.values()].flat();
    expect(records.length).toBe(120);
    expect(records.map((r) => (r.json as { id: string }).id).sort()).toEqual([...ids].sort());
    for (const list of all.values()) {
      expect(list.map((r) => r.sequenceNumber)).toEqual(list.map((r) => r.sequenceNumber).sort(compareSeq));
      expect(
        list.every(
          (r) =>
            r.encoding === 'utf8' &&
            (r.json as { type: string }).type === 'transactions' &&
            r.bytes === Buffer.byteLength(r.text),
        ),
      ).toBe(true);
    }
  });

  it('reads the newest N and from a sequence number', async () => {
    const { kinesis } = awsClients(rt.config);
    const [shardId, list] = [...all].find(([, l]) => l.length >= 10)!;
    const latest = await readShard(kinesis, rt.config.streamName, shardId, { from: { latest: true }, limit: 5 });
    expect(latest.map((r) => r.sequenceNumber)).toEqual(list.slice(-5).map((r) => r.sequenceNumber));
    const fromSeq = await readShard(kinesis, rt.config.streamName, shardId, {
      from: { sequence: list[3]!.sequenceNumber },
      limit: 4,
    });
    expect(fromSeq.map((r) => r.sequenceNumber)).toEqual(list.slice(3, 7).map((r) => r.sequenceNumber));
    // A time after the newest record: nothing to read, answered quickly.
    const t0 = Date.now();
    expect(
      await readShard(kinesis, rt.config.streamName, shardId, { from: { timestamp: new Date() }, limit: 5 }),
    ).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(10_000);
    // More than the shard holds: all of it.
    const everything = await readShard(kinesis, rt.config.streamName, shardId, {
      from: { latest: true },
      limit: 10_000,
    });
    expect(everything.length).toBe(list.length);
  });

  it('shows bytes that are not UTF-8 as base64 and text that is not JSON as text', async () => {
    const { kinesis } = awsClients(rt.config);
    const bin = await kinesis.send(
      new PutRecordCommand({
        StreamName: rt.config.streamName,
        PartitionKey: 'raw',
        Data: Uint8Array.from([0xff, 0xfe, 0x00, 0x41]),
      }),
    );
    const txt = await kinesis.send(
      new PutRecordCommand({ StreamName: rt.config.streamName, PartitionKey: 'raw', Data: Buffer.from('not json {') }),
    );
    const got = await readShard(kinesis, rt.config.streamName, bin.ShardId!, {
      from: { sequence: bin.SequenceNumber! },
      limit: 2,
    });
    expect(got.map((r) => [r.encoding, r.text, r.json, r.partitionKey])).toEqual([
      ['base64', Buffer.from([0xff, 0xfe, 0x00, 0x41]).toString('base64'), undefined, 'raw'],
      ['utf8', 'not json {', undefined, 'raw'],
    ]);
    expect(txt.ShardId).toBe(bin.ShardId);
    await expect(
      readShard(kinesis, rt.config.streamName, bin.ShardId!, { from: { sequence: '12ab' }, limit: 2 }),
    ).rejects.toThrow(/digits only/);
    await expect(
      readShard(kinesis, rt.config.streamName, bin.ShardId!, { from: { timestamp: new Date('nope') }, limit: 2 }),
    ).rejects.toThrow(/not a valid date-time/);
    await expect(
      readShard(kinesis, rt.config.streamName, bin.ShardId!, { from: { latest: true }, limit: 0 }),
    ).rejects.toThrow(/limit must be a whole number from 1 to 10000/);
  });

  it('tails the stream: the first poll marks the tip, each next one returns exactly what arrived since, on every shard', async () => {
    const { kinesis } = awsClients(rt.config);
    const start = await tailStream(kinesis, rt.config.streamName);
    expect(start.records).toEqual([]);
    // Nothing new: nothing returned, whatever arrived before the tail started.
    const idle = await tailStream(kinesis, rt.config.streamName, start.cursor);
    expect(idle.records).toEqual([]);
    const sent = await sendTransactions(rt, 30, 2);
    const seen: TailRecord[] = [];
    let cursor = idle.cursor;
    // Each record arrives once, on its own shard, over as many polls as it takes the emulator to hand them out.
    while (seen.length < sent.length) {
      const page = await tailStream(kinesis, rt.config.streamName, cursor);
      seen.push(...page.records);
      cursor = page.cursor;
      expect(seen.length).toBeLessThanOrEqual(sent.length);
    }
    expect(seen.map((r) => (r.json as { id: string }).id).sort()).toEqual([...sent].sort());
    expect(new Set(seen.map((r) => r.shardId))).toEqual(new Set(['shardId-000000000000', 'shardId-000000000001']));
    expect((await tailStream(kinesis, rt.config.streamName, cursor)).records).toEqual([]);
    await expect(tailStream(kinesis, rt.config.streamName, 'bm90IGEgY3Vyc29y')).rejects.toThrow(
      'The tail cursor is not one this console gave out: start the tail again (send no cursor).',
    );
  });
});
