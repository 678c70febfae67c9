import { describe, expect, it } from 'vitest';
import { prepareEvents } from '../../lib/events/prepare.ts';
import { defaultRegistry } from '../../lib/registry/registry.ts';

// Events as the public data sets the three schemas model really export them (JSON bodies through the real ingest
// path: parse, coerce, validate, envelope). Card numbers below are from fraudTrain.csv (Kaggle "Credit Card
// Transactions Fraud Detection Dataset", generated with Sparkov) and Sparkov's tests/data/test_customers.csv; trip ids
// from the ECML/PKDD 2015 Porto taxi train.csv (19 digits) and test.csv (T1…T327).

const registry = defaultRegistry();
const receivedAt = '2026-01-15T12:00:00.000Z';

function ingest(type: string, body: string) {
  const r = prepareEvents(registry, { type, body, framing: 'json' }, receivedAt);
  return {
    accepted: r.entries.map(
      (e) => JSON.parse(Buffer.from(e.data).toString('utf8')) as { id: string; data: Record<string, unknown> },
    ),
    partitionKeys: r.entries.map((e) => e.partitionKey),
    rejected: r.rejections.map((x) => ({ index: x.index, errors: x.errors.map((e) => `${e.path} ${e.keyword}`) })),
  };
}

const txText = (cc: string, extra = '') =>
  `{"trans_num":"0b242abb623afc578575680df30655b9","trans_date_trans_time":"2019-01-01 00:00:18","cc_num":${cc}${extra}}`;

describe('transactions as fraudTrain.csv has them', () => {
  // 60416207185 was a 12-digit Maestro number beginning 0604 (Faker's prefix) until the CSV stored it as an integer.
  const cards = [
    '60416207185',
    '630423337322',
    '4838637940262',
    '38859492057661',
    '375534208663984',
    '2703186189652095',
    '4992346398065154184',
  ];

  it('accepts card numbers of every length the data set has (11 to 19 digits), as text or as JSON numbers, keeping every digit', () => {
    const body = `[${[...cards.map((c) => txText(`"${c}"`)), ...cards.map((c) => txText(c))].join(',')}]`;
    const r = ingest('transactions', body);
    expect(r.rejected).toEqual([]);
    expect(r.accepted.map((e) => e.data.cc_num)).toEqual([...cards, ...cards]);
    expect(r.partitionKeys).toEqual([...cards, ...cards]);
  });

  it('refuses what no card number is: fewer than 8 or more than 19 digits, or anything but digits', () => {
    const r = ingest(
      'transactions',
      `[${txText('"1234567"')},${txText('"12345678901234567890"')},${txText('"4111-1111-1111-1111"')},${txText('"12345678"')}]`,
    );
    expect(r.rejected).toEqual([0, 1, 2].map((index) => ({ index, errors: ['/cc_num pattern'] })));
    expect(r.accepted.map((e) => e.data.cc_num)).toEqual(['12345678']);
  });

  it('refuses a card number written as a float beyond 2^53 instead of storing digits it no longer has', () => {
    // pandas writes an int64 column with gaps as float64: 4992346398065154184 becomes 4.992346398065154e+18.
    const r = ingest('transactions', `[${txText('4.992346398065154e+18')},${txText('4992346398065154048.0')}]`);
    expect(r.rejected).toEqual([
      { index: 0, errors: ['/cc_num type'] },
      { index: 1, errors: ['/cc_num type'] },
    ]);
  });

  it('takes pandas-style integral floats for integers and a zip code that lost its leading zero', () => {
    const r = ingest(
      'transactions',
      txText(
        '630423337322',
        ',"id":1.0,"city_pop":149.0,"unix_time":1325376044.0,"is_fraud":0.0,"zip":1257,"amt":107.23',
      ),
    );
    expect(r.rejected).toEqual([]);
    expect(r.accepted[0]!.data).toMatchObject({
      id: 1,
      city_pop: 149,
      unix_time: 1325376044,
      is_fraud: 0,
      zip: '1257',
    });
  });

  it('has no length limits the source does not have, and null wherever a field may be empty', () => {
    const nulls = [
      'id',
      'merchant',
      'category',
      'amt',
      'first',
      'last',
      'gender',
      'street',
      'city',
      'state',
      'zip',
      'lat',
      'long',
      'city_pop',
      'job',
      'dob',
      'unix_time',
      'merch_lat',
      'merch_long',
      'is_fraud',
    ];
    const long = `fraud_${'Kutch, Hermiston and Farrell '.repeat(20)}`;
    const r = ingest(
      'transactions',
      `[${txText('"2703186189652095"', nulls.map((f) => `,"${f}":null`).join(''))},${txText('"2703186189652095"', `,"merchant":${JSON.stringify(long)},"job":${JSON.stringify('x'.repeat(300))}`)}]`,
    );
    expect(r.rejected).toEqual([]);
    expect(r.accepted[1]!.data.merchant).toBe(long);
  });
});

const TRIP: Record<string, string> = {
  CALL_TYPE: '"B"',
  ORIGIN_CALL: 'null',
  ORIGIN_STAND: '15',
  TAXI_ID: '20000542',
  TIMESTAMP: '1408039037',
  DAY_TYPE: '"A"',
  MISSING_DATA: 'false',
  POLYLINE: '"[[-8.585676,41.148522],[-8.585712,41.148639]]"',
};
/** A trip's JSON text with some fields' texts replaced (each name once: ingest refuses repeated names). */
const trip = (id: string, fields: Record<string, string> = {}) =>
  `{"TRIP_ID":${id},${Object.entries({ ...TRIP, ...fields })
    .map(([k, v]) => `"${k}":${v}`)
    .join(',')}}`;

describe('taxi trips as train.csv and test.csv have them', () => {
  it('takes opaque trip ids (T1 … T327 in test.csv, 19 digits in train.csv) and keeps each as the event id', () => {
    const r = ingest(
      'taxi_trips',
      `[${trip('"T1"')},${trip('"T327"')},${trip('"1372636858620000589"')},${trip('1372636858620000589')}]`,
    );
    expect(r.rejected).toEqual([]);
    expect(r.accepted.map((e) => [e.id, e.data.TRIP_ID])).toEqual([
      ['T1', 'T1'],
      ['T327', 'T327'],
      ['1372636858620000589', '1372636858620000589'],
      ['1372636858620000589', '1372636858620000589'],
    ]);
  });

  it('bounds a trip id only by what the envelope keeps as an event id (1 to 1024 characters)', () => {
    const max = `"${'T'.repeat(1024)}"`;
    const r = ingest('taxi_trips', `[${trip(max)},${trip(`"${'T'.repeat(1025)}"`)},${trip('""')}]`);
    expect(r.accepted.map((e) => e.id)).toEqual(['T'.repeat(1024)]);
    expect(r.rejected).toEqual([
      { index: 1, errors: ['/TRIP_ID maxLength'] },
      { index: 2, errors: ['/TRIP_ID minLength'] },
    ]);
  });

  it('refuses a trip id written as a float (its digits are gone) rather than inventing one', () => {
    const r = ingest('taxi_trips', trip('1.3726368586200005e+18'));
    expect(r.rejected).toEqual([{ index: 0, errors: ['/TRIP_ID type'] }]);
  });

  it('takes NA origins, pandas floats, an empty polyline and spaced pairs', () => {
    const r = ingest(
      'taxi_trips',
      `[${trip('"T2"', { ORIGIN_STAND: '15.0', TIMESTAMP: '1408039037.0', TAXI_ID: '20000542.0' })},${trip('"T3"', { CALL_TYPE: '"A"', ORIGIN_CALL: '31508.0', ORIGIN_STAND: 'null', POLYLINE: '"[]"', MISSING_DATA: 'true' })},${trip('"T4"', { POLYLINE: '"[[-8.585676, 41.148522], [-8.585712, 41.148639]]"' })}]`,
    );
    expect(r.rejected).toEqual([]);
    expect(r.accepted.map((e) => [e.data.ORIGIN_CALL, e.data.ORIGIN_STAND, e.data.TIMESTAMP])).toEqual([
      [null, 15, 1408039037],
      [31508, null, 1408039037],
      [null, 15, 1408039037],
    ]);
  });

  it('leaves the event-time range to the envelope (one rule for every type), still refusing unit mistakes at /TIMESTAMP', () => {
    const r = ingest(
      'taxi_trips',
      `[${trip('"T5"', { TIMESTAMP: '-1' })},${trip('"T6"', { TIMESTAMP: '1408039037000000' })}]`,
    );
    expect(r.rejected).toEqual([
      { index: 0, errors: ['/TIMESTAMP format'] },
      { index: 1, errors: ['/TIMESTAMP format'] },
    ]);
  });
});

describe('clickstream as the site sends it', () => {
  it('takes ids that are not UUIDs, numbers as strings, "nan", nulls, and values of any length', () => {
    const events = [
      {
        metadata: { uuid: 'u-1', section: 'home' },
        payload: { userid: '1001', session_time: '2.3', legacy_account: 'False', membership_status: 'nan' },
      },
      {
        metadata: { uuid: 12345, section: '' },
        payload: { userid: 1001, session_time: 2.3, is_cart_empty: true, menuitem: null, text: null },
      },
      {
        metadata: { uuid: 'u-3', section: 'cart' },
        payload: {
          userid: null,
          email_id: null,
          contact: null,
          session_time: null,
          text: { data: 'x'.repeat(5000), size: 36 },
        },
      },
      {
        metadata: { uuid: 'u-4', section: 'x'.repeat(70_000) },
        payload: { menuitem: Array.from({ length: 1001 }, (_, i) => ({ value: `item ${i}`, onclick: null })) },
      },
    ];
    const r = ingest('clickstream', JSON.stringify(events));
    expect(r.rejected).toEqual([]);
    expect(r.accepted.map((e) => e.id)).toEqual(['u-1', '12345', 'u-3', 'u-4']);
  });
});
