import { EnvelopeError, parseEnvelope, type Envelope } from '../envelope.ts';
import { errorMessage } from '../errors.ts';
import { parseJson } from '../registry/json.ts';
import type { FieldError } from '../registry/registry.ts';
import type { QuarantineReason } from '../quarantine/record.ts';
import type { StreamRecord } from '../stream/records.ts';

/** The only event type the OLTP sink loads. */
export const SINK_TYPE = 'transactions';

/**
 * One transactions event as the statement's parameters: every value as text (or null) and cast in SQL, so numbers
 * keep the digits they arrived with (amounts to numeric, unix times to bigint) instead of passing through a double.
 */
export interface TransactionRow {
  trans_num: string;
  cc_num: string;
  first: string | null;
  last: string | null;
  gender: string | null;
  job: string | null;
  dob: string | null;
  street: string | null;
  zip: string | null;
  lat: string | null;
  long: string | null;
  city: string | null;
  state: string | null;
  city_pop: string | null;
  merchant: string | null;
  category: string | null;
  merch_lat: string | null;
  merch_long: string | null;
  amount: string | null;
  timestamp: string | null;
  unix_time: string | null;
  is_fraud: string | null;
  /** The event time: the newer event's values win in the dimension rows. */
  as_of: string;
  received_at: string;
  source: string;
  redrive_job: string | null;
}

/** Column of the statement ← field of the event (the JSON pointer a database error is reported at). */
export const FIELD_OF: Record<
  Exclude<keyof TransactionRow, 'as_of' | 'received_at' | 'source' | 'redrive_job'>,
  string
> = {
  trans_num: '/trans_num',
  cc_num: '/cc_num',
  first: '/first',
  last: '/last',
  gender: '/gender',
  job: '/job',
  dob: '/dob',
  street: '/street',
  zip: '/zip',
  lat: '/lat',
  long: '/long',
  city: '/city',
  state: '/state',
  city_pop: '/city_pop',
  merchant: '/merchant',
  category: '/category',
  merch_lat: '/merch_lat',
  merch_long: '/merch_long',
  amount: '/amt',
  timestamp: '/trans_date_trans_time',
  unix_time: '/unix_time',
  is_fraud: '/is_fraud',
};

export type Decoded =
  /** Not for this sink: another type, or a record the lake writer quarantines (it owns undecodable records). */
  | { kind: 'skip' }
  | { kind: 'row'; row: TransactionRow; envelope: Envelope }
  /** A transactions envelope the database could never take as it is. */
  | { kind: 'reject'; envelope: Envelope; reason: QuarantineReason; errors: FieldError[] };

function scalar(data: Record<string, unknown>, field: string, errors: FieldError[]): string | null {
  const v = data[field];
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  errors.push({
    path: `/${field}`,
    keyword: 'type',
    message: `must be a string, number or null, not ${Array.isArray(v) ? 'an array' : 'an object'}`,
  });
  return null;
}

/**
 * Reads one stream record for the sink. Envelopes are read losslessly (a unix time beyond 2^53 keeps its digits).
 * Events that ingest validated always decode; a record written to the stream some other way may lack the keys the
 * tables need and is rejected here, before any SQL, with the field to fix.
 */
export function decodeRecord(record: StreamRecord): Decoded {
  let envelope: Envelope;
  try {
    envelope = parseEnvelope(record.data.toString('utf8'), parseJson);
  } catch (err) {
    if (err instanceof EnvelopeError) return { kind: 'skip' };
    throw err;
  }
  if (envelope.type !== SINK_TYPE) return { kind: 'skip' };
  const data = envelope.data;
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    return {
      kind: 'reject',
      envelope,
      reason: 'schema_violation',
      errors: [{ path: '', keyword: 'type', message: 'the event must be a JSON object' }],
    };
  }
  const d = data as Record<string, unknown>;
  const errors: FieldError[] = [];
  const text = (f: string) => scalar(d, f, errors);
  const trans_num = text('trans_num');
  const cc_num = text('cc_num');
  if (trans_num === null || trans_num === '')
    errors.push({
      path: '/trans_num',
      keyword: 'required',
      message: 'the transaction needs its trans_num (the primary key)',
    });
  if (cc_num === null || cc_num === '')
    errors.push({
      path: '/cc_num',
      keyword: 'required',
      message: 'the transaction needs the card number (it identifies the customer)',
    });
  const time = text('trans_date_trans_time');
  const row: TransactionRow = {
    trans_num: trans_num ?? '',
    cc_num: cc_num ?? '',
    first: text('first'),
    last: text('last'),
    gender: text('gender'),
    job: text('job'),
    dob: text('dob'),
    street: text('street'),
    zip: text('zip'),
    lat: text('lat'),
    long: text('long'),
    city: text('city'),
    state: text('state'),
    city_pop: text('city_pop'),
    merchant: text('merchant'),
    category: text('category'),
    merch_lat: text('merch_lat'),
    merch_long: text('merch_long'),
    amount: text('amt'),
    // The source writes UTC without an offset; say so, or the session's TimeZone would decide.
    timestamp: time === null ? null : `${time}+00`,
    unix_time: text('unix_time'),
    is_fraud: text('is_fraud'),
    as_of: envelope.event_time,
    received_at: envelope.received_at,
    source: envelope.source,
    redrive_job: envelope.redrive?.job ?? null,
  };
  if (errors.length) return { kind: 'reject', envelope, reason: 'schema_violation', errors };
  return { kind: 'row', row, envelope };
}

/** A database error as the quarantine reports it: the event field it concerns, when the error names one. */
export function databaseErrors(err: unknown): FieldError[] {
  const e = err as {
    code?: string;
    column?: string;
    constraint?: string;
    table?: string;
    detail?: string;
    message?: unknown;
  };
  const message = [typeof e.message === 'string' ? e.message : errorMessage(err), e.detail].filter(Boolean).join(' — ');
  const keyword = `sqlstate:${e.code ?? 'unknown'}`;
  return [{ path: pathOfDbError(e), keyword, message }];
}

// Which event field a failing column or constraint stands for, table by table.
const COLUMN_FIELD: Record<string, Record<string, string>> = {
  city: { name: '/city', state: '/state', population: '/city_pop' },
  address: { street: '/street', zip: '/zip', lat: '/lat', long: '/long', city_id: '/city' },
  customer: { cc_num: '/cc_num', first: '/first', last: '/last', gender: '/gender', job: '/job', dob: '/dob' },
  merchant: { name: '/merchant', category: '/category', lat: '/merch_lat', long: '/merch_long' },
  transaction: {
    trans_num: '/trans_num',
    amount: '/amt',
    timestamp: '/trans_date_trans_time',
    unix_time: '/unix_time',
    is_fraud: '/is_fraud',
  },
};

function pathOfDbError(e: {
  code?: string;
  column?: string;
  constraint?: string;
  table?: string;
  detail?: string;
}): string {
  const table = e.table ? COLUMN_FIELD[e.table] : undefined;
  if (table && e.column && table[e.column]) return table[e.column]!;
  if (table && e.constraint) {
    // Postgres names check constraints <table>_<column>_check.
    const col = e.constraint.replace(new RegExp(`^${e.table}_`), '').replace(/_check$/, '');
    if (table[col]) return table[col]!;
  }
  // numeric(15,2) overflow names neither table nor column; amount is the only numeric with that precision.
  if (e.code === '22003' && /precision 15, scale 2/.test(e.detail ?? '')) return '/amt';
  return '';
}
