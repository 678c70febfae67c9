/**
 * Test data shared by every suite: one factory per kind of thing (an id, a transactions event, a stream envelope),
 * so a change to the shape of an event is made once. Each takes overrides for what a test cares about.
 */
import type { Envelope } from '../../lib/envelope.ts';

/** A 32-hex-digit id from a number (`trans_num`, envelope ids): distinct numbers give distinct, sortable ids. */
export const hex32 = (n: number): string => n.toString(16).padStart(32, '0');

/** Today's date (UTC, `YYYY-MM-DD`): event times on it are inside every window the lake shows. */
export const today = (): string => new Date().toISOString().slice(0, 10);

/**
 * A minimal valid `transactions` event number `n`: its id `hex32(n)`, a test card number, 10:00 on `day` (default
 * today) and an amount of `n + 0.5`.
 */
export interface TestTransaction {
  trans_num: string;
  cc_num: string;
  trans_date_trans_time: string;
  amt: number;
  merchant: string;
  [field: string]: unknown;
}

export function transaction(n: number, over: Record<string, unknown> = {}, day: string = today()): TestTransaction {
  return {
    trans_num: hex32(n),
    cc_num: '4000000000000002',
    trans_date_trans_time: `${day} 10:00:00`,
    amt: n + 0.5,
    merchant: 'm',
    ...over,
  };
}

/** A stream envelope around `data`, as ingest writes it (type `transactions`, v1, source `api` unless overridden). */
export function envelope(data: unknown, over: Partial<Envelope> & Pick<Envelope, 'id' | 'event_time'>): Envelope {
  return { type: 'transactions', v: 1, received_at: '2026-03-01T10:00:00.000Z', source: 'api', data, ...over };
}

/**
 * The first trip of the Porto taxi data set (Kaggle `train.csv`) as a `taxi_trips` event: its 19-digit id as text,
 * the `NA` origins as null, a one-point polyline unless overridden.
 */
export function taxiTrip(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    TRIP_ID: '1372636858620000589',
    CALL_TYPE: 'C',
    ORIGIN_CALL: null,
    ORIGIN_STAND: null,
    TAXI_ID: 20000589,
    TIMESTAMP: 1372636858,
    DAY_TYPE: 'A',
    MISSING_DATA: false,
    POLYLINE: '[[-8.618643,41.141412]]',
    ...over,
  };
}
