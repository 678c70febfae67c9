import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { planBatch, type PlannedObject } from '../../lib/lake/plan.ts';
import { redeliveryPoint } from '../../lib/lake/writer.ts';
import { decodePayload } from '../../lib/quarantine/record.ts';
import { defaultRegistry } from '../../lib/registry/registry.ts';
import type { StreamRecord } from '../../lib/stream/records.ts';

const registry = defaultRegistry();
const SHARD = 'shardId-000000000001';
let seq = 49_000_000_000_000_000_000n;

function record(data: unknown): StreamRecord {
  seq += 10n;
  return {
    shardId: SHARD,
    sequenceNumber: seq.toString(),
    partitionKey: 'k',
    data: Buffer.from(typeof data === 'string' ? data : JSON.stringify(data)),
    arrivedAt: Date.UTC(2026, 0, 1),
  };
}

const env = (id: string, type: string, eventTime: string, data: unknown = {}) => ({
  id,
  type,
  v: 1,
  received_at: '2026-01-01T00:00:00.000Z',
  event_time: eventTime,
  source: 'api',
  data,
});
const lines = (o: PlannedObject) => gunzipSync(o.body).toString('utf8').trimEnd().split('\n');

describe('planBatch', () => {
  it('writes one gzip JSONL object per partition, named by shard and first/last sequence number', () => {
    const rs = [
      record(env('a', 'transactions', '2026-01-01T10:15:00.000Z')),
      record(env('b', 'clickstream', '2026-01-01T10:16:00.000Z', { metadata: { section: 'a/b' } })),
      record(env('c', 'transactions', '2026-01-01T10:59:59.999Z')),
      record(env('d', 'transactions', '2026-01-01T11:00:00.000Z')),
    ];
    const plan = planBatch(rs, registry, new Date('2026-01-02T00:00:00Z'));
    expect(plan.rows).toBe(4);
    expect(plan.quarantined).toBe(0);
    expect(plan.objects.map((o) => [o.key, o.count])).toEqual([
      [
        `events/transactions/dt=2026-01-01/hour=10/${SHARD}-${rs[0]!.sequenceNumber}-${rs[2]!.sequenceNumber}.jsonl.gz`,
        2,
      ],
      [
        `events/clickstream/dt=2026-01-01/hour=10/section=a%2Fb/${SHARD}-${rs[1]!.sequenceNumber}-${rs[1]!.sequenceNumber}.jsonl.gz`,
        1,
      ],
      [
        `events/transactions/dt=2026-01-01/hour=11/${SHARD}-${rs[3]!.sequenceNumber}-${rs[3]!.sequenceNumber}.jsonl.gz`,
        1,
      ],
    ]);
    expect(lines(plan.objects[0]!).map((l) => JSON.parse(l).id)).toEqual(['a', 'c']);
    // The envelope bytes are written unchanged.
    expect(lines(plan.objects[0]!)[0]).toBe(rs[0]!.data.toString());
  });

  it('keeps one line per event id in an object: the copy received first, then the first in sequence', () => {
    const at = (id: string, receivedAt: string, amt: number) =>
      record({ ...env(id, 'transactions', '2026-01-01T10:15:00.000Z', { amt }), received_at: receivedAt });
    const rs = [
      at('a', '2026-01-01T10:15:05.000Z', 1),
      at('b', '2026-01-01T10:15:00.000Z', 2),
      at('a', '2026-01-01T10:15:01.000Z', 3),
      at('b', '2026-01-01T10:15:00.000Z', 4),
      at('a', '2026-01-01T10:15:09.000Z', 5),
    ];
    const plan = planBatch(rs, registry);
    expect(plan).toMatchObject({ rows: 2, duplicates: 3 });
    expect(plan.objects).toHaveLength(1);
    const o = plan.objects[0]!;
    expect(lines(o).map((l) => [JSON.parse(l).id, JSON.parse(l).data.amt])).toEqual([
      ['b', 2],
      ['a', 3],
    ]);
    expect([o.firstSeq, o.lastSeq, o.seqs, o.ids, o.count]).toEqual([
      rs[1]!.sequenceNumber,
      rs[2]!.sequenceNumber,
      [rs[1]!.sequenceNumber, rs[2]!.sequenceNumber],
      ['b', 'a'],
      2,
    ]);
    // Copies in different partitions are different objects: the tables' rule (per day) decides between them.
    const other = planBatch(
      [
        at('c', '2026-01-01T10:15:00.000Z', 1),
        record({ ...env('c', 'transactions', '2026-01-01T11:00:00.000Z'), received_at: '2026-01-01T11:00:00.000Z' }),
      ],
      registry,
    );
    expect(other).toMatchObject({ rows: 2, duplicates: 0 });
  });

  it('names objects the same way when the same records are planned again (a retry overwrites)', () => {
    const rs = [
      record(env('x', 'transactions', '2026-01-01T01:00:00.000Z')),
      record(env('y', 'transactions', '2026-01-01T01:00:01.000Z')),
    ];
    expect(planBatch(rs, registry).objects.map((o) => o.key)).toEqual(
      planBatch([...rs].reverse(), registry).objects.map((o) => o.key),
    );
  });

  it('quarantines records it cannot decode, without blocking the rest', () => {
    const bad = [
      record('not json'),
      record(Buffer.from([0xff, 0xfe, 0x00]).toString('latin1')),
      record(env('u', 'unknown', '2026-01-01T00:00:00.000Z')),
      record({ id: 'z' }),
    ];
    const good = record(env('g', 'transactions', '2026-01-01T00:00:00.000Z'));
    const plan = planBatch([...bad, good], registry, new Date('2026-03-04T05:06:07Z'));
    expect(plan.rows).toBe(1);
    expect(plan.quarantined).toBe(4);
    const q = plan.objects.filter((o) => o.bucket === 'quarantine');
    expect(q.map((o) => o.key.replace(/-\d+-\d+\.jsonl\.gz$/, '')).sort()).toEqual([
      `records/dt=2026-03-04/reason=invalid_envelope/lake-writer-${SHARD}`,
      `records/dt=2026-03-04/reason=malformed_json/lake-writer-${SHARD}`,
      `records/dt=2026-03-04/reason=unknown_type/lake-writer-${SHARD}`,
    ]);
    const recs = q.flatMap((o) => lines(o).map((l) => JSON.parse(l)));
    expect(recs.map((r) => [r.stage, r.reason, r.payload_encoding]).sort()).toEqual([
      ['lake-writer', 'invalid_envelope', 'utf8'],
      ['lake-writer', 'malformed_json', 'utf8'],
      ['lake-writer', 'malformed_json', 'utf8'],
      ['lake-writer', 'unknown_type', 'utf8'],
    ]);
    expect(recs.find((r) => r.payload === 'not json')).toMatchObject({
      errors: [{ path: '/', keyword: 'malformed_json' }],
      quarantined_at: '2026-03-04T05:06:07.000Z',
    });
    // Same records, same quarantine ids: a retried batch overwrites rather than duplicates.
    const again = planBatch([...bad, good], registry, new Date('2026-03-04T05:06:07Z')).objects.filter(
      (o) => o.bucket === 'quarantine',
    );
    expect(again.flatMap((o) => o.ids).sort()).toEqual(q.flatMap((o) => o.ids).sort());
  });

  it('quarantines an envelope written to the stream directly with an event time Athena would not show', () => {
    const plan = planBatch(
      [
        record(env('old', 'transactions', '1969-07-20T20:17:00.000Z')),
        record(env('ok', 'transactions', '1970-01-01T00:00:00.000Z')),
      ],
      registry,
      new Date('2026-03-04T05:06:07Z'),
    );
    expect(plan.rows).toBe(1);
    const recs = plan.objects
      .filter((o) => o.bucket === 'quarantine')
      .flatMap((o) => lines(o).map((l) => JSON.parse(l)));
    expect(recs.map((r) => [r.reason, r.errors[0].message])).toEqual([
      [
        'invalid_envelope',
        'Record is not a Tributary envelope: "event_time" "1969-07-20T20:17:00.000Z" is before 1970-01-01, the first day the lake\'s tables show.',
      ],
    ]);
  });

  it('keeps raw bytes that are not UTF-8 as base64 in quarantine', () => {
    const r: StreamRecord = {
      shardId: SHARD,
      sequenceNumber: '1',
      partitionKey: 'k',
      data: Buffer.from([0xff, 0x00, 0x7b]),
      arrivedAt: 0,
    };
    const [o] = planBatch([r], registry).objects;
    const rec = JSON.parse(lines(o!)[0]!);
    expect(rec).toMatchObject({
      payload: Buffer.from([0xff, 0x00, 0x7b]).toString('base64'),
      payload_encoding: 'base64',
      reason: 'malformed_json',
    });
    // Re-drive gets the exact bytes back.
    expect(decodePayload(rec)).toEqual(Buffer.from([0xff, 0x00, 0x7b]));
    expect(decodePayload({ payload: 'ü{', payload_encoding: 'utf8' })).toEqual(Buffer.from('ü{'));
  });

  it('re-serializes envelopes that span lines so every object stays one record per line', () => {
    const pretty = JSON.stringify(env('p', 'transactions', '2026-01-01T00:00:00.000Z', { note: 'x' }), null, 2);
    const [o] = planBatch([record(pretty)], registry).objects;
    expect(lines(o!)).toHaveLength(1);
    expect(JSON.parse(lines(o!)[0]!).id).toBe('p');
  });
});

describe('redeliveryPoint', () => {
  const obj = (firstSeq: string, lastSeq: string) => ({ firstSeq, lastSeq }) as PlannedObject;
  it('is undefined when nothing failed, else the first record of the failed object', () => {
    expect(redeliveryPoint([obj('10', '20')], [])).toBeUndefined();
    expect(redeliveryPoint([obj('10', '20'), obj('30', '40')], [obj('30', '40')])).toBe('30');
  });
  it('moves down to the start of any written object that spans it, transitively', () => {
    const a = obj('10', '35');
    const b = obj('20', '50');
    const c = obj('40', '60');
    expect(redeliveryPoint([a, b, c], [c])).toBe('10');
    expect(redeliveryPoint([obj('10', '15'), b, c], [c])).toBe('20');
  });
});

describe('local poller batching', () => {
  it("cuts a batch at the batch size or at Lambda's 6 MB payload, whichever comes first", async () => {
    const { batchLength, MAX_INVOKE_PAYLOAD_BYTES } = await import('../../local/poller.ts');
    const small = Array.from({ length: 50 }, () => ({ Data: new Uint8Array(500) }));
    expect(batchLength(small, 20)).toBe(20);
    expect(batchLength(small, 100)).toBe(50);
    const big = Array.from({ length: 10 }, () => ({ Data: new Uint8Array(1_000_000) }));
    // base64 makes 1 MB of data ~1.33 MB of payload: four fit in 6 MB.
    expect(batchLength(big, 100)).toBe(4);
    expect(MAX_INVOKE_PAYLOAD_BYTES).toBe(6 * 1024 * 1024);
    // A single record always goes out, even one larger than the limit would allow with others.
    expect(batchLength([{ Data: new Uint8Array(5_000_000) }], 10)).toBe(1);
  });
});

describe('planBatch and re-drives meant for the OLTP sink', () => {
  it('skips a re-drive of a record the OLTP sink quarantined (the lake already holds the event) and keeps other re-drives', () => {
    const redrive = (stage?: string) => ({
      job: 'j1',
      at: '2026-01-02T00:00:00.000Z',
      by: 'ops',
      attempt: 1,
      ...(stage ? { stage } : {}),
    });
    const rs = [
      record({
        ...env('a', 'transactions', '2026-01-01T10:00:00.000Z'),
        source: 'redrive',
        redrive: redrive('oltp-sink'),
      }),
      record({
        ...env('b', 'transactions', '2026-01-01T10:00:00.000Z'),
        source: 'redrive',
        redrive: redrive('ingest'),
      }),
      record({ ...env('c', 'transactions', '2026-01-01T10:00:00.000Z'), source: 'redrive', redrive: redrive() }),
    ];
    const plan = planBatch(rs, registry, new Date('2026-01-02T00:00:00Z'));
    expect([plan.rows, plan.skipped, plan.quarantined]).toEqual([2, 1, 0]);
    expect(plan.objects.flatMap((o) => lines(o).map((l) => JSON.parse(l).id))).toEqual(['b', 'c']);
  });
});
