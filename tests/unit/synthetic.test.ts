import { describe, expect, it } from 'vitest';
import { syntheticEvents } from '../../lib/produce/synthetic.ts';
import { defaultRegistry } from '../../lib/registry/registry.ts';
import { buildEnvelope } from '../../lib/envelope.ts';

const registry = defaultRegistry();

describe('synthetic events', () => {
  for (const type of ['transactions', 'taxi_trips', 'clickstream']) {
    it(`${type}: exactly round(count × ratio) invalid, every other one valid, same seed same events`, () => {
      const events = [...syntheticEvents(type, 1000, { invalidRatio: 0.07, seed: 42 })];
      const sv = registry.version(type);
      let invalid = 0;
      for (const e of events) {
        let ok = false;
        if (e.raw === undefined) {
          const v = structuredClone(e.value);
          sv.coerceJson(v);
          ok =
            sv.validate(v) &&
            buildEnvelope({
              type: registry.get(type),
              v: 1,
              data: v,
              receivedAt: new Date().toISOString(),
              source: 'producer',
            }).ok;
        } else {
          expect(() => JSON.parse(e.raw!)).toThrow();
        }
        expect(ok, JSON.stringify(e).slice(0, 300)).toBe(e.valid);
        if (!ok) invalid++;
      }
      expect(invalid).toBe(70);
      expect([...syntheticEvents(type, 1000, { invalidRatio: 0.07, seed: 42 })]).toEqual(events);
      expect([...syntheticEvents(type, 50, { seed: 43 })]).not.toEqual(events.slice(0, 50));
    });
  }

  it('produces the shapes of the real data sets: 11- to 19-digit card numbers, alphanumeric and 19-digit trip ids, empty polylines', () => {
    const tx = [...syntheticEvents('transactions', 2000, { seed: 5 })].map((e) => e.value!);
    expect(new Set(tx.map((t) => String(t.cc_num).length))).toEqual(new Set([11, 12, 13, 14, 15, 16, 19]));
    const trips = [...syntheticEvents('taxi_trips', 2000, { seed: 5 })].map((e) => e.value!);
    const ids = trips.map((t) => String(t.TRIP_ID));
    expect(ids.some((id) => /^T[0-9]+$/.test(id))).toBe(true);
    expect(ids.some((id) => /^[0-9]{19}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(trips.some((t) => t.POLYLINE === '[]')).toBe(true);
  });
});
