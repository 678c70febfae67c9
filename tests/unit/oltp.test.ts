import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.ts';
import { databaseUrl, failureKind, redactUrl } from '../../lib/oltp/db.ts';
import { MIGRATIONS, migrationChecksum } from '../../lib/oltp/migrations.ts';
import { databaseErrors, decodeRecord } from '../../lib/oltp/rows.ts';
import { APPLY_SQL } from '../../lib/oltp/apply.ts';
import { ConfigError } from '../../lib/errors.ts';
import type { StreamRecord } from '../../lib/stream/records.ts';

const rec = (data: unknown, extra: Record<string, unknown> = {}, raw?: string): StreamRecord => ({
  shardId: 'shardId-000000000000',
  sequenceNumber: '1',
  partitionKey: 'k',
  arrivedAt: 0,
  data: Buffer.from(
    raw ??
      JSON.stringify({
        id: 'x',
        type: 'transactions',
        v: 1,
        received_at: '2024-01-01T00:00:00.000Z',
        event_time: '2024-01-01T12:00:00.000Z',
        source: 'api',
        data,
        ...extra,
      }),
  ),
});

describe('decodeRecord', () => {
  it('turns a transactions envelope into text parameters without losing digits', () => {
    const d = decodeRecord(
      rec(
        null,
        {},
        `{"id":"x","type":"transactions","v":1,"received_at":"2024-01-01T00:00:00.000Z","event_time":"2024-01-01T12:00:00.000Z","source":"redrive","redrive":{"job":"j9","at":"2024-01-02T00:00:00.000Z","by":"ops","attempt":1},"data":{"trans_num":"ab","cc_num":"0400000000000000001","amt":12.5,"unix_time":123456789012345678901,"is_fraud":1,"trans_date_trans_time":"2019-01-01 00:00:18","first":"O'Brien"}}`,
      ),
    );
    expect(d.kind).toBe('row');
    if (d.kind !== 'row') return;
    expect(d.row).toMatchObject({
      trans_num: 'ab',
      cc_num: '0400000000000000001',
      amount: '12.5',
      unix_time: '123456789012345678901',
      is_fraud: '1',
      timestamp: '2019-01-01 00:00:18+00',
      first: "O'Brien",
      last: null,
      as_of: '2024-01-01T12:00:00.000Z',
      source: 'redrive',
      redrive_job: 'j9',
    });
  });

  it('skips other types and records the lake writer quarantines, and rejects what the tables cannot key', () => {
    expect(decodeRecord(rec({ a: 1 }, { type: 'clickstream' }))).toEqual({ kind: 'skip' });
    expect(decodeRecord(rec(null, {}, 'not json'))).toEqual({ kind: 'skip' });
    expect(decodeRecord(rec(null, {}, '{"type":"transactions"}'))).toEqual({ kind: 'skip' });
    const noKeys = decodeRecord(rec({ first: 'x' }));
    expect(noKeys.kind === 'reject' && noKeys.errors.map((e) => e.path)).toEqual(['/trans_num', '/cc_num']);
    const nested = decodeRecord(rec({ trans_num: 'a', cc_num: '4000000000000000', city: { name: 'x' } }));
    expect(nested.kind === 'reject' && [nested.reason, nested.errors]).toEqual([
      'schema_violation',
      [{ path: '/city', keyword: 'type', message: 'must be a string, number or null, not an object' }],
    ]);
    const notObject = decodeRecord(rec([1, 2]));
    expect(notObject.kind === 'reject' && notObject.errors[0]!.message).toBe('the event must be a JSON object');
  });
});

describe('database failures', () => {
  it('blames the event only for data, constraint and size-limit errors; conflicts retry; everything else is an outage', () => {
    expect(failureKind({ code: '22003' })).toBe('rejected');
    expect(failureKind({ code: '23502' })).toBe('rejected');
    // A key too long for its btree index: the row can never go in.
    expect(failureKind({ code: '54000' })).toBe('rejected');
    expect(failureKind({ code: '40P01' })).toBe('conflict');
    expect(failureKind({ code: '40001' })).toBe('conflict');
    expect(failureKind({ code: '57P01' })).toBe('unavailable');
    expect(failureKind({ code: '42P01' })).toBe('unavailable');
    expect(failureKind({ code: 'ECONNREFUSED' })).toBe('unavailable');
    expect(failureKind(new Error('Connection terminated unexpectedly'))).toBe('unavailable');
  });

  it('points a database error at the event field it concerns', () => {
    expect(
      databaseErrors({
        code: '23502',
        table: 'address',
        column: 'city_id',
        message: 'null value in column "city_id"',
      })[0],
    ).toMatchObject({ path: '/city', keyword: 'sqlstate:23502' });
    expect(
      databaseErrors({
        code: '23514',
        table: 'customer',
        constraint: 'customer_gender_check',
        message: 'violates check constraint',
      })[0]!.path,
    ).toBe('/gender');
    expect(
      databaseErrors({
        code: '22003',
        message: 'numeric field overflow',
        detail: 'A field with precision 15, scale 2 must round to an absolute value less than 10^13.',
      })[0],
    ).toEqual({
      path: '/amt',
      keyword: 'sqlstate:22003',
      message:
        'numeric field overflow — A field with precision 15, scale 2 must round to an absolute value less than 10^13.',
    });
    expect(databaseErrors({ code: '22021', message: 'invalid byte sequence' })[0]!.path).toBe('');
  });
});

describe('configuration', () => {
  const aws = { TRIBUTARY_MODE: 'aws', AWS_REGION: 'eu-west-1', TRIBUTARY_STREAM_NAME: 's' };
  const buckets = { TRIBUTARY_LAKE_BUCKET: 'lake-b', TRIBUTARY_QUARANTINE_BUCKET: 'quarantine-b' };
  it('uses DATABASE_URL, else the embedded PGlite port, else (AWS) the Aurora endpoint', () => {
    expect(databaseUrl(loadConfig({ TRIBUTARY_PG_PORT: '4570' }))).toBe('postgres://postgres@127.0.0.1:4570/postgres');
    expect(databaseUrl(loadConfig({ DATABASE_URL: 'postgresql://u:p@db:5432/x' }))).toBe('postgresql://u:p@db:5432/x');
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(ConfigError);
    expect(
      databaseUrl(loadConfig({ ...aws, ...buckets, TRIBUTARY_DB_HOST: 'c.cluster.rds', TRIBUTARY_DB_USER: 'app' })),
    ).toBe('postgres://app@c.cluster.rds:5432/tributary');
    expect(() => databaseUrl(loadConfig({ ...aws, ...buckets }))).toThrow(/TRIBUTARY_DB_HOST/);
    expect(redactUrl('postgres://u:secret@h:1/d')).toBe('postgres://u:***@h:1/d');
  });
});

describe('schema', () => {
  it('keeps released migrations unchanged (a changed checksum stops the sink in every deployed database)', () => {
    // The checksums recorded in deployed databases: a migration is changed by adding a new one, never by editing these.
    expect(MIGRATIONS.map((m) => [m.version, migrationChecksum(m)])).toEqual([
      [1, '3b99ec696f06b36c'],
      [2, 'ecfb3785c5ab558b'],
      [3, '7e375490bc1cb256'],
      [4, 'a2299f5f1648c5e7'],
      [5, '92cda2ac0e1792b4'],
      [6, 'b9c135fe8570fb6a'],
      [7, 'bd58b4eea9cf5a47'],
      [8, 'abf2840199922514'],
      [9, '32a33c6357cfa2c0'],
    ]);
    expect(MIGRATIONS[0]!.sql).toMatch(/cc_num\s+text NOT NULL UNIQUE/);
    expect(MIGRATIONS[0]!.sql).toMatch(/amount\s+numeric\(15, 2\)/);
  });

  it('takes card numbers of 8 to 19 digits (ISO/IEC 7812), under the constraint name errors are mapped by', () => {
    expect(MIGRATIONS[1]!.sql).toContain("ADD CONSTRAINT customer_cc_num_check CHECK (cc_num ~ '^[0-9]{8,19}$')");
    expect(
      databaseErrors({
        code: '23514',
        table: 'customer',
        constraint: 'customer_cc_num_check',
        message: 'violates check constraint',
      })[0]!.path,
    ).toBe('/cc_num');
  });

  it('passes every value as a parameter (no event text is ever spliced into SQL)', () => {
    expect(APPLY_SQL).toMatch(/unnest\(\$1::text\[\], \$2::text\[\]/);
    expect(APPLY_SQL.match(/\$\d+/g)).toHaveLength(27);
    expect(APPLY_SQL).not.toMatch(/'/);
  });
});
