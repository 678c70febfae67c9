import { describe, expect, it } from 'vitest';
import { buildEnvelope, parseEnvelope, partitionKeyOf, serializeEnvelope, toIsoTime } from '../../lib/envelope.ts';
import { defaultRegistry } from '../../lib/registry/registry.ts';

const registry = defaultRegistry();
const received = '2026-11-23T10:00:00.123Z';

describe('event time', () => {
  it('reads each declared format as ISO-8601 UTC with milliseconds', () => {
    expect(toIsoTime('2019-01-01 00:00:18', 'datetime-space')).toBe('2019-01-01T00:00:18.000Z');
    expect(toIsoTime('2024-02-29 23:59:59.5', 'datetime-space')).toBe('2024-02-29T23:59:59.500Z');
    expect(toIsoTime('2000-02-29 00:00:00', 'datetime-space')).toBe('2000-02-29T00:00:00.000Z');
    expect(toIsoTime(1372636858, 'unix-seconds')).toBe('2013-07-01T00:00:58.000Z');
    expect(toIsoTime(1372636858123, 'unix-millis')).toBe('2013-07-01T00:00:58.123Z');
    expect(toIsoTime('2024-05-01T12:00:00+02:00', 'iso8601')).toBe('2024-05-01T10:00:00.000Z');
  });

  it('refuses impossible dates and unit mistakes', () => {
    expect(toIsoTime('2019-02-30 00:00:00', 'datetime-space')).toEqual({
      error: '"2019-02-30 00:00:00" is not a real calendar date-time',
    });
    for (const bad of [
      '2023-02-29 00:00:00',
      '1900-02-29 00:00:00',
      '2019-04-31 00:00:00',
      '2019-13-01 00:00:00',
      '2019-00-10 00:00:00',
      '2019-01-01 24:00:00',
      '2019-01-01 10:60:00',
    ]) {
      expect(toIsoTime(bad, 'datetime-space')).toEqual({
        error: `${JSON.stringify(bad)} is not a real calendar date-time`,
      });
    }
    expect(toIsoTime('yesterday', 'datetime-space')).toEqual({ error: 'must be a date-time "YYYY-MM-DD HH:MM:SS"' });
    expect(toIsoTime(1372636858123000, 'unix-seconds')).toEqual({
      error: '1372636858123000 is outside 1970-01-01..9999-12-31',
    });
  });
});

describe('buildEnvelope', () => {
  it('uses the id field, event time and partition key of the type', () => {
    const type = registry.get('transactions');
    const data = {
      trans_num: '0b242abb623afc578575680df30655b9',
      cc_num: '2703186189652095',
      trans_date_trans_time: '2019-01-01 00:00:18',
    };
    const r = buildEnvelope({ type, v: 1, data, receivedAt: received, source: 'api' });
    expect(r).toEqual({
      ok: true,
      partitionKey: '2703186189652095',
      envelope: {
        id: '0b242abb623afc578575680df30655b9',
        type: 'transactions',
        v: 1,
        received_at: received,
        event_time: '2019-01-01T00:00:18.000Z',
        source: 'api',
        data,
      },
    });
    expect(Object.keys((r as { envelope: object }).envelope)).toEqual([
      'id',
      'type',
      'v',
      'received_at',
      'event_time',
      'source',
      'data',
    ]);
  });

  it('falls back to received time, and to a UUIDv7 id, and keeps ids and redrive blocks it is given', () => {
    const type = registry.get('clickstream');
    const r = buildEnvelope({
      type,
      v: 1,
      data: { metadata: { uuid: 'abc', section: 'home' }, payload: { userid: 42 } },
      receivedAt: received,
      source: 'api',
    });
    expect(r.ok && r.envelope.event_time).toBe(received);
    expect(r.ok && r.partitionKey).toBe('42');
    const noId = buildEnvelope({
      type,
      v: 1,
      data: { metadata: {}, payload: {} },
      receivedAt: received,
      source: 'api',
    });
    expect(noId.ok && noId.envelope.id).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(noId.ok && noId.partitionKey).toBe(noId.ok && noId.envelope.id);
    const redrive = { job: 'j1', at: received, by: 'ops', attempt: 2 };
    const re = buildEnvelope({
      type,
      v: 1,
      data: { metadata: { uuid: 'abc' } },
      receivedAt: received,
      source: 'redrive',
      id: 'orig',
      redrive,
    });
    expect(re.ok && re.envelope).toMatchObject({ id: 'orig', source: 'redrive', redrive });
  });

  it('never uses a constant or over-long partition key', () => {
    const type = registry.get('transactions');
    expect(partitionKeyOf(type, { cc_num: 'x'.repeat(300) }, 'id-1')).toMatch(/^[0-9a-f]{64}$/);
    expect(partitionKeyOf(type, {}, 'id-1')).toBe('id-1');
  });

  it("refuses event times outside the days the lake shows (Athena's dt projection), at the field, and counts from the write", () => {
    const tx = registry.get('transactions');
    const taxi = registry.get('taxi_trips');
    const at = (t: string, now?: number) =>
      buildEnvelope({
        type: tx,
        v: 1,
        data: { trans_date_trans_time: t },
        receivedAt: received,
        source: 'api',
        ...(now !== undefined ? { now } : {}),
      });
    const now = Date.parse(received);
    // The data we replace: taxi trips of 2013, card transactions of 2019, a replay of a 1985 export, a clock a day ahead.
    expect(
      buildEnvelope({ type: taxi, v: 1, data: { TIMESTAMP: 1372636858 }, receivedAt: received, source: 'api', now }).ok,
    ).toBe(true);
    for (const t of ['2019-01-01 00:00:18', '1985-06-01 10:00:00', '1970-01-01 00:00:00', '2026-11-24 23:59:59'])
      expect(at(t, now).ok, t).toBe(true);
    expect(at('2026-11-25 00:00:00', now)).toEqual({
      ok: false,
      errors: [
        {
          path: '/trans_date_trans_time',
          keyword: 'range',
          message:
            '"2026-11-25 00:00:00" (2026-11-25T00:00:00.000Z) is after 2026-11-24, the last day the lake\'s tables show (1 day after now); check the producer\'s clock and time zone, and the unit of the time',
        },
      ],
    });
    expect(
      buildEnvelope({ type: taxi, v: 1, data: { TIMESTAMP: 4102444800 }, receivedAt: received, source: 'api', now }),
    ).toMatchObject({ ok: false, errors: [{ path: '/TIMESTAMP', keyword: 'range' }] });
    expect(
      buildEnvelope({ type: taxi, v: 1, data: { TIMESTAMP: -1 }, receivedAt: received, source: 'api', now }),
    ).toEqual({
      ok: false,
      errors: [{ path: '/TIMESTAMP', keyword: 'format', message: '-1 is outside 1970-01-01..9999-12-31' }],
    });
    // A re-drive keeps its received time; a day that was ahead then is visible by the time it is written again.
    expect(at('2026-11-25 00:00:00', now + 2 * 86_400_000).ok).toBe(true);
  });

  it('reports an impossible event time as a schema error at its path', () => {
    const type = registry.get('transactions');
    const r = buildEnvelope({
      type,
      v: 1,
      data: { trans_date_trans_time: '2019-02-29 10:00:00' },
      receivedAt: received,
      source: 'api',
    });
    expect(r).toEqual({
      ok: false,
      errors: [
        {
          path: '/trans_date_trans_time',
          keyword: 'format',
          message: '"2019-02-29 10:00:00" is not a real calendar date-time',
        },
      ],
    });
  });
});

describe('parseEnvelope', () => {
  it('reads a valid envelope and rejects others with a reason', () => {
    const env = {
      id: 'a',
      type: 'transactions',
      v: 1,
      received_at: received,
      event_time: '2019-01-01T00:00:18Z',
      source: 'api',
      data: {},
    };
    expect(parseEnvelope(JSON.stringify(env)).event_time).toBe('2019-01-01T00:00:18.000Z');
    expect(() => parseEnvelope('{nope')).toThrow(/Record is not JSON/);
    expect(() => parseEnvelope('[1]')).toThrow(/not a JSON object envelope/);
    expect(() => parseEnvelope(JSON.stringify({ ...env, id: '', event_time: 'soon' }))).toThrow(
      'Record is not a Tributary envelope: "id" must be a non-empty string; "event_time" must be an ISO-8601 string.',
    );
  });

  it('refuses text that is not Unicode (a lone surrogate escape) at its path, as ingest does, for producers that write to the stream', () => {
    const env = {
      id: 'a',
      type: 'clickstream',
      v: 1,
      received_at: received,
      event_time: '2019-01-01T00:00:18Z',
      source: 'producer',
      data: { page: { 'a/b': ['ok', 'x\ud800'] } },
    };
    // JSON.stringify writes the lone half as the escape \ud800, the only way such a text reaches the stream.
    const text = JSON.stringify(env);
    expect(text).toContain('\\ud800');
    expect(() => parseEnvelope(text)).toThrow(
      'Record is not a Tributary envelope: /data/page/a~1b/1 has an unpaired surrogate escape (such as \\ud800) and is not Unicode text.',
    );
    expect(() => parseEnvelope(JSON.stringify({ ...env, data: { 'k\udc00': 1 } }))).toThrow(
      /\/data\/k\uFFFD has an unpaired/,
    );
    // A whole pair, escaped or not, is text.
    expect(parseEnvelope(JSON.stringify({ ...env, data: { s: '\ud83d\ude00' } })).data).toEqual({ s: '😀' });
    expect(parseEnvelope(text.replace('x\\ud800', '\\ud83d\\ude00')).data).toEqual({ page: { 'a/b': ['ok', '😀'] } });
  });

  it('refuses an event time outside the days the lake shows, as ingest does, for producers that write to the stream', () => {
    const env = { id: 'a', type: 'transactions', v: 1, received_at: received, source: 'producer', data: {} };
    expect(() => parseEnvelope(JSON.stringify({ ...env, event_time: '1969-12-31T23:59:59Z' }))).toThrow(
      'Record is not a Tributary envelope: "event_time" "1969-12-31T23:59:59Z" is before 1970-01-01, the first day the lake\'s tables show.',
    );
    const far = new Date(Date.now() + 3 * 86_400_000).toISOString();
    expect(() => parseEnvelope(JSON.stringify({ ...env, event_time: far }))).toThrow(
      /"event_time" ".*" is after \d{4}-\d{2}-\d{2}, the last day the lake's tables show \(1 day after now\)/,
    );
    const tomorrow = new Date(Date.now() + 86_400_000 - 60_000).toISOString();
    expect(parseEnvelope(JSON.stringify({ ...env, event_time: tomorrow })).event_time).toBe(tomorrow);
  });
});

describe('serializeEnvelope', () => {
  it('assembles the line around the event text byte for byte as JSON.stringify of the whole envelope', () => {
    const data = { trans_num: 'a'.repeat(32), cc_num: '4111111111111111', n: [1, { x: 'é\u2028"' }] };
    const env = {
      id: 'a',
      type: 'transactions',
      v: 1,
      received_at: received,
      event_time: received,
      source: 'api',
      data,
    };
    expect(serializeEnvelope(env, JSON.stringify(data))).toBe(JSON.stringify(env));
    const re = { ...env, redrive: { job: 'j', at: received, by: 'ops', attempt: 1 } };
    expect(serializeEnvelope(re, JSON.stringify(data))).toBe(JSON.stringify(re));
  });
});
