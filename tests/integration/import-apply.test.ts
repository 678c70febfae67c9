/** Applying import operations to Postgres (lib/imports/apply.ts): order-safe, idempotent, the same table whatever happens. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyOperations, ensureImportTable, type ImportOperation } from '../../lib/imports/apply.ts';
import { applyShard } from '../../lib/imports/applier.ts';
import { opRecord } from '../../lib/imports/ops.ts';
import { aggregate } from '../../lib/stream/aggregate.ts';
import { checkTableDef, TableRegistry } from '../../lib/imports/tables.ts';
import { memoryAws } from '../helpers/memory-aws.ts';
import { createPool } from '../../lib/oltp/db.ts';
import { Rng } from '../../lib/produce/random.ts';
import { testDatabase, type TestDatabase } from './db.ts';

const def = checkTableDef(
  {
    name: 'accounts',
    columns: [
      { name: 'region', type: 'text' },
      { name: 'id', type: 'integer' },
      { name: 'name', type: 'text' },
      { name: 'balance', type: 'decimal', precision: 12, scale: 2 },
      { name: 'opened', type: 'date' },
      { name: 'active', type: 'boolean' },
      { name: 'seen', type: 'timestamp' },
      { name: 'score', type: 'double' },
    ],
    primaryKey: ['region', 'id'],
    format: { delimiter: ',', quote: '"', header: true, null: '', compression: 'none' },
  },
  'accounts.json',
);

type State = Map<string, Record<string, unknown>>;
const keyOf = (r: Record<string, unknown>) => `${r.region}/${r.id}`;

/** Five full exports of a small table, each changing, removing and re-adding rows, NULLs among the values. */
function exportsOf(rng: Rng): State[] {
  const states: State[] = [];
  for (let v = 0; v < 5; v++) {
    const s: State = new Map();
    for (const region of ['eu', 'us'])
      for (let id = 1; id <= 6; id++) {
        if (rng.next() < 0.25) continue;
        const row = {
          region,
          id,
          name: rng.next() < 0.2 ? null : `n${rng.int(0, 3)}`,
          balance: rng.next() < 0.2 ? null : `${rng.int(0, 5)}.50`,
          opened: rng.next() < 0.2 ? null : `2026-0${rng.int(1, 9)}-01`,
          active: rng.next() < 0.5,
          seen: rng.next() < 0.2 ? null : `2026-01-0${rng.int(1, 9)} 10:00:00`,
          score: rng.next() < 0.2 ? null : rng.int(0, 100) / 4,
        };
        s.set(keyOf(row), row);
      }
    states.push(s);
  }
  return states;
}

/** The operations between consecutive exports, as the delta makes them. */
function operations(tenant: string, states: State[]): ImportOperation[] {
  const ops: ImportOperation[] = [];
  let prev: State = new Map();
  states.forEach((s, i) => {
    const version = `2026010${i + 1}_V0001`;
    for (const [k, row] of s) {
      const old = prev.get(k);
      if (!old) ops.push({ tenant, version, op: 'insert', row });
      else if (JSON.stringify(old) !== JSON.stringify(row)) ops.push({ tenant, version, op: 'update', row });
    }
    for (const [k, row] of prev)
      if (!s.has(k)) ops.push({ tenant, version, op: 'delete', row: { region: row.region, id: row.id } });
    prev = s;
  });
  return ops;
}

/** An operation of tenant `tenant` as the job sends it, alone in a stream record at `seq`. */
function applierRecord(tenant: string, table: string, region: string, id: number, seq: number) {
  const rec = opRecord(
    { tenant, version: 'v1', registeredAt: '2026-12-02T10:00:00.000Z', table },
    JSON.stringify([region, id]),
    JSON.stringify({
      tributary_op: 'insert',
      tributary_tenant: tenant,
      tributary_version: 'v1',
      region,
      id,
      name: 'n',
    }),
  );
  return {
    shardId: 'shardId-000000000000',
    sequenceNumber: String(seq),
    partitionKey: rec.partitionKey,
    data: Buffer.from(rec.text),
    arrivedAt: 0,
  };
}

/** The quarantine's records in an in-memory S3. */
function quarantinedIn(aws: ReturnType<typeof memoryAws>) {
  return aws
    .keys('quarantine', 'records/')
    .flatMap((k) =>
      gunzipSync(aws.objects.get(`quarantine/${k}`)!.body)
        .toString()
        .trim()
        .split('\n'),
    )
    .map(
      (l) =>
        JSON.parse(l) as {
          id: string;
          stage: string;
          reason: string;
          type: string;
          payload: string;
          payload_encoding: 'utf8' | 'base64';
          errors: { message: string }[];
        },
    );
}

describe('applying import operations', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    db = await testDatabase('import_apply');
    pool = createPool(db.url, { max: 4 });
    await ensureImportTable(pool, def);
    // A second creator (another applier starting) finds the table as defined and changes nothing.
    await ensureImportTable(pool, def);
  }, 60_000);
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  const current = async (tenant: string) =>
    (
      await pool.query(
        `SELECT region, id::int AS id, name, balance::text AS balance, to_char(opened, 'YYYY-MM-DD') AS opened, active,
                to_char(seen, 'YYYY-MM-DD HH24:MI:SS') AS seen, score
           FROM imports.accounts WHERE tributary_tenant = $1 AND NOT tributary_deleted ORDER BY region, id`,
        [tenant],
      )
    ).rows;

  it('ends with the last export, however the operations arrive: in order, shuffled, in chunks, replayed', async () => {
    const rng = new Rng(7);
    const states = exportsOf(rng);
    const ops = operations('t-ordered', states);
    const expected = [...states.at(-1)!.values()].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
    expect(ops.length).toBeGreaterThan(20);
    await applyOperations(pool, def, ops);
    expect(await current('t-ordered')).toEqual(expected);

    for (let trial = 0; trial < 5; trial++) {
      const tenant = `t-shuffled-${trial}`;
      const mine = operations(tenant, states);
      // Every operation at least once, some twice, in a random order, in random chunks.
      const sent = [...mine, ...mine.filter(() => rng.next() < 0.3)];
      for (let i = sent.length - 1; i > 0; i--) {
        const j = rng.int(0, i);
        [sent[i], sent[j]] = [sent[j]!, sent[i]!];
      }
      for (let i = 0; i < sent.length; ) {
        const n = rng.int(1, 9);
        await applyOperations(pool, def, sent.slice(i, i + n));
        i += n;
      }
      expect(await current(tenant), `trial ${trial}`).toEqual(expected);
    }
  });

  it('never lets an older version overwrite a newer one, nor bring back a deleted row; a replay changes nothing', async () => {
    const row = {
      region: 'eu',
      id: 1,
      name: 'new',
      balance: '2.00',
      opened: '2026-03-01',
      active: true,
      seen: null,
      score: 1,
    };
    expect(await applyOperations(pool, def, [{ tenant: 'x', version: 'v2', op: 'insert', row }])).toEqual({
      applied: 1,
      skipped: 0,
      rejected: [],
    });
    expect(
      await applyOperations(pool, def, [{ tenant: 'x', version: 'v1', op: 'update', row: { ...row, name: 'old' } }]),
    ).toEqual({ applied: 0, skipped: 1, rejected: [] });
    expect(await applyOperations(pool, def, [{ tenant: 'x', version: 'v2', op: 'insert', row }])).toEqual({
      applied: 0,
      skipped: 1,
      rejected: [],
    });
    expect(
      await applyOperations(pool, def, [{ tenant: 'x', version: 'v3', op: 'delete', row: { region: 'eu', id: 1 } }]),
    ).toEqual({
      applied: 1,
      skipped: 0,
      rejected: [],
    });
    expect(await applyOperations(pool, def, [{ tenant: 'x', version: 'v2', op: 'insert', row }])).toEqual({
      applied: 0,
      skipped: 1,
      rejected: [],
    });
    expect(await current('x')).toEqual([]);
    // Versions compare as text byte by byte: 20201231_V0001 is after 20201230_V0002.
    await applyOperations(pool, def, [
      { tenant: 'y', version: '20201231_V0001', op: 'insert', row },
      { tenant: 'y', version: '20201230_V0002', op: 'update', row: { ...row, name: 'older' } },
    ]);
    expect((await current('y')).map((r) => r.name)).toEqual(['new']);
  });

  it('sets aside what the table refuses and applies the rest; keys compare as their type', async () => {
    const row = {
      region: 'zz',
      id: 1,
      name: 'a',
      balance: '1.50',
      opened: '2026-01-01',
      active: true,
      seen: null,
      score: 1,
    };
    const r = await applyOperations(pool, def, [
      { tenant: 'z', version: 'v1', op: 'insert', row },
      { tenant: 'z', version: 'v1', op: 'insert', row: { ...row, id: 2, balance: 'lots' } },
      { tenant: 'z', version: 'v1', op: 'insert', row: { ...row, id: 3, score: { nested: 1 } } },
      { tenant: 'z', version: 'v1', op: 'delete', row: { region: 'zz' } },
      { tenant: 'z', version: 'v1', op: 'insert', row: { ...row, id: 4, score: 1e21 } },
      // The same key spelled as another number: one key once cast, the later version wins.
      { tenant: 'z', version: 'v2', op: 'update', row: { ...row, id: '01', name: 'b' } },
    ]);
    // Split around the refused ones: id 1 went in as v1, then v2 (spelled 01) changed it, and id 4.
    expect(r.applied).toBe(3);
    expect(r.rejected.map((x) => [x.op.row.id ?? null, x.error.split(':')[0]])).toEqual([
      [3, 'score'],
      [2, 'invalid input syntax for type numeric'],
      [null, 'null value in column "id" of relation "accounts" violates not-null constraint'],
    ]);
    expect((await current('z')).map((x) => [x.id, x.name, x.score])).toEqual([
      [1, 'b', 1],
      [4, 'a', 1e21],
    ]);
  });

  it('refuses a table whose columns or key differ from the definition', async () => {
    const rekeyed = checkTableDef({ ...def, primaryKey: ['id'] }, 'accounts.json');
    await expect(ensureImportTable(pool, rekeyed)).rejects.toThrow(
      /\(key region, id\), but .* \(key id\)\. Changing an imported table's columns or key/,
    );
    const wider = checkTableDef(
      { ...def, columns: [...def.columns, { name: 'extra', type: 'text' }] },
      'accounts.json',
    );
    await expect(ensureImportTable(pool, wider)).rejects.toMatchObject({
      code: 'table_changed',
      message: expect.stringMatching(
        /^"imports"\."accounts" has columns region text, id bigint, name text, balance numeric\(12,2\), opened date, active boolean, seen timestamp without time zone, score double precision \(key region, id\), but tables\/accounts\.json defines .* extra text \(key region, id\)\./,
      ),
    });
  });

  it('the applier quarantines what the table can never take — a key too long for its index, a table that changed — and applies the rest', async () => {
    const aws = memoryAws();
    try {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'applier-tables-'));
      writeFileSync(path.join(dir, 'accounts.json'), JSON.stringify(def));
      writeFileSync(path.join(dir, 'ledger.json'), JSON.stringify({ ...def, name: 'ledger' }));
      const tables = new TableRegistry(dir);
      // The ledger's table exists with another key: its operations cannot be applied until that is put right.
      await pool.query(
        'CREATE TABLE imports.ledger (tributary_tenant text, region text, id bigint, PRIMARY KEY (tributary_tenant, id))',
      );
      const op = (table: string, region: string, id: number, seq: number) => applierRecord('q', table, region, id, seq);
      // Incompressible, so the index entry stays far above Postgres's btree limit (~2.7 kB).
      const huge = randomBytes(6_000).toString('base64');
      const r = await applyShard(
        [op('accounts', 'eu', 1, 1), op('accounts', huge, 2, 2), op('ledger', 'eu', 3, 3), op('accounts', 'eu', 4, 4)],
        { pool, s3: aws.s3, quarantineBucket: 'quarantine', tables },
      );
      expect(r).toMatchObject({ applied: 2, rejected: 2 });
      // Nothing to deliver again: the shard moves on.
      expect(r.failedFrom).toBeUndefined();
      expect((await current('q')).map((x) => [x.region, x.id])).toEqual([
        ['eu', 1],
        ['eu', 4],
      ]);
      const quarantined = quarantinedIn(aws);
      expect(
        quarantined
          .map((q) => [q.stage, q.reason, q.type, q.errors[0]!.message])
          .sort((a, b) => String(a[2]).localeCompare(String(b[2]))),
      ).toEqual([
        [
          'import',
          'db_rejected',
          'import.accounts',
          expect.stringMatching(/^index row size \d+ exceeds btree version \d+ maximum \d+ for index "accounts_pkey"/),
        ],
        [
          'import',
          'db_rejected',
          'import.ledger',
          expect.stringMatching(
            /^"imports"\."ledger" has columns region text, id bigint \(key id\), but tables\/ledger\.json defines/,
          ),
        ],
      ]);
    } finally {
      aws.restore();
    }
  });
  it('applies the operations of aggregates like single ones, and quarantines only the operation refused, as itself', async () => {
    const aws = memoryAws();
    try {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'applier-aggregates-'));
      writeFileSync(path.join(dir, 'accounts.json'), JSON.stringify(def));
      const tables = new TableRegistry(dir);
      const huge = randomBytes(6_000).toString('base64');
      const ops = [applierRecord('qa', 'accounts', 'eu', 1, 0), applierRecord('qa', 'accounts', huge, 2, 0)];
      const more = [applierRecord('qa', 'accounts', 'us', 3, 0), applierRecord('qa', 'accounts', 'us', 4, 0)];
      const texts = (rs: typeof ops) =>
        rs.map((r) => ({ partitionKey: r.partitionKey, text: r.data.toString('utf8') }));
      const [a] = aggregate(texts(ops), [], 'import.accounts');
      const [b] = aggregate(texts(more), [], 'import.accounts');
      const rec = (data: Buffer, seq: string) => ({
        ...ops[0]!,
        partitionKey: 'import.accounts',
        data,
        sequenceNumber: seq,
      });
      const batch = [rec(a!.data, '10'), rec(b!.data, '20')];
      const r = await applyShard(batch, { pool, s3: aws.s3, quarantineBucket: 'quarantine', tables });
      expect(r).toMatchObject({ applied: 3, rejected: 1, ignored: 0 });
      expect((await current('qa')).map((x) => [x.region, x.id])).toEqual([
        ['eu', 1],
        ['us', 3],
        ['us', 4],
      ]);
      const quarantined = quarantinedIn(aws);
      expect(quarantined.map((q) => [q.id, q.reason, q.payload_encoding, q.payload])).toEqual([
        ['shardId-000000000000-10-1', 'db_rejected', 'utf8', ops[1]!.data.toString('utf8')],
      ]);
      // Delivered again (a retry after a crash): nothing changes, nothing more is refused than the same operation.
      const again = await applyShard(batch, { pool, s3: aws.s3, quarantineBucket: 'quarantine', tables });
      expect(again).toMatchObject({ applied: 0, skipped: 3, rejected: 1 });
      // An aggregate of a format this applier cannot read waits for an upgrade: the batch comes again, nothing past it
      // is taken as applied. One that cannot be read at all is set aside, never counted as applied.
      const newer = Buffer.from(JSON.stringify({ ...JSON.parse(a!.data.toString('utf8')), tributary_aggregate: 2 }));
      const waiting = await applyShard([rec(newer, '30')], {
        pool,
        s3: aws.s3,
        quarantineBucket: 'quarantine',
        tables,
      });
      expect([waiting.failedFrom, waiting.applied, waiting.error]).toEqual([
        '30',
        0,
        expect.stringContaining('format 2, which this version cannot read'),
      ]);
      const corrupt = Buffer.from('{"tributary_aggregate":1,"type":"import.accounts","count":2,"gzip":"AAAA"}');
      const setAside = await applyShard([rec(corrupt, '40')], {
        pool,
        s3: aws.s3,
        quarantineBucket: 'quarantine',
        tables,
      });
      expect([setAside.failedFrom, setAside.rejected]).toEqual([undefined, 1]);
      expect(
        quarantinedIn(aws)
          .filter((q) => q.reason === 'malformed_json')
          .map((q) => [q.id, q.stage]),
      ).toEqual([['shardId-000000000000-40', 'import']]);
    } finally {
      aws.restore();
    }
  });
});
