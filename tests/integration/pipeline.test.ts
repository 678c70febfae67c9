import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventIdOf } from '../../lib/envelope.ts';
import { decodePartitionValue } from '../../lib/layout/partition.ts';
import { produce } from '../../lib/produce/producer.ts';
import { syntheticEvents } from '../../lib/produce/synthetic.ts';
import { defaultRegistry } from '../../lib/registry/registry.ts';
import type { DevRuntime } from '../../local/dev.ts';
import { duplicates, post, readLake, removeDir, startTestRuntime, tempDir, waitFor } from './helpers.ts';

const registry = defaultRegistry();
const PLAN = [
  { type: 'transactions', count: 1500, ratio: 0.1, seed: 3 },
  { type: 'taxi_trips', count: 400, ratio: 0.1, seed: 4 },
  { type: 'clickstream', count: 900, ratio: 0.2, seed: 5 },
];

describe('pipeline end to end on the real emulators', () => {
  let rt: DevRuntime;
  let dir: string;
  beforeAll(async () => {
    dir = tempDir('pipeline');
    rt = await startTestRuntime(dir);
  });
  afterAll(async () => {
    await rt?.stop();
    removeDir(dir);
  });

  it('puts every event in exactly one place: the lake or the quarantine', async () => {
    const expectedValid: string[] = [];
    let expectedInvalid = 0;
    for (const p of PLAN) {
      const events = [...syntheticEvents(p.type, p.count, { invalidRatio: p.ratio, seed: p.seed })];
      const invalid = Math.round(p.count * p.ratio);
      const summary = await produce(
        events.map((e, index) => ({ text: e.raw ?? JSON.stringify(e.value), index })),
        { endpoint: rt.apiUrl, apiKey: rt.apiKey, type: p.type, batch: 250 },
      );
      expect(summary).toMatchObject({ sent: p.count, accepted: p.count - invalid, rejected: invalid, failed: 0 });
      expectedInvalid += invalid;
      for (const e of events) if (e.valid) expectedValid.push(eventIdOf(registry.get(p.type), e.value)!);
    }
    const total = expectedValid.length;
    const lake = await waitFor(
      () => readLake(rt.config),
      (l) => l.rows.length >= total,
      90_000,
    );
    expect(lake.rows.length).toBe(total);
    expect(duplicates(lake.rows.map((r) => `${r.type}/${r.id}`))).toEqual([]);
    expect(lake.rows.map((r) => r.id).sort()).toEqual([...expectedValid].sort());
    expect(lake.quarantine.length).toBe(expectedInvalid);
    expect(new Set(lake.quarantine.map((q) => q.stage))).toEqual(new Set(['ingest']));
    expect(new Set(lake.quarantine.map((q) => q.reason))).toEqual(new Set(['schema_violation', 'malformed_json']));
    expect(lake.onFailure).toBe(0);

    // Every row sits under the partition its envelope says.
    const rowsByKey = new Map<string, number>();
    for (const key of lake.keys) rowsByKey.set(key, 0);
    for (const r of lake.rows) {
      expect(r.event_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    }
    const { s3 } = (await import('../../lib/aws/clients.ts')).awsClients(rt.config);
    const { readJsonl } = await import('../../lib/aws/s3.ts');
    for (const key of lake.keys.slice(0, 200)) {
      const m =
        /^events\/([a-z_]+)\/dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})(?:\/section=([^/]*))?\/shardId-\d+-\d+-\d+\.jsonl\.gz$/.exec(
          key,
        );
      expect(m, key).not.toBeNull();
      for (const row of await readJsonl<{
        type: string;
        event_time: string;
        data: { metadata?: { section?: string } };
      }>(s3, rt.config.buckets.lake, key)) {
        expect(row.type).toBe(m![1]);
        expect(row.event_time.slice(0, 10)).toBe(m![2]);
        expect(row.event_time.slice(11, 13)).toBe(m![3]);
        // Only clickstream has a section partition: its key holds the event's section, the others' none.
        expect(m![4] === undefined ? undefined : decodePartitionValue(m![4])).toBe(
          row.type === 'clickstream' ? row.data.metadata!.section : undefined,
        );
      }
    }
  });

  it('keeps card numbers exact and hostile partition values inside their prefix', async () => {
    const cc = '4992346398065154184';
    const tx = `{"trans_num":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","cc_num":${cc},"trans_date_trans_time":"2024-02-29 23:59:59","amt":1.1}`;
    expect((await post(rt, 'transactions', tx)).status).toBe(200);
    const sections = ['../x', 'a/b', '', 'x'.repeat(10_240), 'çà 🔥', 'ctl\u0000\u0007\n', '..'];
    const body = sections
      .map((s, i) => JSON.stringify({ metadata: { uuid: `hostile-${i}`, section: s }, payload: {} }))
      .join('\n');
    const res = await post(rt, 'clickstream', body, { 'content-type': 'application/x-ndjson' });
    expect(res.status).toBe(200);
    expect(res.json.accepted).toBe(sections.length);
    const lake = await waitFor(
      () => readLake(rt.config),
      (l) =>
        l.rows.some((r) => r.id === 'hostile-6') && l.rows.some((r) => r.id === 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'),
    );
    const row = lake.rows.find((r) => r.id === 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')!;
    expect((row.data as { cc_num: string }).cc_num).toBe(cc);
    expect(row.event_time).toBe('2024-02-29T23:59:59.000Z');
    expect(lake.keys.some((k) => k.startsWith('events/transactions/dt=2024-02-29/hour=23/shardId-'))).toBe(true);
    const clickKeys = lake.keys.filter((k) => k.startsWith('events/clickstream/'));
    for (const k of clickKeys) {
      const parts = k.split('/');
      expect(parts).toHaveLength(6);
      expect(parts[4]).toMatch(/^section=[A-Za-z0-9._%-]{0,128}$/);
      expect(['section=.', 'section=..']).not.toContain(parts[4]);
    }
    for (const s of sections) {
      const hits = lake.rows.filter(
        (r) => r.type === 'clickstream' && (r.data as { metadata: { section: string } }).metadata.section === s,
      );
      expect(hits.length, JSON.stringify(s).slice(0, 40)).toBeGreaterThanOrEqual(1);
    }
  });

  it('quarantines stream records it cannot decode without blocking their shard', async () => {
    const { PutRecordsCommand } = await import('@aws-sdk/client-kinesis');
    const { kinesis } = (await import('../../lib/aws/clients.ts')).awsClients(rt.config);
    const good = {
      id: 'after-garbage',
      type: 'transactions',
      v: 1,
      received_at: '2026-01-01T00:00:00.000Z',
      event_time: '2026-01-01T00:00:00.000Z',
      source: 'producer',
      data: {},
    };
    const res = await kinesis.send(
      new PutRecordsCommand({
        StreamName: 'events',
        Records: [
          { PartitionKey: 'same', Data: Buffer.from('garbage, not json') },
          { PartitionKey: 'same', Data: Buffer.from(JSON.stringify({ ...good, id: 'x', type: 'orders' })) },
          { PartitionKey: 'same', Data: Buffer.from([0xc3, 0x28, 0xff]) },
          { PartitionKey: 'same', Data: Buffer.from(JSON.stringify(good)) },
        ],
      }),
    );
    expect(res.FailedRecordCount).toBe(0);
    const lake = await waitFor(
      () => readLake(rt.config),
      (l) =>
        l.rows.some((r) => r.id === 'after-garbage') &&
        l.quarantine.filter((q) => q.stage === 'lake-writer').length >= 3,
    );
    expect(lake.rows.filter((r) => r.id === 'after-garbage')).toHaveLength(1);
    const lw = lake.quarantine.filter((q) => q.stage === 'lake-writer');
    expect(lw.map((q) => [q.reason, q.payload_encoding, q.payload]).sort()).toEqual([
      ['malformed_json', 'base64', Buffer.from([0xc3, 0x28, 0xff]).toString('base64')],
      ['malformed_json', 'utf8', 'garbage, not json'],
      ['unknown_type', 'utf8', JSON.stringify({ ...good, id: 'x', type: 'orders' })],
    ]);
  });

  it('answers hostile requests with clear 4xx errors and loses nothing accepted', async () => {
    const before = (await readLake(rt.config)).quarantine.length;
    const noKey = await fetch(`${rt.apiUrl}/v1/events/transactions`, { method: 'POST', body: '{}' });
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toEqual({
      error: 'unauthorized',
      message: 'Missing or wrong x-api-key header. Send the key printed by `tributary dev` (or TRIBUTARY_API_KEY).',
    });
    expect((await post(rt, 'transactions', '{}', { 'x-api-key': 'test-kez' })).status).toBe(401);

    const tooMany = await post(rt, 'transactions', JSON.stringify(Array.from({ length: 501 }, () => ({}))));
    expect(tooMany.status).toBe(413);
    expect(tooMany.json.message).toBe(
      'Request has 501 events; the limit is at most 500 events and 4194304 bytes (4 MiB) per request. Split it into smaller requests.',
    );
    const huge = await post(rt, 'transactions', `{"x":"${'a'.repeat(6 * 1024 * 1024)}"}`);
    expect(huge.status).toBe(413);
    expect(huge.json.error).toBe('too_large');

    const malformed = await post(rt, 'transactions', '{"trans_num": ');
    expect(malformed.status).toBe(400);
    expect(malformed.json.error).toBe('malformed_json');
    expect(malformed.json.message).toMatch(
      /^Request body is not valid JSON \(.+\); send one JSON object, a JSON array of objects, or NDJSON/,
    );

    const unknown = await post(rt, 'nope', '{}');
    expect(unknown.status).toBe(400);
    expect(unknown.json).toEqual({
      error: 'unknown_type',
      message: 'Unknown event type "nope"; known types: clickstream, taxi_trips, transactions.',
    });
    expect((await fetch(`${rt.apiUrl}/v2/whatever`)).status).toBe(404);
    // A path that cannot be percent-decoded used to throw out of the gateway and stop the whole stack.
    const undecodable = await fetch(`${rt.apiUrl}/v1/events/%zz`, {
      method: 'POST',
      headers: { 'x-api-key': rt.apiKey },
      body: '{}',
    });
    expect(undecodable.status).toBe(400);
    expect(rt.emulators.filter((e) => e.child.exitCode !== null || e.child.signalCode !== null)).toEqual([]);
    expect((await fetch(`${rt.apiUrl}/health`)).status).toBe(200);

    const mixed = await post(
      rt,
      'transactions',
      JSON.stringify([{ trans_num: 'b'.repeat(32), cc_num: '4111111111111111' }, { trans_num: 'c'.repeat(32) }]),
    );
    expect(mixed.status).toBe(207);
    expect(mixed.json).toEqual({
      accepted: 1,
      rejected: 1,
      failed: 0,
      results: [
        { index: 0, id: 'b'.repeat(32), status: 'accepted' },
        {
          index: 1,
          id: 'c'.repeat(32),
          status: 'rejected',
          reason: 'schema_violation',
          errors: [{ path: '/cc_num', keyword: 'required', message: "must have required property 'cc_num'" }],
        },
      ],
    });
    // The malformed body, the unknown type and the invalid event are all in quarantine with what was sent.
    const after = await waitFor(
      () => readLake(rt.config),
      (l) => l.quarantine.length >= before + 3,
    );
    const fresh = after.quarantine
      .slice()
      .sort((a, b) => a.quarantined_at.localeCompare(b.quarantined_at))
      .slice(-3);
    expect(fresh.map((q) => q.reason).sort()).toEqual(['malformed_json', 'schema_violation', 'unknown_type']);
    expect(fresh.find((q) => q.reason === 'malformed_json')!.payload).toBe('{"trans_num": ');
    expect(fresh.find((q) => q.reason === 'schema_violation')!.payload).toBe(`{"trans_num":"${'c'.repeat(32)}"}`);
    expect(
      after.rows.some((r) => r.id === 'b'.repeat(32)) ||
        (
          await waitFor(
            () => readLake(rt.config),
            (l) => l.rows.some((r) => r.id === 'b'.repeat(32)),
          )
        ).rows.some((r) => r.id === 'b'.repeat(32)),
    ).toBe(true);
  });
});
