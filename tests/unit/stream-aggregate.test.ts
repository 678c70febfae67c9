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
  AggregateFormatError,
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
  it('holds every item once, in order, each with the others of its shard, sent by its first item’s hash', () => {
    const items = Array.from({ length: 2_500 }, (_, i) => op(i));
    const records = aggregate(items, TWO, 'import.example');
    expect(records.every((r) => isAggregate(r.data) && r.partitionKey === 'import.example')).toBe(true);
    expect(records.flatMap((r) => r.items).sort((a, b) => a - b)).toEqual(items.map((_, i) => i));
    for (const r of records) {
      expect(aggregateTexts(r.data)).toEqual(r.items.map((i) => items[i]!.text));
      expect([...r.items].sort((a, b) => a - b)).toEqual(r.items);
      const shard = shardOf(BigInt(r.explicitHashKey));
      expect(r.items.every((i) => shardOf(hashKeyOf(items[i]!.partitionKey)) === shard)).toBe(true);
      expect(r.explicitHashKey).toBe(hashKeyOf(items[r.items[0]!]!.partitionKey).toString());
    }
    // 2,500 operations of two shards: at most 1,000 per aggregate, so two or three per shard.
    expect(records.length).toBeGreaterThanOrEqual(4);
    expect(records.length).toBeLessThanOrEqual(6);
    expect(Math.max(...records.map((r) => r.items.length))).toBeLessThanOrEqual(AGGREGATE_MAX_ITEMS);
    // What the stream carries: a fraction of the envelopes' bytes.
    const raw = items.reduce((n, it) => n + Buffer.byteLength(it.text), 0);
    const sent = records.reduce((n, r) => n + r.data.length, 0);
    expect(sent).toBeLessThan(raw / 4);
  });

  it('cuts by bytes as well as items, refuses what no record can hold, and keeps keys without a range together', () => {
    const wide = Array.from({ length: 40 }, (_, i) => op(i, 'x'.repeat(50_000)));
    const byBytes = aggregate(wide);
    expect(byBytes.length).toBeGreaterThan(3);
    for (const r of byBytes) expect(gunzipSync(r.data.subarray(5)).length).toBeLessThanOrEqual(AGGREGATE_MAX_BYTES);
    // Without ranges (a reshard under way): one group, in order, each sent with its first item's key.
    expect(byBytes.flatMap((r) => r.items)).toEqual(wide.map((_, i) => i));
    expect(byBytes.map((r) => r.partitionKey)).toEqual(byBytes.map((r) => wide[r.items[0]!]!.partitionKey));
    expect(() => aggregate([op(1, 'y'.repeat(1_100_000))])).toThrow(AggregateFormatError);
    expect(() => aggregate([{ partitionKey: 'k', text: '{"a":\n1}' }])).toThrow(/one line of JSON/);
    expect(aggregate([])).toEqual([]);
  });

  it('reads only its own format, and says what is wrong with anything else', () => {
    const [r] = aggregate([op(1)]);
    expect(isAggregate(Buffer.from('{"id":"x"}'))).toBe(false);
    expect(() => aggregateTexts(Buffer.from('{"id":"x"}'))).toThrow(AggregateFormatError);
    const newer = Buffer.from(r!.data);
    newer[4] = 2;
    expect(() => aggregateTexts(newer)).toThrow(/format 2, which this version cannot read/);
    const corrupt = Buffer.concat([r!.data.subarray(0, 5), Buffer.from('not gzip')]);
    expect(() => aggregateTexts(corrupt)).toThrow(/not gzip/);
    expect(aggregateTexts(Buffer.concat([r!.data.subarray(0, 5), gzipSync('')]))).toEqual([]);
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
    const [agg] = aggregate([good[0]!, good[1]!, bad, good[2]!]);
    const [agg2] = aggregate([good[3]!, good[4]!]);
    const corrupt = Buffer.concat([agg!.data.subarray(0, 5), Buffer.from('garbage')]);
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
    expect(aggregate([op(1)], TWO)[0]!.explicitHashKey).toBe(hashKeyOf(key).toString());
  });
});

describe('the stream browser and aggregates', () => {
  it('shows an operator the envelopes of an aggregate, and a viewer nothing of them', () => {
    const items = [op(1), op(2)];
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
      aggregated: 2,
      text: `${items[0]!.text}\n${items[1]!.text}`,
      json: items.map((i) => JSON.parse(i.text)),
    });
    expect(maskRecord(new Masker(defaultRegistry()), shown)).toMatchObject({
      text: WITHHELD,
      partitionKey: WITHHELD,
      aggregated: 2,
    });
    expect(maskRecord(new Masker(defaultRegistry()), shown).json).toBeUndefined();
  });
});
