/** A table import's operations as the stream carries them (lib/imports/ops.ts), and where the lake writer puts them. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnvelope } from '../../lib/envelope.ts';
import {
  changesType,
  operationOf,
  opPartitionKey,
  opRecord,
  opsQuery,
  tableOfChangesType,
} from '../../lib/imports/ops.ts';
import { checkTableDef, TableRegistry } from '../../lib/imports/tables.ts';
import { planBatch } from '../../lib/lake/plan.ts';
import { parseJson } from '../../lib/registry/json.ts';
import { defaultRegistry } from '../../lib/registry/registry.ts';

const def = checkTableDef(
  {
    name: 'ledger',
    columns: [
      { name: 'region', type: 'text' },
      { name: 'id', type: 'integer' },
      { name: 'amount', type: 'decimal', precision: 38, scale: 3 },
      { name: 'rate', type: 'double' },
      { name: 'day', type: 'date' },
      { name: 'at', type: 'timestamp' },
      { name: 'ok', type: 'boolean' },
      { name: 'note', type: 'text' },
    ],
    primaryKey: ['region', 'id'],
    format: { delimiter: ',', quote: '"', header: true, null: '', compression: 'none' },
  },
  'ledger.json',
);
const file = { tenant: 'acme', table: 'ledger', version: '20201230_V0001', registeredAt: '2026-12-02T10:00:00.000Z' };

let db: DuckDBInstance;
let conn: DuckDBConnection;
let dir: string;
beforeAll(async () => {
  db = await DuckDBInstance.create(':memory:');
  conn = await db.connect();
  dir = mkdtempSync(path.join(os.tmpdir(), 'import-ops-'));
});
afterAll(() => {
  conn?.closeSync();
  db?.closeSync();
  rmSync(dir, { recursive: true, force: true });
});

describe('operations on the stream', () => {
  it('carry every value in its exact form: integer digits, decimal text, non-finite doubles as text, ISO dates', async () => {
    const ops = path.join(dir, 'ops.parquet');
    await conn.run(`COPY (
      SELECT * FROM (VALUES
        ('insert', 'eu', 9223372036854775807::BIGINT, 123456789012345678901234567890.125::DECIMAL(38,3), 'nan'::DOUBLE,
         DATE '2026-01-31', TIMESTAMP '2026-01-31 23:59:59.123456', true, 'a"b;c\n€', 2),
        ('update', 'eu', 2, 1.500::DECIMAL(38,3), 0.1::DOUBLE, NULL, NULL, false, '', 1),
        ('delete', 'us', -3, NULL, NULL, NULL, NULL, NULL, NULL, 3),
        ('insert', 'us', 4, 0::DECIMAL(38,3), '-inf'::DOUBLE, NULL, NULL, NULL, NULL, 4)
      ) AS t(__op, region, id, amount, rate, "day", "at", ok, note, __seq)
    ) TO '${ops}' (FORMAT parquet)`);
    const rows = (await conn.runAndReadAll(opsQuery(def, ops, file))).getRows().map(([k, d]) => [String(k), String(d)]);
    expect(rows.map(([k]) => k)).toEqual(['["eu",2]', '["eu",9223372036854775807]', '["us",-3]', '["us",4]']);
    expect(rows.map(([, d]) => parseJson(d!))).toEqual([
      {
        tributary_op: 'update',
        tributary_tenant: 'acme',
        tributary_version: '20201230_V0001',
        region: 'eu',
        id: 2,
        amount: '1.500',
        rate: 0.1,
        day: null,
        at: null,
        ok: false,
        note: '',
      },
      {
        tributary_op: 'insert',
        tributary_tenant: 'acme',
        tributary_version: '20201230_V0001',
        region: 'eu',
        // Beyond 2^53: kept as its digits by the lossless reader every consumer uses.
        id: '9223372036854775807',
        amount: '123456789012345678901234567890.125',
        rate: 'NaN',
        day: '2026-01-31',
        at: '2026-01-31 23:59:59.123456',
        ok: true,
        note: 'a"b;c\n€',
      },
      {
        tributary_op: 'delete',
        tributary_tenant: 'acme',
        tributary_version: '20201230_V0001',
        region: 'us',
        id: -3,
        amount: null,
        rate: null,
        day: null,
        at: null,
        ok: null,
        note: null,
      },
      {
        tributary_op: 'insert',
        tributary_tenant: 'acme',
        tributary_version: '20201230_V0001',
        region: 'us',
        id: 4,
        amount: '0.000',
        rate: '-Infinity',
        day: null,
        at: null,
        ok: null,
        note: null,
      },
    ]);
    // The envelope is a valid one, and reads back as the operation.
    const rec = opRecord(file, rows[1]![0]!, rows[1]![1]!);
    const envelope = parseEnvelope(rec.text, parseJson);
    expect(envelope).toMatchObject({
      id: rec.id,
      type: 'import.ledger',
      v: 1,
      source: 'import',
      event_time: file.registeredAt,
      received_at: file.registeredAt,
    });
    expect(operationOf(envelope, def)).toMatchObject({
      op: 'insert',
      tenant: 'acme',
      version: '20201230_V0001',
      row: { region: 'eu', id: '9223372036854775807', amount: '123456789012345678901234567890.125' },
    });
  });

  it('are the same bytes whoever sends them, keyed so one key stays on one shard', () => {
    const a = opRecord(file, '["eu",1]', '{"tributary_op":"insert"}');
    expect(opRecord(file, '["eu",1]', '{"tributary_op":"insert"}')).toEqual(a);
    expect(opRecord({ ...file, version: 'v2' }, '["eu",1]', '{}').id).not.toBe(a.id);
    expect(opRecord({ ...file, tenant: 'beta' }, '["eu",1]', '{}').id).not.toBe(a.id);
    expect(a.partitionKey).toBe('acme/ledger/["eu",1]');
    expect(opRecord({ ...file, version: 'v2' }, '["eu",1]', '{}').partitionKey).toBe(a.partitionKey);
    const long = opPartitionKey('acme', 'ledger', `["${'x'.repeat(300)}"]`);
    expect(long).toMatch(/^[0-9a-f]{64}$/);
    expect(changesType('ledger')).toBe('import.ledger');
    expect(['import.ledger', 'import.', 'ledger', 'imports.x'].map(tableOfChangesType)).toEqual([
      'ledger',
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('refuses data that is not an operation of the table, saying what is wrong', () => {
    const envelope = parseEnvelope(opRecord(file, '["eu",1]', '{"tributary_op":"upsert","region":"eu"}').text);
    expect(() => operationOf(envelope, def)).toThrow(
      'Record is not an operation of ledger: "tributary_op" must be insert, update or delete; "tributary_tenant" must be a non-empty string; "tributary_version" must be a non-empty string; key column "id" is missing',
    );
  });
});

describe('the lake writer', () => {
  const record = (seq: string, text: string) => ({
    shardId: 'shardId-000000000000',
    sequenceNumber: seq,
    partitionKey: 'p',
    data: Buffer.from(text),
    arrivedAt: Date.parse(file.registeredAt),
  });
  const tables = new TableRegistry(path.join(import.meta.dirname, '../../tables'));
  const example = { ...file, table: 'example' };

  it("keeps operations with their table's changes, by tenant; an undefined table's or a malformed one is quarantined", () => {
    const data = (over: Record<string, unknown>) =>
      JSON.stringify({
        tributary_op: 'insert',
        tributary_tenant: 'acme',
        tributary_version: 'v1',
        PK: 'k1',
        COL2: null,
        COL3: null,
        COL4: null,
        ...over,
      });
    const plan = planBatch(
      [
        record('1', opRecord(example, '["k1"]', data({})).text),
        record('2', opRecord({ ...example, tenant: 'b/c' }, '["k1"]', data({ tributary_tenant: 'b/c' })).text),
        record('3', opRecord({ ...example, table: 'nosuch' }, '["k1"]', data({})).text),
        record('4', opRecord(example, '["k2"]', data({ PK: null })).text),
      ],
      defaultRegistry(),
      new Date('2026-12-02T10:05:00Z'),
      tables,
    );
    expect(plan.objects.map((o) => [o.bucket, o.key.replace(/\/[^/]+$/, ''), o.count]).sort()).toEqual([
      ['lake', 'imports/example/changes/dt=2026-12-02/hour=10/tenant=acme', 1],
      ['lake', 'imports/example/changes/dt=2026-12-02/hour=10/tenant=b%2Fc', 1],
      ['quarantine', 'records/dt=2026-12-02/reason=invalid_envelope', 1],
      ['quarantine', 'records/dt=2026-12-02/reason=unknown_type', 1],
    ]);
  });
});
