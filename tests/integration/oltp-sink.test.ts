import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hex32 as hex } from '../helpers/factories.ts';
import type pg from 'pg';
import { DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createAwsClients } from '../../lib/aws/clients.ts';
import { loadConfig } from '../../lib/config.ts';
import type { Envelope, RedriveInfo } from '../../lib/envelope.ts';
import { createPool } from '../../lib/oltp/db.ts';
import { migrate, MIGRATIONS } from '../../lib/oltp/migrations.ts';
import { sinkShard, type OltpSinkDeps } from '../../lib/oltp/sink.ts';
import { oltpStatus } from '../../lib/oltp/status.ts';
import type { QuarantineRecord } from '../../lib/quarantine/record.ts';
import { listAll, readJsonl } from '../../lib/aws/s3.ts';
import type { StreamRecord } from '../../lib/stream/records.ts';
import { startS3, type RunningEmulator } from '../../local/emulators/index.ts';
import { testDatabase, type TestDatabase } from './db.ts';
import { removeDir, tempDir } from './helpers.ts';

type Txn = Record<string, unknown>;

const base: Txn = {
  trans_date_trans_time: '2019-01-01 00:00:18',
  cc_num: '4000000000000001234',
  merchant: 'fraud_Kirlin and Sons',
  category: 'personal_care',
  amt: 12.345,
  first: 'Jennifer',
  last: 'Banks',
  gender: 'F',
  street: '1 Main St',
  city: 'Springfield',
  state: 'IL',
  zip: '62701',
  lat: 39.78,
  long: -89.65,
  city_pop: 116250,
  job: 'Engineer',
  dob: '1988-03-09',
  trans_num: '0b242abb623afc578575680df30655b9',
  unix_time: 1325376018,
  merch_lat: 39.8,
  merch_long: -89.6,
  is_fraud: 0,
};

let seq = 1000;
function record(
  data: unknown,
  opts: {
    type?: string;
    source?: string;
    redrive?: RedriveInfo;
    eventTime?: string;
    raw?: string;
    shard?: string;
  } = {},
): StreamRecord {
  const d = data as Txn;
  const eventTime =
    opts.eventTime ??
    (typeof d?.trans_date_trans_time === 'string'
      ? `${d.trans_date_trans_time.replace(' ', 'T')}.000Z`
      : '2024-01-01T00:00:00.000Z');
  const env: Envelope = {
    id: typeof d?.trans_num === 'string' ? d.trans_num : 'no-id',
    type: opts.type ?? 'transactions',
    v: 1,
    received_at: '2024-05-01T10:00:00.000Z',
    event_time: eventTime,
    source: opts.source ?? 'api',
    data,
    ...(opts.redrive ? { redrive: opts.redrive } : {}),
  };
  seq += 1;
  return {
    shardId: opts.shard ?? 'shardId-000000000000',
    sequenceNumber: String(seq).padStart(56, '4'),
    partitionKey: String(d?.cc_num ?? 'x'),
    data: Buffer.from(opts.raw ?? JSON.stringify(env)),
    arrivedAt: Date.parse('2024-05-01T10:00:01.000Z'),
  };
}

const SNAPSHOT = `
SELECT t.trans_num, t.amount::text AS amount, to_char(t."timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS ts,
       t.unix_time::text AS unix_time, t.is_fraud, t.source, t.redrive_job,
       cu.cc_num, cu.first, cu.last, cu.gender, cu.job, cu.dob::text AS dob,
       a.street, a.zip, a.lat, a.long, ci.name AS city, ci.state, ci.population,
       m.name AS merchant, m.category, m.lat AS merch_lat, m.long AS merch_long
  FROM "transaction" t
  JOIN customer cu ON cu.id = t.customer_id
  LEFT JOIN address a ON a.id = cu.address_id
  LEFT JOIN city ci ON ci.id = a.city_id
  LEFT JOIN merchant m ON m.id = t.merchant_id
 ORDER BY t.trans_num`;

const DIMENSIONS = `
SELECT 'city' AS t, json_agg(json_build_array(id, name, state, population, as_of) ORDER BY id)::text AS rows FROM city
UNION ALL SELECT 'address', json_agg(json_build_array(id, street, zip, lat, long, city_id, as_of) ORDER BY id)::text FROM address
UNION ALL SELECT 'customer', json_agg(json_build_array(id, cc_num, first, last, gender, job, dob, address_id, as_of) ORDER BY id)::text FROM customer
UNION ALL SELECT 'merchant', json_agg(json_build_array(id, name, category, lat, long, as_of) ORDER BY id)::text FROM merchant
UNION ALL SELECT 'transaction', json_agg(json_build_array(trans_num, customer_id, merchant_id, amount, unix_time, redrive_job) ORDER BY trans_num)::text FROM "transaction"`;

/** The customer, address and city columns every transaction of `base` joins back to. */
const JENNIFER = {
  cc_num: '4000000000000001234',
  first: 'Jennifer',
  last: 'Banks',
  gender: 'F',
  job: 'Engineer',
  dob: '1988-03-09',
  street: '1 Main St',
  zip: '62701',
  lat: 39.78,
  long: -89.65,
  city: 'Springfield',
  state: 'IL',
  population: 116250,
};

describe('OLTP sink against a real database', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let s3emu: RunningEmulator;
  let s3dir: string;
  let deps: OltpSinkDeps;

  beforeAll(async () => {
    s3dir = tempDir('oltp-s3');
    [db, s3emu] = await Promise.all([testDatabase('sink'), startS3('127.0.0.1', 0, s3dir, ['quarantine'])]);
    pool = createPool(db.url);
    const config = loadConfig({
      TRIBUTARY_MODE: 'local',
      TRIBUTARY_S3_PORT: String(s3emu.port),
    } as unknown as NodeJS.ProcessEnv);
    deps = { pool, s3: createAwsClients(config).s3, quarantineBucket: 'quarantine', chunkSize: 4 };
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
    await s3emu?.stop();
    removeDir(s3dir);
  });

  const snapshot = async () => (await pool.query(SNAPSHOT)).rows;
  const dimensions = async () =>
    Object.fromEntries(
      (await pool.query<{ t: string; rows: string | null }>(DIMENSIONS)).rows.map((r) => [
        r.t,
        JSON.parse(r.rows ?? '[]'),
      ]),
    );
  const quarantined = async () => {
    const keys = (await listAll(deps.s3, 'quarantine', 'records/')).map((o) => o.Key!);
    return (await Promise.all(keys.map((k) => readJsonl<QuarantineRecord>(deps.s3, 'quarantine', k))))
      .flat()
      .sort((a, b) => a.id.localeCompare(b.id));
  };

  it('migrates once, and again is a no-op', async () => {
    expect(await migrate(pool)).toEqual({ applied: [1, 2, 3, 4, 5, 6, 7, 8, 9], version: 9 });
    expect(await migrate(pool)).toEqual({ applied: [], version: MIGRATIONS.at(-1)!.version });
  });

  it('refuses a database whose applied migrations differ from the code, and one migrated by a newer release', async () => {
    const edited = MIGRATIONS.map((m) => ({ ...m, sql: `${m.sql}\n-- edited` }));
    await expect(migrate(pool, edited)).rejects.toThrow(
      'Migration 1 (normalized transactions) differs from the one applied to this database; restore it and add the change as a new migration.',
    );
    await expect(migrate(pool, [])).rejects.toThrow(
      /at migration 1, which this release does not know \(it knows up to 0\); run a newer tributary/,
    );
    // The previous release (migration 1 only) against a database this one upgraded.
    await expect(migrate(pool, MIGRATIONS.slice(0, 1))).rejects.toThrow(
      /at migration 2, which this release does not know \(it knows up to 1\); run a newer tributary/,
    );
    // Nothing was changed by the refused runs.
    expect((await pool.query('SELECT version FROM schema_migrations ORDER BY version')).rows).toEqual([
      { version: 1 },
      { version: 2 },
      { version: 3 },
      { version: 4 },
      { version: 5 },
      { version: 6 },
      { version: 7 },
      { version: 8 },
      { version: 9 },
    ]);
  });

  const e1 = { ...base };
  const e2 = {
    ...base,
    trans_num: hex(2),
    trans_date_trans_time: '2019-01-02 10:00:00',
    merchant: 'fraud_Sporer-Keebler',
    category: 'grocery_pos',
    amt: 100,
    merch_lat: 40.1,
    merch_long: -88.2,
    is_fraud: 1,
    unix_time: 1325498400,
  };
  const e3 = {
    ...base,
    trans_num: hex(3),
    cc_num: '040000000000000',
    first: 'Amos',
    last: 'Hill',
    gender: 'M',
    street: '2 Oak Ave',
    zip: '62702',
    lat: 39.7,
    long: -89.6,
    dob: '1950-12-31',
    amt: 0.1 + 0.2,
  };
  const apostrophes = {
    ...base,
    trans_num: hex(4),
    cc_num: '3000000000000004',
    first: "O'Brien",
    last: "D'Angelo",
    job: "Children's nurse",
    street: "1 King's Rd",
    city: "Coeur d'Alene",
    state: "I'D",
    zip: '83814',
    city_pop: 54628,
    merchant: "fraud_O'Keefe's",
    category: "food_'dining'",
    dob: '1980-02-29',
  };

  it('applies a known set of events to exactly these rows, normalized', async () => {
    const r = await sinkShard(
      [
        record(e1),
        record(e2),
        record(e3),
        record(apostrophes),
        record({ page: 1 }, { type: 'clickstream' }),
        record(null, { raw: 'not json' }),
      ],
      deps,
    );
    expect(r).toEqual({ shardId: 'shardId-000000000000', applied: 4, duplicates: 0, rejected: 0, skipped: 2 });
    expect(await snapshot()).toEqual([
      {
        trans_num: '00000000000000000000000000000002',
        amount: '100.00',
        ts: '2019-01-02 10:00:00',
        unix_time: '1325498400',
        is_fraud: true,
        source: 'api',
        redrive_job: null,
        ...JENNIFER,
        merchant: 'fraud_Sporer-Keebler',
        category: 'grocery_pos',
        merch_lat: 40.1,
        merch_long: -88.2,
      },
      {
        trans_num: '00000000000000000000000000000003',
        amount: '0.30',
        ts: '2019-01-01 00:00:18',
        unix_time: '1325376018',
        is_fraud: false,
        source: 'api',
        redrive_job: null,
        cc_num: '040000000000000',
        first: 'Amos',
        last: 'Hill',
        gender: 'M',
        job: 'Engineer',
        dob: '1950-12-31',
        street: '2 Oak Ave',
        zip: '62702',
        lat: 39.7,
        long: -89.6,
        city: 'Springfield',
        state: 'IL',
        population: 116250,
        merchant: 'fraud_Kirlin and Sons',
        category: 'personal_care',
        merch_lat: 39.8,
        merch_long: -89.6,
      },
      {
        trans_num: '00000000000000000000000000000004',
        amount: '12.35',
        ts: '2019-01-01 00:00:18',
        unix_time: '1325376018',
        is_fraud: false,
        source: 'api',
        redrive_job: null,
        cc_num: '3000000000000004',
        first: "O'Brien",
        last: "D'Angelo",
        gender: 'F',
        job: "Children's nurse",
        dob: '1980-02-29',
        street: "1 King's Rd",
        zip: '83814',
        lat: 39.78,
        long: -89.65,
        city: "Coeur d'Alene",
        state: "I'D",
        population: 54628,
        merchant: "fraud_O'Keefe's",
        category: "food_'dining'",
        merch_lat: 39.8,
        merch_long: -89.6,
      },
      {
        trans_num: '0b242abb623afc578575680df30655b9',
        amount: '12.35',
        ts: '2019-01-01 00:00:18',
        unix_time: '1325376018',
        is_fraud: false,
        source: 'api',
        redrive_job: null,
        ...JENNIFER,
        merchant: 'fraud_Kirlin and Sons',
        category: 'personal_care',
        merch_lat: 39.8,
        merch_long: -89.6,
      },
    ]);
    const status = await oltpStatus(pool, { latest: 10 });
    expect(status.tables).toEqual({ city: 2, address: 3, customer: 3, merchant: 3, transaction: 4 });
    expect(status.migration).toEqual({ current: 9, latest: 9 });
    expect(status.latest.map((t) => t.trans_num).sort()).toEqual([hex(2), hex(3), hex(4), base.trans_num].sort());
    expect(status.sink).toMatchObject([
      { consumer: 'oltp-sink', shardId: 'shardId-000000000000', applied: 4, duplicates: 0, rejected: 0, batches: 1 },
    ]);
  });

  it('re-delivery of the same batch changes nothing', async () => {
    const before = await dimensions();
    seq -= 6; // the same sequence numbers, as Lambda re-delivers them
    const r = await sinkShard(
      [
        record(e1),
        record(e2),
        record(e3),
        record(apostrophes),
        record({ page: 1 }, { type: 'clickstream' }),
        record(null, { raw: 'not json' }),
      ],
      deps,
    );
    expect(r).toEqual({ shardId: 'shardId-000000000000', applied: 0, duplicates: 4, rejected: 0, skipped: 2 });
    expect(await dimensions()).toEqual(before);
  });

  it('applies a re-driven event once, and an older event never overwrites newer customer data', async () => {
    const info = (job: string): RedriveInfo => ({ job, at: '2024-05-02T00:00:00.000Z', by: 'ops', attempt: 1 });
    const e5 = { ...base, trans_num: hex(5), trans_date_trans_time: '2019-01-03 00:00:00', amt: 5 };
    const older = { ...base, trans_num: hex(6), trans_date_trans_time: '2018-06-01 00:00:00', first: 'Jenny', amt: 6 };
    const r = await sinkShard(
      [
        record(e5, { source: 'redrive', redrive: info('job-1') }),
        record(e5, { source: 'redrive', redrive: info('job-2') }),
        record(e1, { source: 'redrive', redrive: info('job-1') }),
        record(older),
      ],
      deps,
    );
    expect(r).toMatchObject({ applied: 2, duplicates: 2, rejected: 0 });
    const rows = await snapshot();
    expect(rows.filter((x) => x.trans_num === hex(5)).map((x) => [x.source, x.redrive_job, x.amount])).toEqual([
      ['redrive', 'job-1', '5.00'],
    ]);
    expect(rows.find((x) => x.trans_num === base.trans_num)!.redrive_job).toBeNull();
    // Customer 4000…1234 keeps the newest name (2019-01-03 event), not the 2018 one applied after it.
    expect(rows.filter((x) => x.cc_num === base.cc_num).map((x) => x.first)).toEqual([
      'Jennifer',
      'Jennifer',
      'Jennifer',
      'Jennifer',
    ]);
    expect((await dimensions()).transaction).toHaveLength(6);
    // The latest transactions are the newest by their own time, not by the batch that brought them: the 2018 event
    // applied last comes last, the 2019-01-03 one first, then the earlier batch's by time (ties by trans_num).
    const latest = (await oltpStatus(pool, { latest: 10 })).latest.map((t) => [t.trans_num, t.timestamp]);
    expect(latest).toEqual([
      [hex(5), '2019-01-03T00:00:00.000Z'],
      [hex(2), '2019-01-02T10:00:00.000Z'],
      ...[base.trans_num, hex(3), hex(4)].sort().map((n) => [n, '2019-01-01T00:00:18.000Z']),
      [hex(6), '2018-06-01T00:00:00.000Z'],
    ]);
  });

  it('delivers a refused event again when its quarantine write fails (never skipped), keeping what was applied', async () => {
    const deadS3 = new S3Client({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const ok = { ...base, trans_num: hex(30), cc_num: '7000000000000030' };
    const refused = { ...base, trans_num: hex(31), cc_num: '7000000000000031', amt: 1e14 };
    const after = { ...base, trans_num: hex(32), cc_num: '7000000000000032' };
    const batch = [record(ok), record(refused), record(after)];
    const r = await sinkShard(batch, { ...deps, s3: deadS3 });
    deadS3.destroy();
    expect(r).toMatchObject({ applied: 2, rejected: 0, failedFrom: batch[1]!.sequenceNumber });
    expect(r.error).toMatch(/^quarantine write failed/);
    // Lambda re-delivers from the refused event: the one after it is already in and changes nothing.
    const again = await sinkShard(batch.slice(1), deps);
    expect(again).toEqual({ shardId: 'shardId-000000000000', applied: 0, duplicates: 1, rejected: 1, skipped: 0 });
    const q = await quarantined();
    expect(q.map((x) => x.id)).toEqual([hex(31)]);
    await pool.query(`DELETE FROM "transaction" WHERE trans_num IN ($1, $2)`, [hex(30), hex(32)]);
    await pool.query(`DELETE FROM customer WHERE cc_num IN ('7000000000000030', '7000000000000032')`);
    await Promise.all(
      (await listAll(deps.s3, 'quarantine', 'records/')).map((o) =>
        deps.s3.send(new DeleteObjectCommand({ Bucket: 'quarantine', Key: o.Key! })),
      ),
    );
  });

  it('quarantines events the database refuses (stage oltp-sink) and applies the rest of the batch', async () => {
    const overflow = { ...base, trans_num: hex(7), amt: 1e13 };
    const noCity = {
      ...base,
      trans_num: hex(8),
      cc_num: '5000000000000008',
      street: '9 Nowhere Rd',
      zip: '00001',
      city: null,
    };
    const nul = { ...base, trans_num: hex(9), cc_num: '5000000000000009', first: 'Nul\u0000Byte' };
    const noCard = { ...base, trans_num: hex(10), cc_num: null };
    const good = [11, 12, 13, 14, 15].map((n) => ({
      ...base,
      trans_num: hex(n),
      cc_num: `60000000000000${n}`,
      amt: n,
    }));
    const batch = [
      record(good[0]),
      record(overflow),
      record(good[1]),
      record(noCity),
      record(good[2]),
      record(nul),
      record(good[3]),
      record(noCard),
      record(good[4]),
    ];
    const r = await sinkShard(batch, deps);
    expect(r).toEqual({ shardId: 'shardId-000000000000', applied: 5, duplicates: 0, rejected: 4, skipped: 0 });
    const q = await quarantined();
    expect(q.map((x) => [x.id, x.stage, x.reason, x.errors.map((e) => e.path)])).toEqual([
      [hex(7), 'oltp-sink', 'db_rejected', ['/amt']],
      [hex(8), 'oltp-sink', 'db_rejected', ['/city']],
      [hex(9), 'oltp-sink', 'db_rejected', ['']],
      [hex(10), 'oltp-sink', 'schema_violation', ['/cc_num']],
    ]);
    expect(q.map((x) => x.errors[0]!.keyword)).toEqual([
      'sqlstate:22003',
      'sqlstate:23502',
      'sqlstate:22021',
      'required',
    ]);
    // The payload is the envelope as it was on the stream: a re-drive keeps id and received time.
    expect(JSON.parse(q[0]!.payload)).toMatchObject({ id: hex(7), type: 'transactions', data: { amt: 1e13 } });
    const trans = (await snapshot()).map((x) => x.trans_num);
    expect(trans).toHaveLength(11);
    expect(trans).toEqual(expect.arrayContaining(good.map((g) => g.trans_num)));
    expect(trans).not.toEqual(expect.arrayContaining([hex(7)]));
    // Nothing of a refused event is left behind (its customer and address went with its transaction).
    expect(
      (
        await pool.query(
          `SELECT count(*)::int AS n FROM customer WHERE cc_num IN ('5000000000000008', '5000000000000009')`,
        )
      ).rows[0].n,
    ).toBe(0);
    expect((await pool.query(`SELECT count(*)::int AS n FROM address WHERE street = '9 Nowhere Rd'`)).rows[0].n).toBe(
      0,
    );
  });
});
