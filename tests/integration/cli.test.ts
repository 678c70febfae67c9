import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevRuntime } from '../../local/dev.ts';
import { readLake, removeDir, runCli, startTestRuntime, tempDir, waitFor } from './helpers.ts';
import { taxiTrip } from '../helpers/factories.ts';

const cli = runCli;

// The header line of fraudTrain.csv / fraudTest.csv (pandas' unnamed index column first).
const FRAUD_HEADER =
  ',trans_date_trans_time,cc_num,merchant,category,amt,first,last,gender,street,city,state,zip,lat,long,city_pop,job,dob,trans_num,unix_time,merch_lat,merch_long,is_fraud';

describe('tributary CLI against a running pipeline', () => {
  let rt: DevRuntime;
  let dir: string;
  let env: Record<string, string>;
  /** Writes `lines` to a file in the data directory and runs `tributary produce` on it with `--json`. */
  const produceFile = async (name: string, lines: string[], type: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, lines.join('\n'));
    return cli(['produce', file, '--type', type, '--json'], env);
  };
  beforeAll(async () => {
    dir = tempDir('cli');
    rt = await startTestRuntime(dir);
    env = {
      TRIBUTARY_API_URL: rt.apiUrl,
      TRIBUTARY_API_KEY: rt.apiKey,
      TRIBUTARY_KINESIS_ENDPOINT: rt.config.endpoints!.kinesis,
      TRIBUTARY_S3_ENDPOINT: rt.config.endpoints!.s3,
      TRIBUTARY_DATA_DIR: dir,
    };
  });
  afterAll(async () => {
    await rt?.stop();
    removeDir(dir);
  });

  it('produces CSV, JSON and NDJSON files with exact counts and lands them in the right partitions', async () => {
    const res = await produceFile(
      'fraud.csv',
      [
        FRAUD_HEADER,
        '0,2019-01-01 00:00:18,2703186189652095,"fraud_Rippin, Kub and Mann",misc_net,4.97,Jennifer,Banks,F,561 Perry Cove,Moravian Falls,NC,28654,36.0788,-81.1781,3495,"Psychologist, counselling",1988-03-09,0b242abb623afc578575680df30655b9,1325376018,36.011293,-82.048315,0',
        '1,2019-01-01 01:00:44,4992346398065154184,fraud_Heller,grocery_pos,107.23,Stephanie,Gill,F,43039 Riley Greens,Orient,WA,99160,48.8878,-118.2105,149,Teacher,1978-06-21,1f76529f8574734946361c461b024d99,1325376044,49.159047,-118.186462,0',
        "2,2019-01-01 01:05:00,,fraud_O'Neil,misc_net,1.00,Ana,D'Angelo,X,1 Main,Orient,WA,99160,48.8,-118.2,149,Teacher,1978-06-21,2f76529f8574734946361c461b024d99,1325376300,49.1,-118.1,0",
      ],
      'transactions',
    );
    expect(res.code, res.stderr).toBe(0);
    const summary = JSON.parse(res.stdout);
    expect(summary).toMatchObject({ type: 'transactions', sent: 3, accepted: 2, rejected: 1, failed: 0 });
    expect(summary.firstErrors).toEqual([
      {
        index: 2,
        line: 4,
        id: '2f76529f8574734946361c461b024d99',
        status: 'rejected',
        reason: 'schema_violation',
        errors: [
          { path: '/cc_num', keyword: 'pattern', message: 'is empty; must match pattern "^[0-9]{8,19}$"' },
          { path: '/gender', keyword: 'enum', message: 'must be one of "M", "F", null' },
        ],
      },
    ]);

    const nd = await produceFile(
      'clicks.ndjson',
      [
        '{"metadata":{"uuid":"c1","section":"home"},"payload":{"session_time":"2.3"}}',
        '{"metadata":{"uuid":"c2","section":"a/b"},"payload":{}}',
        '{broken',
        '',
      ],
      'clickstream',
    );
    expect(JSON.parse(nd.stdout)).toMatchObject({ sent: 3, accepted: 2, rejected: 1, failed: 0 });

    const js = await produceFile('trips.json', [JSON.stringify([taxiTrip()])], 'taxi_trips');
    expect(JSON.parse(js.stdout)).toMatchObject({ sent: 1, accepted: 1, rejected: 0, failed: 0 });

    const lake = await waitFor(
      () => readLake(rt.config),
      (l) => l.rows.length >= 5,
    );
    expect(lake.rows.length).toBe(5);
    expect(lake.keys.map((k) => k.replace(/\/shardId-.*$/, '')).sort()).toEqual(
      [
        `events/clickstream/dt=${lake.rows.find((r) => r.id === 'c1')!.event_time.slice(0, 10)}/hour=${lake.rows.find((r) => r.id === 'c1')!.event_time.slice(11, 13)}/section=a%2Fb`,
        `events/clickstream/dt=${lake.rows.find((r) => r.id === 'c1')!.event_time.slice(0, 10)}/hour=${lake.rows.find((r) => r.id === 'c1')!.event_time.slice(11, 13)}/section=home`,
        'events/taxi_trips/dt=2013-07-01/hour=00',
        'events/transactions/dt=2019-01-01/hour=00',
        'events/transactions/dt=2019-01-01/hour=01',
      ].sort(),
    );
    const card = lake.rows.find((r) => r.id === '1f76529f8574734946361c461b024d99')!;
    expect((card.data as { cc_num: string }).cc_num).toBe('4992346398065154184');

    const status = await cli(['status', '--json'], env);
    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout);
    expect(s.lake.rows).toBe(5);
    expect(s.lake.byType.transactions).toMatchObject({ rows: 2, partitions: 2 });
    expect(s.quarantine).toMatchObject({
      records: 2,
      byStage: { ingest: 2 },
      byReason: { schema_violation: 1, malformed_json: 1 },
    });
    expect(s.stream).toMatchObject({ name: 'events', status: 'ACTIVE' });
  });

  it('produces exports as the public data sets ship them: short card numbers, pandas floats and nan, T1 trip ids; refuses a headerless CSV', async () => {
    const files: [string, string[], string][] = [
      [
        'fraudTest.csv',
        [
          FRAUD_HEADER,
          '0.0,2020-06-21 12:14:25,60416207185,fraud_Schmeler-Howe,personal_care,2.86,Mary,Diaz,F,9886 Anita Drive,Fort Washakie,WY,82514,43.0048,-108.8964,1645.0,Information systems manager,1986-02-17,a0000000000000000000000000000001,1371816865.0,43.974711,-109.741904,0.0',
          '1.0,2020-06-21 12:14:33,630423337322,"fraud_Heller, Gutmann and Zieme",grocery_pos,nan,Stephanie,Gill,F,43039 Riley Greens Suite 393,Orient,WA,99160,48.8878,-118.2105,nan,Special educational needs teacher,1978-06-21,a0000000000000000000000000000002,1371816873.0,49.159047,-118.186462,nan',
          '2.0,2020-06-21 12:14:53,4992346398065154184,fraud_Lind-Buckridge,entertainment,220.11,Edward,Sanchez,M,594 White Dale Suite 530,Malad City,ID,1257,42.1808,-112.262,4154.0,Nature conservation officer,1962-01-19,a0000000000000000000000000000003,1371816893.0,43.150704,-112.154481,1.0',
        ],
        'transactions',
      ],
      [
        'test.csv',
        [
          '"TRIP_ID","CALL_TYPE","ORIGIN_CALL","ORIGIN_STAND","TAXI_ID","TIMESTAMP","DAY_TYPE","MISSING_DATA","POLYLINE"',
          '"T1","B","","15","20000542","1408039037","A","False","[[-8.585676,41.148522],[-8.585712,41.148639]]"',
          '"T2","A","31508","","20000108","1408038611","A","True","[]"',
        ],
        'taxi_trips',
      ],
    ];
    for (const [name, lines, type] of files) {
      const r = await produceFile(name, lines, type);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({
        sent: lines.length - 1,
        accepted: lines.length - 1,
        rejected: 0,
        failed: 0,
      });
    }

    // Ingest writes the quarantine before it answers, so anything sent would be there when the command has exited.
    const quarantinedBefore = (await readLake(rt.config)).quarantine.length;
    const refused = await produceFile(
      'headerless.csv',
      ['0,2020-06-21 12:14:25,60416207185,fraud_Schmeler-Howe', ''],
      'transactions',
    );
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toEqual({
      error: expect.stringMatching(
        /headerless\.csv has no header line: its first line names none of the fields of transactions v1/,
      ),
    });
    expect((await readLake(rt.config)).quarantine.length).toBe(quarantinedBefore);

    const ids = [
      'a0000000000000000000000000000001',
      'a0000000000000000000000000000002',
      'a0000000000000000000000000000003',
      'T1',
      'T2',
    ];
    const lake = await waitFor(
      () => readLake(rt.config),
      (l) => l.rows.filter((r) => ids.includes(r.id)).length >= 5,
    );
    const mine = ids.flatMap((id) => lake.rows.filter((r) => r.id === id));
    expect(mine.map((r) => [r.id, r.type])).toEqual([
      ...ids.slice(0, 3).map((id) => [id, 'transactions']),
      ['T1', 'taxi_trips'],
      ['T2', 'taxi_trips'],
    ]);
    expect(mine.slice(0, 3).map((r) => (r.data as { cc_num: string }).cc_num)).toEqual([
      '60416207185',
      '630423337322',
      '4992346398065154184',
    ]);
    expect(
      mine
        .slice(0, 3)
        .map((r) => r.data as Record<string, unknown>)
        .map((d) => [d.amt, d.city_pop, d.is_fraud, d.zip]),
    ).toEqual([
      [2.86, 1645, 0, '82514'],
      [null, null, null, '99160'],
      [220.11, 4154, 1, '1257'],
    ]);
    expect(mine.map((r) => r.event_time)).toEqual([
      '2020-06-21T12:14:25.000Z',
      '2020-06-21T12:14:33.000Z',
      '2020-06-21T12:14:53.000Z',
      '2014-08-14T17:57:17.000Z',
      '2014-08-14T17:50:11.000Z',
    ]);
  }, 90_000);

  it('generates synthetic traffic with an exact invalid share', async () => {
    const res = await cli(
      [
        'produce',
        '--synthetic',
        'taxi_trips',
        '--count',
        '300',
        '--invalid-ratio',
        '0.1',
        '--seed',
        '9',
        '--rate',
        '5000',
        '--batch',
        '100',
        '--json',
      ],
      env,
    );
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ sent: 300, accepted: 270, rejected: 30, failed: 0, requests: 3 });
  });

  it('exits 2 with a clear message on usage errors and 1 when the API is unreachable', async () => {
    // Six CLI processes, independent of each other, at once: the unreachable API's retries take longest.
    const [noType, badType, unknown, bigBatch, down, wrongKey] = await Promise.all([
      cli(['produce', 'x.csv', '--type', 'transactions'], env),
      cli(['produce', '--synthetic', 'orders'], env),
      cli(['frobnicate'], env),
      cli(['produce', '--synthetic', 'transactions', '--batch', '501'], env),
      cli(['produce', '--synthetic', 'transactions', '--count', '5', '--json'], {
        ...env,
        TRIBUTARY_API_URL: 'http://127.0.0.1:9',
      }),
      cli(['produce', '--synthetic', 'transactions', '--count', '5'], { ...env, TRIBUTARY_API_KEY: 'nope' }),
    ]);
    expect(noType.code).toBe(2);
    expect(noType.stderr).toContain('error: File not found: x.csv');
    expect(badType.code).toBe(2);
    expect(badType.stderr).toContain('Unknown type "orders"; types: clickstream, taxi_trips, transactions.');
    expect(unknown.code).toBe(2);
    expect(bigBatch.code).toBe(2);
    expect(down.code).toBe(1);
    expect(JSON.parse(down.stdout).error).toMatch(/^Cannot reach http:\/\/127\.0\.0\.1:9\/v1\/events\/transactions/);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toContain('The API refused the key (401)');
  }, 90_000);

  it('lists, shows, discards, re-drives and exports quarantined records', async () => {
    const tx = (i: number, extra: object) => ({
      trans_num: `${i}`.padStart(32, 'd'),
      cc_num: '4000000000000003',
      ...extra,
    });
    const bad = [tx(1, { gender: 'X' }), tx(2, { gender: 'X' }), tx(3, { amt: 'lots' })];
    const res = await fetch(`${rt.apiUrl}/v1/events/transactions`, {
      method: 'POST',
      headers: { 'x-api-key': rt.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify(bad),
    });
    expect(((await res.json()) as { rejected: number }).rejected).toBe(3);
    const list = await cli(['quarantine', 'list', '--text', 'dddd', '--json'], env);
    expect(list.code).toBe(0);
    const page = JSON.parse(list.stdout) as {
      total: number;
      items: { qid: string; id: string; firstError: { path: string } }[];
    };
    expect(page.total).toBe(3);
    const byId = new Map(page.items.map((i) => [i.id, i]));
    expect(byId.get(tx(3, {}).trans_num)!.firstError.path).toBe('/amt');

    const show = await cli(['quarantine', 'show', byId.get(tx(1, {}).trans_num)!.qid], env);
    expect(show.stdout, `exit ${show.code}: ${show.stderr}`).toContain('/gender  enum  must be one of "M", "F", null');
    const noWhy = await cli(['quarantine', 'discard', byId.get(tx(3, {}).trans_num)!.qid], env);
    expect(noWhy.code).toBe(2);
    expect(noWhy.stderr).toContain('Discarding needs --why');
    const discard = await cli(
      ['quarantine', 'discard', byId.get(tx(3, {}).trans_num)!.qid, '--why', 'amount unknowable', '--json'],
      env,
    );
    expect(JSON.parse(discard.stdout)).toMatchObject({ discarded: 1, skipped: 0 });

    // Still invalid: both fail again, and are quarantined anew with stage redrive.
    const redrive = await cli(['redrive', '--all-matching', '--text', 'dddd', '--json'], env);
    expect(redrive.code).toBe(0);
    expect(JSON.parse(redrive.stdout)).toMatchObject({
      status: 'succeeded',
      total: 2,
      accepted: 0,
      failed: 2,
      skipped: 0,
      by: expect.stringMatching(/^cli:/),
    });
    const after = JSON.parse(
      (await cli(['quarantine', 'list', '--text', 'dddd', '--status', 'all', '--json'], env)).stdout,
    ) as { items: { stage: string; status: string }[] };
    expect(after.items.map((i) => `${i.stage}:${i.status}`).sort()).toEqual([
      'ingest:discarded',
      'ingest:redriven',
      'ingest:redriven',
      'redrive:open',
      'redrive:open',
    ]);
    const csv = await cli(['quarantine', 'export', '--stage', 'redrive', '--format', 'csv'], env);
    expect(csv.stdout.trim().split('\r\n').length).toBe(3);
  }, 120_000);
});
