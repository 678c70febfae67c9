/** Raw event files loaded like API traffic (lib/imports/raw.ts), through the real emulators and the lake writer. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestDeps, queryService } from '../../lib/composition.ts';
import { loadRawFile } from '../../lib/imports/raw.ts';
import { csvText } from '../../lib/util/csv.ts';
import type { DevRuntime } from '../../local/dev.ts';
import { taxiTrip, transaction } from '../helpers/factories.ts';
import { readLake, removeDir, startTestRuntime, tempDir, waitFor } from './helpers.ts';

const DAY = '2026-02-03';
/** When the files of the first test arrived (the objects' LastModified). */
const ARRIVED = '2026-02-03T12:00:00.000Z';
const TAXI_COLUMNS = [
  'TRIP_ID',
  'CALL_TYPE',
  'ORIGIN_CALL',
  'ORIGIN_STAND',
  'TAXI_ID',
  'TIMESTAMP',
  'DAY_TYPE',
  'MISSING_DATA',
  'POLYLINE',
];

describe('raw event files', () => {
  let rt: DevRuntime;
  let dir: string;
  beforeAll(async () => {
    dir = tempDir('import-raw');
    rt = await startTestRuntime(dir);
  }, 120_000);
  afterAll(async () => {
    await rt?.stop();
    removeDir(dir);
  });

  it('loads gzip NDJSON, CSV with a header and a JSON array: valid rows reach the lake, invalid ones are quarantined as import', async () => {
    const deps = ingestDeps(rt.config);
    // 1,200 transactions (three chunks), gzip NDJSON, 3 invalid: an amount that is text, a missing card, a line that is not JSON.
    const tx = Array.from({ length: 1200 }, (_, i) => JSON.stringify(transaction(i + 1, {}, DAY)));
    tx[10] = JSON.stringify(transaction(11, { amt: 'lots' }, DAY));
    tx[600] = JSON.stringify(transaction(601, { cc_num: undefined }, DAY));
    tx[1100] = '{"trans_num": broken';
    const txFile = path.join(dir, 'tx.ndjson.gz');
    writeFileSync(txFile, gzipSync(`${tx.join('\n')}\n`));
    const txLoad = await loadRawFile(deps, {
      type: 'transactions',
      file: txFile,
      source: 'raw/transactions/tx.ndjson.gz@1',
      receivedAt: ARRIVED,
    });
    expect(txLoad).toMatchObject({ events: 1200, accepted: 1197, rejected: 3, failed: 0, chunks: 3 });
    expect(txLoad.firstErrors.map((e) => [e.line, e.reason])).toEqual([
      [11, 'schema_violation'],
      [601, 'schema_violation'],
      [1101, 'malformed_json'],
    ]);

    // Taxi trips as a CSV export with a header line, "NA" origins and one trip whose TAXI_ID cell is empty.
    const trips = [1, 2, 3].map((i) =>
      taxiTrip({ TRIP_ID: `T${i}`, TIMESTAMP: Date.parse(`${DAY}T0${i}:00:00Z`) / 1000 }),
    );
    const rows = trips.map((t) =>
      TAXI_COLUMNS.map((c) => (t[c] === null ? 'NA' : (t[c] as string | number | boolean))),
    );
    rows[2]![4] = '';
    const csvFile = path.join(dir, 'trips.csv');
    writeFileSync(
      csvFile,
      csvText(
        TAXI_COLUMNS.map((name) => ({ name, numeric: false })),
        rows,
      ),
    );
    const tripLoad = await loadRawFile(deps, {
      type: 'taxi_trips',
      file: csvFile,
      source: 'raw/taxi_trips/trips.csv@1',
      receivedAt: ARRIVED,
    });
    expect(tripLoad).toMatchObject({ events: 3, accepted: 2, rejected: 1, failed: 0 });
    expect(tripLoad.firstErrors[0]).toMatchObject({
      line: 4,
      errors: [{ path: '/TAXI_ID', keyword: 'type', message: 'is empty; must be a whole number' }],
    });

    // Clicks as one JSON array, gzip without a .gz name (the bytes say gzip).
    const clicks = [
      { metadata: { uuid: 'c1', section: 'home' }, payload: { session_time: '2.3' } },
      { metadata: { uuid: 'c2' }, payload: {} },
    ];
    const jsonFile = path.join(dir, 'clicks.json');
    writeFileSync(jsonFile, gzipSync(JSON.stringify(clicks)));
    expect(
      await loadRawFile(deps, {
        type: 'clickstream',
        file: jsonFile,
        source: 'raw/clickstream/clicks.json@1',
        receivedAt: ARRIVED,
      }),
    ).toMatchObject({
      events: 2,
      accepted: 1,
      rejected: 1,
    });

    const lake = await waitFor(
      () => readLake(rt.config),
      (l) => l.rows.length >= 1197 + 2 + 1 && l.quarantine.length >= 5,
    );
    expect(lake.rows.filter((r) => r.type === 'transactions').length).toBe(1197);
    expect(
      lake.rows
        .filter((r) => r.type === 'taxi_trips')
        .map((r) => r.id)
        .sort(),
    ).toEqual(['T1', 'T2']);
    expect(lake.rows.filter((r) => r.type === 'clickstream').map((r) => r.id)).toEqual(['c1']);
    expect(new Set(lake.rows.map((r) => r.source))).toEqual(new Set(['import']));
    expect(lake.quarantine.map((q) => [q.type, q.stage, q.source]).sort()).toEqual([
      ['clickstream', 'import', 'import'],
      ['taxi_trips', 'import', 'import'],
      ['transactions', 'import', 'import'],
      ['transactions', 'import', 'import'],
      ['transactions', 'import', 'import'],
    ]);
  }, 240_000);

  it('a load stopped half-way and run again leaves each event once in the tables and each bad row once in quarantine', async () => {
    const deps = ingestDeps(rt.config);
    const day = '2026-02-04';
    const tx = Array.from({ length: 1000 }, (_, i) => JSON.stringify(transaction(5000 + i, {}, day)));
    tx[100] = JSON.stringify(transaction(5100, { amt: 'x' }, day));
    const file = path.join(dir, 'again.ndjson');
    writeFileSync(file, `${tx.join('\n')}\n`);
    const source = 'raw/transactions/again.ndjson@etag1';
    // The file arrived once; the runs happen whenever (the re-run could be days later): both stamp its arrival.
    const receivedAt = '2026-02-04T08:00:00.000Z';
    // The first run dies after its first chunk of 500 (a crash mid-load).
    await expect(
      loadRawFile(deps, { type: 'transactions', file, source, receivedAt }, () => {
        throw new Error('killed');
      }),
    ).rejects.toThrow('killed');
    const again = await loadRawFile(deps, { type: 'transactions', file, source, receivedAt });
    expect(again).toMatchObject({ events: 1000, accepted: 999, rejected: 1, failed: 0 });
    // The stream carried the first chunk twice; the lake's tables keep one row per event id.
    const svc = queryService(rt.config);
    try {
      const sql = `SELECT count(*) AS n, count(DISTINCT trans_num) AS ids FROM transactions WHERE dt = '${day}'`;
      const counted = await waitFor(
        async () => (await svc.run({ sql })).rows,
        (rows) => rows[0]?.[1] === 999,
      );
      expect(counted).toEqual([[999, 999]]);
    } finally {
      await svc.deps.engine.close();
    }
    const lake = await readLake(rt.config);
    expect(new Set(lake.rows.filter((r) => r.event_time.startsWith(day)).map((r) => r.id)).size).toBe(999);
    // The bad row's quarantine object was written by both runs under the same name: it is there once.
    expect(lake.quarantine.filter((q) => q.id === transaction(5100).trans_num)).toHaveLength(1);
  }, 240_000);
});
