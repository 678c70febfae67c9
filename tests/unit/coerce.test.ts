import { describe, expect, it } from 'vitest';
import { defaultRegistry, toFieldErrors } from '../../lib/registry/registry.ts';
import { COERCE_CHANGED, compileCsvCoercer } from '../../lib/registry/coerce.ts';
import { taxiTrip } from '../helpers/factories.ts';

const registry = defaultRegistry();

describe('CSV coercion by schema', () => {
  it('coerces a transactions CSV row: numbers, NA/empty → null, card number kept as exact text', () => {
    const row = {
      id: '7',
      trans_date_trans_time: '2019-01-01 00:00:18',
      cc_num: '4992346398065154184',
      amt: '107.23',
      gender: 'F',
      zip: '01103',
      lat: '36.0788',
      city_pop: '3495',
      merchant: '',
      job: 'NA',
      unix_time: '1325376018',
      is_fraud: '1',
      trans_num: '0b242abb623afc578575680df30655b9',
    };
    const out = registry.version('transactions').coerceCsv({ ...row }) as Record<string, unknown>;
    expect(out).toEqual({
      id: 7,
      trans_date_trans_time: '2019-01-01 00:00:18',
      cc_num: '4992346398065154184',
      amt: 107.23,
      gender: 'F',
      zip: '01103',
      lat: 36.0788,
      city_pop: 3495,
      merchant: null,
      job: null,
      unix_time: 1325376018,
      is_fraud: 1,
      trans_num: '0b242abb623afc578575680df30655b9',
    });
    expect(registry.version('transactions').validate(out)).toBe(true);
  });

  it('coerces taxi CSV: "NA" origins to null, "False" to false, quoted 19-digit trip id stays text', () => {
    const out = registry.version('taxi_trips').coerceCsv({
      TRIP_ID: '1372636858620000589',
      CALL_TYPE: 'C',
      ORIGIN_CALL: 'NA',
      ORIGIN_STAND: '',
      TAXI_ID: '20000589',
      TIMESTAMP: '1372636858',
      DAY_TYPE: 'A',
      MISSING_DATA: 'False',
      POLYLINE: '[[-8.618643,41.141412]]',
    });
    expect(out).toEqual(taxiTrip());
    expect(registry.version('taxi_trips').validate(out)).toBe(true);
  });

  it('reads pandas-style integral floats as integers and 0/1 as booleans', () => {
    const out = registry.version('taxi_trips').coerceCsv({
      ORIGIN_STAND: '15.0',
      ORIGIN_CALL: '31508',
      MISSING_DATA: '1',
      TIMESTAMP: '1372636858.0',
    }) as Record<string, unknown>;
    expect(out).toEqual({ ORIGIN_STAND: 15, ORIGIN_CALL: 31508, MISSING_DATA: true, TIMESTAMP: 1372636858 });
    expect(
      (registry.version('taxi_trips').coerceCsv({ ORIGIN_STAND: '15.5' }) as Record<string, unknown>).ORIGIN_STAND,
    ).toBe('15.5');
  });

  it('reads pandas\' "nan" as null where a field holds no text, and keeps it as text where it may (the site sends "nan")', () => {
    const taxi = registry
      .version('taxi_trips')
      .coerceCsv({ ORIGIN_CALL: 'nan', ORIGIN_STAND: 'NaN', TAXI_ID: 'nan' }) as Record<string, unknown>;
    // TAXI_ID may not be null: the text stays, so validation names the field.
    expect(taxi).toEqual({ ORIGIN_CALL: null, ORIGIN_STAND: null, TAXI_ID: 'nan' });
    const tx = registry
      .version('transactions')
      .coerceCsv({ amt: 'nan', city_pop: 'NaN', is_fraud: 'nan', job: 'nan' }) as Record<string, unknown>;
    expect(tx).toEqual({ amt: null, city_pop: null, is_fraud: null, job: 'nan' });
    const click = registry
      .version('clickstream')
      .coerceCsv({ metadata: { uuid: 'u' }, payload: { session_time: 'nan' } }) as Record<string, unknown>;
    expect(click.payload).toEqual({ session_time: 'nan' });
  });

  it('leaves text that is not a number as text so validation reports it', () => {
    const out = registry
      .version('taxi_trips')
      .coerceCsv({ TAXI_ID: '12abc', TIMESTAMP: '99999999999999999999' }) as Record<string, unknown>;
    expect(out.TAXI_ID).toBe('12abc');
    // Beyond 2^53 an integer cannot be exact, so it is not converted.
    expect(out.TIMESTAMP).toBe('99999999999999999999');
  });

  it('keeps an empty cell where null is not allowed, and the refusal says the field is empty', () => {
    const sv = registry.version('taxi_trips');
    const trip = { ...taxiTrip(), TAXI_ID: '', MISSING_DATA: '', TRIP_ID: '' } as Record<string, unknown>;
    const out = sv.coerceCsv(
      Object.fromEntries(Object.entries(trip).map(([k, v]) => [k, v === null ? '' : String(v)])),
    );
    expect(out).toMatchObject({ TAXI_ID: '', MISSING_DATA: '', TRIP_ID: '' });
    expect(sv.validate(out)).toBe(false);
    expect(toFieldErrors(sv.validate.errors, out)).toEqual([
      { path: '/TRIP_ID', keyword: 'minLength', message: 'is empty; must NOT have fewer than 1 characters' },
      { path: '/TAXI_ID', keyword: 'type', message: 'is empty; must be a whole number' },
      { path: '/MISSING_DATA', keyword: 'type', message: 'is empty; must be true or false' },
    ]);
    // Without the value the wording is ajv's own, and a column that is absent is still reported as missing.
    expect(toFieldErrors(sv.validate.errors)[1]!.message).toBe('must be a whole number');
    const { TAXI_ID: _, ...noColumn } = sv.coerceCsv({
      ...(out as Record<string, unknown>),
      TAXI_ID: '7',
      TRIP_ID: 'T1',
      MISSING_DATA: 'False',
    }) as Record<string, unknown>;
    expect(sv.validate(noColumn)).toBe(false);
    expect(toFieldErrors(sv.validate.errors, noColumn)).toEqual([
      { path: '/TAXI_ID', keyword: 'required', message: "must have required property 'TAXI_ID'" },
    ]);
  });

  it('walks nested objects and $refs', () => {
    const schema = {
      type: 'object',
      $defs: { n: { type: ['integer', 'null'] } },
      properties: { a: { type: 'object', properties: { b: { $ref: '#/$defs/n' }, c: { type: 'boolean' } } } },
    };
    expect(compileCsvCoercer(schema)({ a: { b: '12', c: 'TRUE' } })).toEqual({ a: { b: 12, c: true } });
    expect(compileCsvCoercer(schema)({ a: { b: 'NA', c: 'maybe' } })).toEqual({ a: { b: null, c: 'maybe' } });
  });
});

describe('JSON coercion by schema', () => {
  const coerce = registry.version('transactions').coerceJson;
  it('turns numbers into text where the schema wants text, and says so', () => {
    const v: Record<string, unknown> = { cc_num: 4111111111111111, zip: 1257, amt: 3 };
    expect(coerce(v)).toBe(COERCE_CHANGED);
    expect(v).toEqual({ cc_num: '4111111111111111', zip: '1257', amt: 3 });
    expect(coerce({ cc_num: '4111111111111111', amt: null })).toBe(0);
  });
  it('never writes the digits of a double it cannot hold exactly as text (the schema then refuses the number)', () => {
    const v: Record<string, unknown> = JSON.parse('{"cc_num": 4.992346398065154e+18, "zip": 1e21}');
    expect(coerce(v)).toBe(0);
    expect(v).toEqual({ cc_num: 4992346398065154000, zip: 1e21 });
    const taxi: Record<string, unknown> = { TRIP_ID: 1.3726368586200005e18 };
    registry.version('taxi_trips').coerceJson(taxi);
    expect(taxi.TRIP_ID).toBe(1.3726368586200005e18);
  });
});
