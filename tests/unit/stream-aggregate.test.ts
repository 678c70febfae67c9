import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { opPartitionKey, opRecord } from '../../lib/imports/ops.ts';
import { TableRegistry } from '../../lib/imports/tables.ts';
import { deterministicId } from '../../lib/ids.ts';
import { planBatch } from '../../lib/lake/plan.ts';
import { Masker, WITHHELD } from '../../lib/masking.ts';
import { decodePayload } from '../../lib/quarantine/record.ts';
import { defaultRegistry } from '../../lib/registry/registry.ts';
import {
  AGGREGATE_MAX_BYTES,
  AGGREGATE_MAX_ITEMS,
  type AggregateFormatError,
  aggregate,
  aggregateTexts,
  hashKeyOf,
  isAggregate,
  type HashRange,
} from '../../lib/stream/aggregate.ts';
import { browsedRecord } from '../../lib/stream/browse.ts';
import { maskRecord } from '../../lib/stream/masked.ts';
import type { StreamRecord } from '../../lib/stream/records.ts';

const FILE = { tenant: 'acme', table: 'example', version: 'v1', registeredAt: '2026-01-01T00:00:00.000Z' };
const op = (i: number, extra = '') => {
  const key = JSON.stringify([`K${i}`]);
  const r = opRecord(
    FILE,
    key,
    JSON.stringify({
      tributary_op: 'insert',
      tributary_tenant: 'acme',
      tributary_version: 'v1',
      PK: `K${i}`,
      COL2: `value ${i}${extra}`,
      COL3: null,
      COL4: '',
    }),
  );
  return { partitionKey: r.partitionKey, text: r.text, id: r.id };
};
// Two shards splitting the hash space in half, as a new two-shard stream has it.
const HALF = (1n << 127n) - 1n;
const TWO: HashRange[] = [
  { shardId: 'shardId-000000000000', start: 0n, end: HALF },
  { shardId: 'shardId-000000000001', start: HALF + 1n, end: (1n << 128n) - 1n },
];
const shardOf = (h: bigint) => TWO.find((r) => h >= r.start && h <= r.end)!.shardId;

describe('aggregates of envelopes', () => {
  it('holds every item once, in order, each with the others of its shard, sent by its first item’s key and hash', () => {
    const items = Array.from({ length: 2_500 }, (_, i) => op(i));
    const records = aggregate(items, TWO, 'import.example');
    expect(records.every((r) => isAggregate(r.data))).toBe(true);
    expect(records.flatMap((r) => r.items).sort((a, b) => a - b)).toEqual(items.map((_, i) => i));
    for (const r of records) {
      expect(aggregateTexts(r.data)).toEqual(r.items.map((i) => items[i]!.text));
      expect([...r.items].sort((a, b) => a - b)).toEqual(r.items);
      const shard = shardOf(BigInt(r.explicitHashKey));
      expect(r.items.every((i) => shardOf(hashKeyOf(items[i]!.partitionKey)) === shard)).toBe(true);
      expect([r.partitionKey, r.explicitHashKey]).toEqual([
        items[r.items[0]!]!.partitionKey,
        hashKeyOf(items[r.items[0]!]!.partitionKey).toString(),
      ]);
      // JSON with its type, which is what Lambda's filters can see.
      expect(JSON.parse(r.data.toString('utf8'))).toMatchObject({
        tributary_aggregate: 1,
        type: 'import.example',
        count: r.items.length,
      });
    }
    // 2,500 operations of two shards: at most 1,000 per aggregate, so two or three per shard.
    expect(records.length).toBeGreaterThanOrEqual(4);
    expect(records.length).toBeLessThanOrEqual(6);
    expect(Math.max(...records.map((r) => r.items.length))).toBeLessThanOrEqual(AGGREGATE_MAX_ITEMS);
    // What the stream carries: a fraction of the envelopes' bytes, base64 included.
    const raw = items.reduce((n, it) => n + Buffer.byteLength(it.text), 0);
    const sent = records.reduce((n, r) => n + r.data.length, 0);
    expect(sent).toBeLessThan(raw / 3);
  });

  it('cuts by bytes as well as items, sends an item left alone as itself, and keeps keys without a range together', () => {
    const wide = Array.from({ length: 40 }, (_, i) => op(i, 'x'.repeat(50_000)));
    const byBytes = aggregate(wide, [], 'import.example');
    expect(byBytes.length).toBeGreaterThan(3);
    for (const r of byBytes)
      expect(aggregateTexts(r.data).reduce((n, t) => n + Buffer.byteLength(t) + 1, 0)).toBeLessThanOrEqual(
        AGGREGATE_MAX_BYTES,
      );
    // Without ranges (a reshard under way): one group, in order.
    expect(byBytes.flatMap((r) => r.items)).toEqual(wide.map((_, i) => i));
    // One item is its own envelope: nothing to gain, and a large one might not fit once encoded.
    const huge = op(1, 'y'.repeat(1_000_000));
    const [alone] = aggregate([huge], TWO, 'import.example');
    expect([isAggregate(alone!.data), alone!.data.toString('utf8'), alone!.partitionKey]).toEqual([
      false,
      huge.text,
      huge.partitionKey,
    ]);
    expect(() => aggregate([op(1), { partitionKey: 'k', text: '{"a":\n1}' }], [], 'import.example')).toThrow(
      /one line of JSON/,
    );
    expect(aggregate([], TWO, 'import.example')).toEqual([]);
  });

  it('reads only its own format, and says what is wrong with anything else', () => {
    const [r] = aggregate([op(1), op(2)], [], 'import.example');
    const agg = JSON.parse(r!.data.toString('utf8')) as Record<string, unknown>;
    const as = (o: unknown) => Buffer.from(JSON.stringify(o));
    const problem = (data: Buffer) => {
      try {
        aggregateTexts(data);
        return undefined;
      } catch (err) {
        return [(err as AggregateFormatError).problem, (err as Error).message];
      }
    };
    expect(isAggregate(Buffer.from('{"id":"x"}'))).toBe(false);
    expect(problem(Buffer.from('{"id":"x"}'))?.[0]).toBe('corrupt');
    expect(problem(as({ ...agg, tributary_aggregate: 2 }))).toEqual([
      'unsupported',
      expect.stringMatching(/format 2, which this version cannot read/),
    ]);
    expect(problem(as({ ...agg, gzip: 'bm90IGd6aXA=' }))).toEqual([
      'corrupt',
      expect.stringMatching(/not readable gzip/),
    ]);
    expect(problem(as({ ...agg, count: 3 }))).toEqual([
      'corrupt',
      'The aggregate says it holds 3 envelopes but holds 2.',
    ]);
    expect(problem(Buffer.from('{"tributary_aggregate":1,'))?.[0]).toBe('corrupt');
    expect(aggregateTexts(as({ ...agg, count: 0, gzip: gzipSync('').toString('base64') }))).toEqual([]);
  });
});

describe('the lake writer and aggregates', () => {
  const tables = new TableRegistry(path.join(import.meta.dirname, '../../tables'));
  const record = (data: Buffer, seq: string): StreamRecord => ({
    shardId: 'shardId-000000000000',
    sequenceNumber: seq,
    partitionKey: 'import.example',
    data,
    arrivedAt: Date.UTC(2026, 0, 1),
  });

  it('writes each envelope of an aggregate as its own line and quarantines only the envelopes it cannot place', () => {
    const good = Array.from({ length: 5 }, (_, i) => op(i));
    const bad = { partitionKey: 'k', text: JSON.stringify({ id: 'bad', type: 'import.nowhere', v: 1 }) };
    const [agg] = aggregate([good[0]!, good[1]!, bad, good[2]!], [], 'import.example');
    const [agg2] = aggregate([good[3]!, good[4]!], [], 'import.example');
    const corrupt = Buffer.from('{"tributary_aggregate":1,"type":"import.example","count":2,"gzip":"garbage"}');
    const plan = planBatch(
      [record(agg!.data, '100'), record(corrupt, '200'), record(agg2!.data, '300')],
      defaultRegistry(),
      new Date('2026-01-02T00:00:00Z'),
      tables,
    );
    expect(plan.rows).toBe(5);
    const lake = plan.objects.filter((o) => o.bucket === 'lake');
    expect(lake.map((o) => [o.ids, o.seqs, o.firstSeq, o.lastSeq])).toEqual([
      [good.map((g) => g.id), ['100', '100', '100', '300', '300'], '100', '300'],
    ]);
    expect(gunzipSync(lake[0]!.body).toString('utf8')).toBe(`${good.map((g) => g.text).join('\n')}\n`);
    const q = plan.objects
      .filter((o) => o.bucket === 'quarantine')
      .flatMap((o) =>
        gunzipSync(o.body)
          .toString('utf8')
          .trimEnd()
          .split('\n')
          .map((l) => JSON.parse(l)),
      );
    expect(
      q
        .map((x) => [x.id, x.reason, decodePayload(x).toString('utf8').slice(0, 20)])
        .sort((a, b) => (a[1] < b[1] ? -1 : 1)),
    ).toEqual([
      [deterministicId('shardId-000000000000', '100', '2'), 'invalid_envelope', bad.text.slice(0, 20)],
      [deterministicId('shardId-000000000000', '200'), 'malformed_json', corrupt.toString('utf8').slice(0, 20)],
    ]);
  });

  it('groups one key’s operations on its shard the way Kinesis places its partition key', () => {
    const key = opPartitionKey('acme', 'example', '["K1"]');
    expect(aggregate([op(1)], TWO, 'import.example')[0]!.explicitHashKey).toBe(hashKeyOf(key).toString());
  });
});

describe('the stream browser and aggregates', () => {
  it('shows an operator the envelopes of an aggregate, and a viewer nothing of them', () => {
    const items = Array.from({ length: 12 }, (_, i) => op(i));
    const [agg] = aggregate(items, [], 'import.example');
    const shown = browsedRecord({
      Data: agg!.data,
      PartitionKey: agg!.partitionKey,
      SequenceNumber: '7',
      ApproximateArrivalTimestamp: new Date(0),
    });
    expect(shown).toMatchObject({
      bytes: agg!.data.length,
      encoding: 'utf8',
      aggregated: 12,
      // The first ten: a page of aggregates stays a page.
      text: items
        .slice(0, 10)
        .map((i) => i.text)
        .join('\n'),
      json: items.slice(0, 10).map((i) => JSON.parse(i.text)),
    });
    expect(maskRecord(new Masker(defaultRegistry()), shown)).toMatchObject({
      text: WITHHELD,
      partitionKey: WITHHELD,
      aggregated: 12,
    });
    expect(maskRecord(new Masker(defaultRegistry()), shown).json).toBeUndefined();
  });
});
