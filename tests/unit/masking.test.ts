import { describe, expect, it } from 'vitest';
import { Masker, maskValue, WITHHELD } from '../../lib/masking.ts';
import { maskDetail, maskPayload } from '../../lib/quarantine/masked.ts';
import { maskRecord } from '../../lib/stream/masked.ts';
import { defaultRegistry } from '../../lib/registry/registry.ts';
import type { BrowsedRecord } from '../../lib/stream/browse.ts';

const masker = new Masker(defaultRegistry());
const tx = {
  trans_num: 'a'.repeat(32),
  cc_num: '4000000000000009',
  first: 'Jennifer',
  last: 'Banks',
  street: '561 Perry Cove',
  city: 'Moravian Falls',
  amt: 4.97,
};
const envelope = {
  id: tx.trans_num,
  type: 'transactions',
  v: 1,
  received_at: '2026-01-15T10:00:00.000Z',
  event_time: '2026-01-15T10:00:00.000Z',
  source: 'api',
  data: tx,
};
const SECRETS = ['4000000000000009', 'Jennifer', 'Banks', '561 Perry Cove', 'ann@example.org', '+351 912 345 678'];
const leaks = (value: unknown) => SECRETS.filter((s) => JSON.stringify(value).includes(s));

describe('masking for viewers', () => {
  it('masks each kind the way an operator can still tell records apart', () => {
    expect(maskValue('card', '4000000000000009')).toBe('•••• 0009');
    expect(maskValue('card', 4000000000000009)).toBe('•••• 0009');
    expect(maskValue('card', '123')).toBe('••••');
    expect(maskValue('name', 'Élodie')).toBe('É••••');
    expect(maskValue('email', 'ann@example.org')).toBe('a••••@example.org');
    expect(maskValue('street', '561 Perry Cove')).toBe('••••');
    expect(maskValue('text', 'x')).toBe('••••');
    expect([maskValue('name', null), maskValue('name', '')]).toEqual([null, '']);
  });

  it("masks the manifest's fields of each type, nested ones included, and nothing else", () => {
    expect(masker.maskData('transactions', tx)).toEqual({
      ...tx,
      cc_num: '•••• 0009',
      first: 'J••••',
      last: 'B••••',
      street: '••••',
    });
    const click = {
      metadata: { uuid: 'u1' },
      payload: { email_id: 'ann@example.org', contact: '+351 912 345 678', userid: 'x' },
    };
    expect(masker.maskData('clickstream', click)).toEqual({
      metadata: { uuid: 'u1' },
      payload: { email_id: 'a••••@example.org', contact: '••••', userid: 'x' },
    });
    // The original is untouched; a type without sensitive fields passes as it is.
    expect(tx.cc_num).toBe('4000000000000009');
    expect(masker.maskData('taxi_trips', { TRIP_ID: 'T1' })).toEqual({ TRIP_ID: 'T1' });
  });

  it('masks stream records, their partition key (the card) included, and withholds what is not an envelope', () => {
    const text = JSON.stringify(envelope);
    const r: BrowsedRecord = {
      sequenceNumber: '1',
      partitionKey: tx.cc_num,
      arrivedAt: envelope.received_at,
      bytes: text.length,
      text,
      encoding: 'utf8',
      json: envelope,
    };
    const m = maskRecord(masker, r);
    expect(leaks(m)).toEqual([]);
    expect([m.partitionKey, (m.json as typeof envelope).data.cc_num, m.bytes]).toEqual([
      '•••• 0009',
      '•••• 0009',
      r.bytes,
    ]);
    expect(JSON.parse(m.text)).toEqual(m.json);
    const odd = maskRecord(masker, { ...r, text: `card ${tx.cc_num}`, json: undefined });
    expect([odd.text, odd.partitionKey, 'json' in odd]).toEqual([WITHHELD, WITHHELD, false]);
    const unknown = maskRecord(masker, { ...r, json: { ...envelope, type: 'nope' }, text: '' });
    expect([(unknown.json as { data: unknown }).data, leaks(unknown)]).toEqual([WITHHELD, []]);
  });

  it('masks quarantined payloads (an event from ingest, an envelope from a consumer) and the event to fix', () => {
    const fromIngest = { payload: JSON.stringify(tx), payload_encoding: 'utf8' as const, type: 'transactions' };
    expect(leaks(maskPayload(masker, fromIngest))).toEqual([]);
    expect(JSON.parse(maskPayload(masker, fromIngest)).amt).toBe(4.97);
    const fromConsumer = { payload: JSON.stringify(envelope), payload_encoding: 'utf8' as const };
    expect(JSON.parse(maskPayload(masker, fromConsumer)).data.first).toBe('J••••');
    expect(
      maskPayload(masker, { payload: `{"cc_num": "${tx.cc_num}"`, payload_encoding: 'utf8', type: 'transactions' }),
    ).toBe(WITHHELD);
    expect(maskPayload(masker, { payload: 'AAAA', payload_encoding: 'base64', type: 'transactions' })).toBe(WITHHELD);
    const detail = maskDetail(masker, {
      entry: { qid: 'q', key: 'k', line: 0, status: 'open', record: { ...fromIngest, id: 'x' } as never },
      source: { type: 'transactions', event: JSON.stringify(tx), id: 'x', receivedAt: '' },
    });
    expect(leaks(detail)).toEqual([]);
  });
});
