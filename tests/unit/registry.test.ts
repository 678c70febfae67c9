import { describe, expect, it } from 'vitest';
import { defaultRegistry, toFieldErrors } from '../../lib/registry/registry.ts';
import { parseJson } from '../../lib/registry/json.ts';
import { taxiTrip } from '../helpers/factories.ts';

const registry = defaultRegistry();

const tx = (over: Record<string, unknown> = {}) => ({
  id: 0,
  trans_date_trans_time: '2019-01-01 00:00:18',
  cc_num: '2703186189652095',
  merchant: 'fraud_Rippin, Kub and Mann',
  category: 'misc_net',
  amt: 4.97,
  first: 'Jennifer',
  last: 'Banks',
  gender: 'F',
  street: '561 Perry Cove',
  city: 'Moravian Falls',
  state: 'NC',
  zip: '28654',
  lat: 36.0788,
  long: -81.1781,
  city_pop: 3495,
  job: 'Psychologist, counselling',
  dob: '1988-03-09',
  trans_num: '0b242abb623afc578575680df30655b9',
  unix_time: 1325376018,
  merch_lat: 36.011293,
  merch_long: -82.048315,
  is_fraud: 0,
  ...over,
});

function check(type: string, value: unknown) {
  const sv = registry.version(type);
  sv.coerceJson(value);
  const ok = sv.validate(value);
  return { ok, errors: toFieldErrors(sv.validate.errors), value };
}

describe('registry', () => {
  it('loads the three launch types with their manifests', () => {
    expect(registry.names()).toEqual(['clickstream', 'taxi_trips', 'transactions']);
    expect(registry.get('transactions').manifest.id).toEqual({ pointer: '/trans_num' });
    expect(registry.get('clickstream').partitions.map((p) => p.name)).toEqual(['section']);
    expect(() => registry.get('nope')).toThrow(
      /Unknown event type "nope"; known types: clickstream, taxi_trips, transactions/,
    );
  });

  it('accepts a real transactions row and requires trans_num and cc_num only', () => {
    expect(check('transactions', tx()).ok).toBe(true);
    expect(check('transactions', { trans_num: '0b242abb623afc578575680df30655b9', cc_num: '180042946491150' }).ok).toBe(
      true,
    );
    const missing = check('transactions', { cc_num: null });
    expect(missing.ok).toBe(false);
    expect(missing.errors).toEqual([
      { path: '/trans_num', keyword: 'required', message: "must have required property 'trans_num'" },
      { path: '/cc_num', keyword: 'type', message: 'must be text' },
    ]);
  });

  it('reports each bad field at its JSON path', () => {
    const r = check('transactions', tx({ gender: 'X', amt: 'lots', dob: '1988-13-01', trans_num: 'xyz' }));
    expect(r.ok).toBe(false);
    expect(r.errors.map((e) => `${e.path}:${e.keyword}`).sort()).toEqual([
      '/amt:type',
      '/dob:format',
      '/gender:enum',
      '/trans_num:pattern',
    ]);
    expect(r.errors.find((e) => e.path === '/gender')!.message).toBe('must be one of "M", "F", null');
  });

  it('turns JSON numbers into exact text where the schema wants text (card numbers, zip codes)', () => {
    const r = check('transactions', tx({ cc_num: 2703186189652095, zip: 28654 }));
    expect(r.ok).toBe(true);
    expect((r.value as Record<string, unknown>).cc_num).toBe('2703186189652095');
    expect((r.value as Record<string, unknown>).zip).toBe('28654');
  });

  it('never loses digits of a 19-digit card number sent as a JSON number', () => {
    const parsed = parseJson(
      '{"cc_num": 4992346398065154184, "amt": 1.5, "trans_num": "0b242abb623afc578575680df30655b9"}',
    ) as Record<string, unknown>;
    expect(parsed.cc_num).toBe('4992346398065154184');
    expect(parsed.amt).toBe(1.5);
    expect(check('transactions', parsed).ok).toBe(true);
    // The fast path leaves ordinary documents to JSON.parse.
    expect(parseJson('{"a":12345678901234,"b":-81.17814950000001}')).toEqual({
      a: 12345678901234,
      // biome-ignore lint/correctness/noPrecisionLoss: the literal is the double the text reads as, which is the point.
      b: -81.17814950000001,
    });
  });

  it('does not coerce null into a number or a string', () => {
    const r = check('transactions', tx({ amt: null, merchant: null }));
    expect(r.ok).toBe(true);
    expect((r.value as Record<string, unknown>).amt).toBeNull();
  });

  it('validates taxi trips: call types, NA origins, polyline text', () => {
    const trip = taxiTrip({ POLYLINE: '[[-8.618643,41.141412],[-8.618499,41.141376]]' });
    expect(check('taxi_trips', trip).ok).toBe(true);
    expect(check('taxi_trips', { ...trip, POLYLINE: '[]' }).ok).toBe(true);
    expect(check('taxi_trips', { ...trip, TRIP_ID: 1372636858620000589n.toString() }).ok).toBe(true);
    const bad = check('taxi_trips', { ...trip, CALL_TYPE: 'D', POLYLINE: '[[1,2],[oops]]' });
    expect(bad.errors.map((e) => e.path).sort()).toEqual(['/CALL_TYPE', '/POLYLINE']);
    expect(bad.errors.find((e) => e.path === '/POLYLINE')!.message).toBe('does not have the expected format');
  });

  it('accepts clickstream scalars as strings, numbers or booleans, and any section text', () => {
    const ev = {
      metadata: { uuid: 'u-1', section: '../../etc/passwd' },
      payload: {
        session_time: '2.3',
        legacy_account: 'False',
        membership_status: 'nan',
        is_cart_empty: true,
        menuitem: [{ value: 'New', onclick: 'x()' }],
        text: { size: 36 },
      },
    };
    expect(check('clickstream', ev).ok).toBe(true);
    expect(check('clickstream', { metadata: { uuid: 'u', section: 'x'.repeat(10_000) }, payload: {} }).ok).toBe(true);
    const bad = check('clickstream', { metadata: { uuid: '' }, payload: 'nope' });
    expect(bad.errors.map((e) => `${e.path}:${e.keyword}`).sort()).toEqual([
      '/metadata/section:required',
      '/metadata/uuid:minLength',
      '/payload:type',
    ]);
  });
});
