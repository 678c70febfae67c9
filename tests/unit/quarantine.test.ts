import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../lib/events/limits.ts';
import { QuarantineRequestError } from '../../lib/quarantine/errors.ts';
import { quarantineRecord, type QuarantineRecord } from '../../lib/quarantine/record.ts';
import { checkFix, originStage, prepareRedrive, redriveSource } from '../../lib/quarantine/redrive-prepare.ts';
import { qidOf, QuarantineIndex, type LedgerEntry } from '../../lib/quarantine/quarantine-index.ts';
import { filterParams, parseFilter } from '../../lib/quarantine/filter.ts';
import { listItem, readDiscardRequest, readRedriveRequest } from '../../lib/quarantine/requests.ts';
import { defaultRegistry } from '../../lib/registry/registry.ts';

const registry = defaultRegistry();
const tx = (extra: Record<string, unknown> = {}) => ({
  trans_num: 'f'.repeat(32),
  cc_num: '4000000000000002',
  trans_date_trans_time: '2026-03-01 12:00:00',
  amt: 1.5,
  ...extra,
});

function rec(over: Partial<Parameters<typeof quarantineRecord>[0]> = {}): QuarantineRecord {
  return quarantineRecord({
    id: 'f'.repeat(32),
    stage: 'ingest',
    reason: 'schema_violation',
    errors: [{ path: '/gender', keyword: 'enum', message: 'must be one of "M", "F", null' }],
    type: 'transactions',
    v: 1,
    receivedAt: '2026-03-01T12:00:01.000Z',
    quarantinedAt: '2026-03-01T12:00:02.000Z',
    payload: JSON.stringify(tx({ gender: 'X' })),
    source: 'api',
    ...over,
  });
}

const noS3 = {} as S3Client;

describe('quarantine filters', () => {
  it('reads and checks filters from query parameters', () => {
    expect(
      parseFilter(
        new URLSearchParams(
          'type=transactions&stage=ingest&reason=too_large&status=all&from=2026-03-01&to=2026-03-02T10:00:00Z&q= gender ',
        ),
      ),
    ).toEqual({
      type: 'transactions',
      stage: 'ingest',
      reason: 'too_large',
      status: 'all',
      from: '2026-03-01T00:00:00.000Z',
      to: '2026-03-02T10:00:00.000Z',
      q: 'gender',
    });
    expect(parseFilter(new URLSearchParams('type=&q='))).toEqual({});
    expect(() => parseFilter({ stage: 'ingets' })).toThrow(
      'Unknown stage "ingets"; use one of ingest, lake-writer, oltp-sink, redrive, import.',
    );
    expect(() => parseFilter({ reason: 'nope' })).toThrow(QuarantineRequestError);
    expect(() => parseFilter({ status: 'closed' })).toThrow('use open, redriven, discarded or all');
    expect(() => parseFilter({ from: 'yesterday' })).toThrow('"from" must be an ISO-8601 date');
    expect(() => parseFilter({ from: '2026-03-02', to: '2026-03-01' })).toThrow(
      '"from" (2026-03-02T00:00:00.000Z) must be before "to"',
    );
    expect(filterParams({ type: 'transactions', q: '' })).toEqual({ type: 'transactions' });
  });

  it('reads re-drive and discard bodies at the boundary', () => {
    expect(
      readRedriveRequest({ qids: ['a.0'], fixes: { 'a.0': { event: '{}', type: 'transactions' } }, rate: 10 }),
    ).toEqual({ qids: ['a.0'], fixes: { 'a.0': { event: '{}', type: 'transactions' } }, rate: 10 });
    expect(readRedriveRequest({ filter: { stage: 'ingest', q: 'x' } })).toEqual({
      filter: { stage: 'ingest', q: 'x' },
    });
    expect(() => readRedriveRequest({ qids: 'a.0' })).toThrow('"qids" must be an array of record ids.');
    expect(() => readRedriveRequest({ fixes: { 'a.0': { event: 1 } } })).toThrow(
      '"event" must be the edited event as JSON text.',
    );
    expect(() => readRedriveRequest(null)).toThrow('Send the re-drive request as a JSON object.');
    expect(readDiscardRequest({ qids: ['a.0'] })).toEqual({ qids: ['a.0'], reason: '' });
  });
});

describe('quarantine index', () => {
  const objKey = (n: number) => `records/dt=2026-03-01/reason=schema_violation/ingest-${n}.jsonl.gz`;

  function index(): QuarantineIndex {
    const ix = new QuarantineIndex(noS3, 'quarantine');
    ix.addObject(objKey(1), [
      rec({ id: 'a', quarantinedAt: '2026-03-01T10:00:00.000Z' }),
      rec({ id: 'b', quarantinedAt: '2026-03-01T10:00:00.000Z', type: 'taxi_trips' }),
    ]);
    ix.addObject(objKey(2), [
      rec({
        id: 'c',
        quarantinedAt: '2026-03-01T11:00:00.000Z',
        payload: 'needle in here',
        errors: [{ path: '/amt', keyword: 'type', message: 'must be a number' }],
      }),
    ]);
    return ix;
  }

  it('lists newest first with filters, paging and a total', () => {
    const ix = index();
    expect(ix.list({}).items.map((e) => e.record.id)).toEqual(['c', 'a', 'b']);
    expect(ix.list({ type: 'taxi_trips' }).items.map((e) => e.record.id)).toEqual(['b']);
    expect(ix.list({ q: 'NEEDLE' }).items.map((e) => e.record.id)).toEqual(['c']);
    expect(ix.list({ q: '/amt' }).items.map((e) => e.record.id)).toEqual(['c']);
    expect(ix.list({ from: '2026-03-01T10:30:00.000Z' }).items.map((e) => e.record.id)).toEqual(['c']);
    expect(ix.list({ to: '2026-03-01T10:30:00.000Z' }).items.map((e) => e.record.id)).toEqual(['a', 'b']);
    const page = ix.list({}, { offset: 1, limit: 1 });
    expect([page.total, page.items.map((e) => e.record.id)]).toEqual([3, ['a']]);
    // Adding the same object again (a re-listing) changes nothing.
    ix.addObject(objKey(1), [rec({ id: 'zzz' })]);
    expect(ix.size).toBe(3);
  });

  it('derives each status from the ledger, whatever order objects and ledger lines arrive in', () => {
    const ix = new QuarantineIndex(noS3, 'quarantine');
    const line = (qid: string, outcome: LedgerEntry['outcome'], at: string): LedgerEntry => ({
      qid,
      id: 'x',
      job: `j-${outcome}`,
      action: outcome === 'discarded' ? 'discard' : 'redrive',
      outcome,
      at,
      by: 'alice',
    });
    // The ledger is read before the records (another process wrote both).
    ix.applyLedger('ledger/1', [
      line(qidOf(objKey(1), 0), 'accepted', '2026-03-01T12:00:00.000Z'),
      line(qidOf(objKey(1), 1), 'skipped', '2026-03-01T12:00:00.000Z'),
    ]);
    ix.addObject(objKey(1), [rec({ id: 'a' }), rec({ id: 'b' }), rec({ id: 'c' })]);
    ix.applyLedger('ledger/2', [line(qidOf(objKey(1), 2), 'discarded', '2026-03-01T13:00:00.000Z')]);
    expect(ix.list({ status: 'all' }).items.map((e) => [e.record.id, e.status])).toEqual([
      ['a', 'redriven'],
      ['b', 'open'],
      ['c', 'discarded'],
    ]);
    expect(ix.counts()).toMatchObject({ open: 1, redriven: 1, discarded: 1, byType: { transactions: 1 } });
    expect(ix.outcomesOf('j-skipped').map((l) => l.outcome)).toEqual(['skipped']);
    expect(() => ix.get('nope.0')).toThrow('Quarantined record "nope.0" was not found');
  });

  it('shows a list row without the whole payload', () => {
    const [e] = index().list({ q: 'needle' }).items;
    expect(listItem(e!)).toMatchObject({
      id: 'c',
      status: 'open',
      errorCount: 1,
      firstError: { path: '/amt', message: 'must be a number' },
      preview: 'needle in here',
    });
  });
});

describe('re-drive preparation', () => {
  const info = { job: 'job-1', at: '2026-03-02T00:00:00.000Z', by: 'alice', attempt: 1 };

  it('takes the event from an ingest record and from a broken envelope of a consumer stage', () => {
    expect(redriveSource(rec())).toEqual({
      type: 'transactions',
      event: JSON.stringify(tx({ gender: 'X' })),
      id: 'f'.repeat(32),
      receivedAt: '2026-03-01T12:00:01.000Z',
      v: 1,
    });
    const env = {
      id: 'e-1',
      type: 'transactions',
      received_at: '2026-03-01T09:00:00Z',
      event_time: 'x',
      source: 'producer',
      data: tx(),
    };
    const lw = rec({ stage: 'lake-writer', type: undefined, v: undefined, payload: JSON.stringify(env) });
    expect(redriveSource(lw)).toEqual({
      type: 'transactions',
      event: JSON.stringify(tx()),
      id: 'e-1',
      receivedAt: '2026-03-01T09:00:00.000Z',
    });
    // Not an envelope at all: the payload is the event, and there is no type to re-drive it as.
    expect(redriveSource(rec({ stage: 'lake-writer', type: undefined, v: undefined, payload: 'garbage' }))).toEqual({
      event: 'garbage',
      id: 'f'.repeat(32),
      receivedAt: '2026-03-01T12:00:01.000Z',
    });
  });

  it('builds the envelope with the original id, received time and the redrive block', () => {
    const p = prepareRedrive(registry, rec(), info, { event: JSON.stringify(tx({ gender: 'F' })) });
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    const env = JSON.parse(Buffer.from(p.entry.data).toString()) as Record<string, unknown>;
    expect(env).toEqual({
      id: 'f'.repeat(32),
      type: 'transactions',
      v: 1,
      received_at: '2026-03-01T12:00:01.000Z',
      event_time: '2026-03-01T12:00:00.000Z',
      source: 'redrive',
      data: tx({ gender: 'F' }),
      redrive: info,
    });
  });

  it('knows the stage an event first failed at, through re-drives that failed again', () => {
    expect(originStage(rec({ stage: 'oltp-sink' }))).toBe('oltp-sink');
    const again = rec({ stage: 'redrive', origin_stage: 'oltp-sink' });
    expect(again.origin_stage).toBe('oltp-sink');
    expect(originStage(again)).toBe('oltp-sink');
    expect(originStage(rec({ stage: 'redrive' }))).toBe('redrive');
    expect(rec()).not.toHaveProperty('origin_stage');
  });

  it('re-quarantines an oversized fix as too_large, whichever limit it is over', () => {
    // Over the body limit: ingest's parser refuses it before any event is built.
    const huge = prepareRedrive(registry, rec(), info, {
      event: JSON.stringify(tx({ merchant: 'm'.repeat(MAX_BODY_BYTES + 1) })),
    });
    expect(huge).toMatchObject({
      ok: false,
      reason: 'too_large',
      errors: [
        {
          path: '/',
          keyword: 'maxBytes',
          message: `is ${MAX_BODY_BYTES + 1 + JSON.stringify(tx({ merchant: '' })).length} bytes; an event must fit in one stream record (1048576 bytes as an envelope), so cut it down`,
        },
      ],
    });
    // More events than one request may hold is the same limit, not malformed JSON.
    const many = prepareRedrive(registry, rec(), info, {
      event: JSON.stringify(Array.from({ length: 501 }, () => tx())),
    });
    expect(many).toMatchObject({ ok: false, reason: 'too_large' });
    expect(prepareRedrive(registry, rec(), info, { event: '{"a":' })).toMatchObject({
      ok: false,
      reason: 'malformed_json',
    });
  });

  it('reports why a record would fail again', () => {
    expect(checkFix(registry, rec(), { event: JSON.stringify(tx({ gender: 'X' })) })).toMatchObject({
      valid: false,
      type: 'transactions',
      v: 1,
      errors: [{ path: '/gender', keyword: 'enum' }],
    });
    // Said about the event being edited, not about an HTTP request to the ingest API.
    expect(checkFix(registry, rec(), { event: '{"a":' })).toMatchObject({
      valid: false,
      errors: [
        {
          path: '/',
          keyword: 'json',
          message: expect.stringMatching(/^not valid JSON \(.+\); write the event as one JSON object$/),
        },
      ],
    });
    for (const [event, message] of [
      ['  ', 'is empty; write the event as one JSON object'],
      ['42', 'is a JSON number, not an object; write the event as one JSON object'],
      ['[]', 'is an empty JSON array; write the event as one JSON object'],
    ]) {
      const c = checkFix(registry, rec(), { event: event! });
      expect(c).toEqual({
        valid: false,
        type: 'transactions',
        v: 1,
        errors: [{ path: '/', keyword: expect.any(String), message }],
      });
      expect(JSON.stringify(c)).not.toMatch(/Request body|NDJSON|send /i);
    }
    expect(checkFix(registry, rec(), { event: JSON.stringify([tx(), tx()]) })).toMatchObject({
      valid: false,
      errors: [{ message: 'holds 2 events; a re-drive puts back one event, so edit it down to one JSON object' }],
    });
    expect(checkFix(registry, rec({ type: undefined }), { event: JSON.stringify(tx()) })).toMatchObject({
      valid: false,
      errors: [{ keyword: 'type', message: expect.stringContaining('the record has no event type; choose one of') }],
    });
    expect(checkFix(registry, rec({ type: undefined }), { event: JSON.stringify(tx()), type: 'transactions' })).toEqual(
      { valid: true, type: 'transactions', v: 1, errors: [] },
    );
    expect(
      checkFix(registry, rec(), { event: JSON.stringify(tx({ trans_date_trans_time: '2026-02-30 10:00:00' })) }),
    ).toMatchObject({ valid: false });
  });
});
