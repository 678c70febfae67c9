import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  detectFormat,
  mapCsvHeader,
  ProduceInputError,
  readEventsFromFile,
  type FileEvent,
} from '../../lib/produce/readers.ts';
import { defaultRegistry } from '../../lib/registry/registry.ts';
import { taxiTrip } from '../helpers/factories.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tributary-readers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};
const registry = defaultRegistry();
// The header lines of fraudTrain.csv (pandas' unnamed index column first) and of the taxi train.csv / test.csv.
const FRAUD_HEADER =
  ',trans_date_trans_time,cc_num,merchant,category,amt,first,last,gender,street,city,state,zip,lat,long,city_pop,job,dob,trans_num,unix_time,merch_lat,merch_long,is_fraud';
const TAXI_HEADER =
  '"TRIP_ID","CALL_TYPE","ORIGIN_CALL","ORIGIN_STAND","TAXI_ID","TIMESTAMP","DAY_TYPE","MISSING_DATA","POLYLINE"';
async function all(p: string, type = 'transactions'): Promise<FileEvent[]> {
  const out: FileEvent[] = [];
  for await (const e of readEventsFromFile(p, registry.version(type))) out.push(e);
  return out;
}

describe('input files', () => {
  it('reads gzip by its bytes, whatever the name: CSV, NDJSON and a JSON array', async () => {
    const gz = (name: string, text: string) => {
      const p = path.join(dir, name);
      writeFileSync(p, gzipSync(text));
      return p;
    };
    const trip = `${TAXI_HEADER}\n"T1","C",NA,NA,"20000589","1372636858","A","False","[[-8.6,41.1]]"\n`;
    const csv = gz('trips.csv.gz', trip);
    expect(await detectFormat(csv)).toBe('csv');
    expect((await all(csv, 'taxi_trips')).map((e) => e.value)).toEqual([
      taxiTrip({ TRIP_ID: 'T1', POLYLINE: '[[-8.6,41.1]]' }),
    ]);
    // Named as plain files: the format is sniffed from the gunzipped text.
    const nd = gz('clicks.data', '{"a":1}\n{"a":2}\n');
    expect(await detectFormat(nd)).toBe('ndjson');
    expect((await all(nd, 'clickstream')).map((e) => [e.line, e.value])).toEqual([
      [1, { a: 1 }],
      [2, { a: 2 }],
    ]);
    // A truncated gzip member fails the read with zlib's error instead of crashing the process or hanging it.
    const cut = (name: string, text: string) => {
      const whole = gzipSync(text);
      const p = path.join(dir, name);
      writeFileSync(p, whole.subarray(0, Math.floor(whole.length / 2)));
      return p;
    };
    const ndjson = Array.from({ length: 20000 }, (_, i) => `{"a":${i},"pad":"${'x'.repeat(50)}"}`).join('\n');
    await expect(all(cut('cut.ndjson.gz', ndjson), 'clickstream')).rejects.toThrow(/unexpected end of file/);
    const tripRows = Array.from(
      { length: 20000 },
      (_, i) => `"T${i}","C",NA,NA,"1","1372636858","A","False","[[-8.6,41.1]]"`,
    );
    await expect(all(cut('cut.csv.gz', [TAXI_HEADER, ...tripRows].join('\n')), 'taxi_trips')).rejects.toThrow(
      /unexpected end of file/,
    );
    // JSON lines under a CSV name (here with a header naming the fields): refused after 100 unreadable rows in a row,
    // in bounded memory, instead of csv-parse carrying ever longer text from one error to the next.
    const notCsv = file('clicks.csv', `TRIP_ID,CALL_TYPE\n${ndjson}`);
    await expect(all(notCsv, 'taxi_trips')).rejects.toThrow(
      /: 100 rows in a row up to line \d+ cannot be read as CSV \(Invalid/,
    );
    const arr = gz('clicks.json', '[{"a":1},{"a":2}]');
    expect(await detectFormat(arr)).toBe('json');
    expect((await all(arr, 'clickstream')).length).toBe(2);
  });

  it('reads a pandas-style transactions CSV: unnamed index → id, numbers coerced, card numbers exact', async () => {
    const csv = file(
      'fraud.csv',
      [
        FRAUD_HEADER,
        '0,2019-01-01 00:00:18,2703186189652095,"fraud_Rippin, Kub and Mann",misc_net,4.97,Jennifer,Banks,F,561 Perry Cove,Moravian Falls,NC,28654,36.0788,-81.1781,3495,"Psychologist, counselling",1988-03-09,0b242abb623afc578575680df30655b9,1325376018,36.011293,-82.048315,0',
        '1,2019-01-01 00:00:44,4992346398065154184,fraud_Heller,grocery_pos,107.23,Stephanie,Gill,F,43039 Riley Greens Suite 393,Orient,WA,99160,48.8878,-118.2105,149,Special educational needs teacher,1978-06-21,1f76529f8574734946361c461b024d99,1325376044,49.159047,-118.186462,1',
      ].join('\n'),
    );
    expect(await detectFormat(csv)).toBe('csv');
    const events = await all(csv);
    expect(events).toHaveLength(2);
    expect(events[0]!.line).toBe(2);
    expect(events[1]!.value).toMatchObject({
      id: 1,
      cc_num: '4992346398065154184',
      amt: 107.23,
      zip: '99160',
      is_fraud: 1,
      merchant: 'fraud_Heller',
      city_pop: 149,
    });
    expect(events[0]!.value).toMatchObject({
      merchant: 'fraud_Rippin, Kub and Mann',
      job: 'Psychologist, counselling',
    });
    for (const e of events) expect(registry.version('transactions').validate(e.value)).toBe(true);
  });

  it('reads taxi CSV with NA origins, quoted ids and embedded polylines', async () => {
    const csv = file(
      'train.csv',
      [
        TAXI_HEADER,
        '"1372636858620000589","C",NA,NA,"20000589","1372636858","A","False","[[-8.618643,41.141412],[-8.618499,41.141376]]"',
        '"1372637303620000596","B",NA,7,"20000596","1372637303","A","False","[]"',
      ].join('\n'),
    );
    const events = await all(csv, 'taxi_trips');
    expect(events.map((e) => e.value)).toEqual([
      taxiTrip({ POLYLINE: '[[-8.618643,41.141412],[-8.618499,41.141376]]' }),
      {
        TRIP_ID: '1372637303620000596',
        CALL_TYPE: 'B',
        ORIGIN_CALL: null,
        ORIGIN_STAND: 7,
        TAXI_ID: 20000596,
        TIMESTAMP: 1372637303,
        DAY_TYPE: 'A',
        MISSING_DATA: false,
        POLYLINE: '[]',
      },
    ]);
  });

  it('reads fraudTrain.csv rows with 11- to 14-digit card numbers and pandas floats for an integer column with gaps', async () => {
    const csv = file(
      'fraud-short-cards.csv',
      [
        FRAUD_HEADER,
        '1.0,2019-01-01 00:00:44,630423337322,"fraud_Heller, Gutmann and Zieme",grocery_pos,107.23,Stephanie,Gill,F,43039 Riley Greens Suite 393,Orient,WA,99160,48.8878,-118.2105,149.0,Special educational needs teacher,1978-06-21,1f76529f8574734946361c461b024d99,1325376044.0,49.159047,-118.186462,0.0',
        '2.0,2019-01-01 00:00:51,38859492057661,fraud_Lind-Buckridge,entertainment,220.11,Edward,Sanchez,M,594 White Dale Suite 530,Malad City,ID,83252,42.1808,-112.262,nan,Nature conservation officer,1962-01-19,a1a22d70485983eac12b5b88dad1cf95,1325376051.0,43.150704,-112.154481,nan',
        '3.0,2019-01-01 00:01:16,60416207185,fraud_Keeling-Crist,misc_pos,nan,Mary,Diaz,F,9886 Anita Drive,Fort Washakie,WY,82514,43.0048,-108.8964,1645.0,Information systems manager,1986-02-17,6b849c168bdad6f867558c3793159a81,1325376076.0,43.974711,-109.741904,0.0',
        '4.0,2019-01-01 00:03:06,4838637940262,fraud_Kutch,gas_transport,45.00,David,Taylor,M,819 Johnson Course,Sheffield,MA,1257,43.2032,-91.9441,188.0,Engineering geologist,1978-05-10,0b242abb623afc578575680df30655b9,1325376186.0,43.2,-91.9,1.0',
      ].join('\n'),
    );
    const events = await all(csv);
    expect(events.map((e) => e.value)).toMatchObject([
      { id: 1, cc_num: '630423337322', city_pop: 149, unix_time: 1325376044, is_fraud: 0 },
      { id: 2, cc_num: '38859492057661', city_pop: null, is_fraud: null },
      { id: 3, cc_num: '60416207185', amt: null },
      { id: 4, cc_num: '4838637940262', zip: '1257', is_fraud: 1 },
    ]);
    for (const e of events)
      expect(
        registry.version('transactions').validate(e.value),
        JSON.stringify(registry.version('transactions').validate.errors),
      ).toBe(true);
  });

  it('reads the test.csv trip ids (T1, T2 …) as text, with empty or NA origins', async () => {
    const csv = file(
      'test.csv',
      [
        TAXI_HEADER,
        '"T1","B","","15","20000542","1408039037","A","False","[[-8.585676,41.148522],[-8.585712,41.148639]]"',
        '"T2","A",NA,NA,"20000108","1408038611","A","False","[]"',
      ].join('\n'),
    );
    const events = await all(csv, 'taxi_trips');
    expect(events.map((e) => e.value)).toEqual([
      {
        TRIP_ID: 'T1',
        CALL_TYPE: 'B',
        ORIGIN_CALL: null,
        ORIGIN_STAND: 15,
        TAXI_ID: 20000542,
        TIMESTAMP: 1408039037,
        DAY_TYPE: 'A',
        MISSING_DATA: false,
        POLYLINE: '[[-8.585676,41.148522],[-8.585712,41.148639]]',
      },
      {
        TRIP_ID: 'T2',
        CALL_TYPE: 'A',
        ORIGIN_CALL: null,
        ORIGIN_STAND: null,
        TAXI_ID: 20000108,
        TIMESTAMP: 1408038611,
        DAY_TYPE: 'A',
        MISSING_DATA: false,
        POLYLINE: '[]',
      },
    ]);
    for (const e of events) expect(registry.version('taxi_trips').validate(e.value)).toBe(true);
  });

  it('refuses a CSV without a header line instead of reading its first row as one (and never repeats that row)', async () => {
    const csv = file(
      'headerless.csv',
      '0,2019-01-01 00:00:18,2703186189652095,fraud_Rippin,misc_net,4.97\n1,2019-01-01 00:00:44,630423337322,fraud_Heller,grocery_pos,107.23\n',
    );
    const err = await all(csv).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProduceInputError);
    expect((err as ProduceInputError).code).toBe('no_header');
    expect((err as Error).message).toMatch(
      /headerless\.csv has no header line: its first line names none of the fields of transactions v1 \(id, trans_date_trans_time, cc_num, /,
    );
    expect((err as Error).message).not.toContain('2703186189652095');
    // One known column is a header: the others are sent as they are and validation names what is missing.
    expect(await all(file('partial.csv', 'trans_num,card\nabc,1\n'))).toEqual([
      { line: 2, value: { trans_num: 'abc', card: '1' } },
    ]);
  });

  it('keeps a CSV row it cannot parse as raw text instead of dropping it', async () => {
    const csv = file(
      'broken.csv',
      `trans_num,cc_num\n${'a'.repeat(32)},4111111111111111\n"unterminated,4111111111111111\n`,
    );
    const events = await all(csv);
    expect(events).toHaveLength(2);
    expect(events[0]!.value).toEqual({ trans_num: 'a'.repeat(32), cc_num: '4111111111111111' });
    expect(events[1]!.raw).toBeDefined();
  });

  it('reads JSON arrays and objects losslessly, and NDJSON with its bad lines kept raw', async () => {
    const arr = file('a.json', '[{"cc_num": 4992346398065154184, "trans_num": "x"}, {"cc_num": 1}]');
    expect(await detectFormat(arr)).toBe('json');
    expect((await all(arr)).map((e) => e.value)).toEqual([
      { cc_num: '4992346398065154184', trans_num: 'x' },
      { cc_num: 1 },
    ]);
    const one = file('one.json', '{\n  "trans_num": "y",\n  "cc_num": "4111111111111111"\n}\n');
    expect(await detectFormat(one)).toBe('json');
    expect((await all(one)).map((e) => e.value)).toEqual([{ trans_num: 'y', cc_num: '4111111111111111' }]);
    const nd = file('events.ndjson', '{"a":1}\n\n{oops\n{"a":3}\n');
    expect(await all(nd)).toEqual([
      { line: 1, value: { a: 1 } },
      { line: 3, raw: '{oops' },
      { line: 4, value: { a: 3 } },
    ]);
    expect(await detectFormat(file('events.txt', '{"a":1}\n{"a":2}\n'))).toBe('ndjson');
  });

  it('maps only unnamed columns, and only when the schema has an id field', () => {
    const schema = registry.version('transactions').schema;
    expect(mapCsvHeader(['', 'cc_num'], schema)).toEqual(['id', 'cc_num']);
    expect(mapCsvHeader(['Unnamed: 0', 'id', ''], schema)).toEqual([undefined, 'id', undefined]);
    expect(mapCsvHeader(['', 'TRIP_ID'], registry.version('taxi_trips').schema)).toEqual([undefined, 'TRIP_ID']);
  });
});
