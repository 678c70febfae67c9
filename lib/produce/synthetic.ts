import { Rng } from './random.ts';

/** One generated event: a value to send, or raw text (malformed JSON) when `raw` is set. */
export interface SyntheticEvent {
  value?: Record<string, unknown>;
  raw?: string;
  valid: boolean;
}

const FIRST = ['Jennifer', 'Stephanie', 'Edward', 'Jeremy', 'Tyler', 'Ana', 'Dmitri', "O'Neil", 'Zoë', 'Kwame'];
const LAST = ['Banks', 'Gill', 'Sanchez', 'White', 'Garcia', 'Nguyen', "D'Angelo", 'Müller', 'Okafor', 'Smith'];
const CATEGORIES = [
  'misc_net',
  'grocery_pos',
  'entertainment',
  'gas_transport',
  'misc_pos',
  'grocery_net',
  'shopping_net',
  'shopping_pos',
  'food_dining',
  'personal_care',
  'health_fitness',
  'travel',
  'kids_pets',
  'home',
];
const MERCHANTS = [
  'fraud_Rippin, Kub and Mann',
  'fraud_Heller, Gutmann and Zieme',
  'fraud_Lind-Buckridge',
  'fraud_Kutch, Hermiston and Farrell',
  'fraud_Keeling-Crist',
  'fraud_Stroman, Hudson and Erdman',
  'fraud_Rowe-Vandervort',
  'fraud_Corwin-Collins',
];
const CITIES: [string, string, string, number, number, number][] = [
  ['Moravian Falls', 'NC', '28654', 36.0788, -81.1781, 3495],
  ['Orient', 'WA', '99160', 48.8878, -118.2105, 149],
  ['Malad City', 'ID', '83252', 42.1808, -112.262, 4154],
  ['Boulder', 'MT', '59632', 46.2306, -112.1138, 1939],
  ['Doe Hill', 'VA', '24433', 38.4207, -79.4629, 99],
  ['Springfield', 'MA', '01103', 42.1015, -72.5898, 153_060],
];
const JOBS = [
  'Psychologist, counselling',
  'Special educational needs teacher',
  'Nature conservation officer',
  'Patent attorney',
  'Dance movement psychotherapist',
  'Data engineer',
];
const SECTIONS = ['home', 'cart', 'checkout', 'product/shoes', 'Sale! 50% off', 'rückgabe', '', '../admin'];

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

function ymdhms(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** Event times spread over the 7 days before the base time, so data lands in many partitions. */
function eventMs(rng: Rng, base: number): number {
  return base - rng.int(0, 7 * 24 * 3600) * 1000;
}

function transaction(rng: Rng, i: number, base: number): Record<string, unknown> {
  const [city, state, zip, lat, long, pop] = rng.pick(CITIES);
  const ms = eventMs(rng, base);
  return {
    id: i,
    trans_date_trans_time: ymdhms(ms),
    // The lengths of fraudTrain.csv: Faker's 12-digit Maestro (11 digits once a leading 0 was lost to the CSV's
    // integers), 13- and 16-digit Visa, 14-digit Diners, 15-digit Amex and JCB, 19-digit Visa.
    cc_num: rng.digits(rng.pick([11, 12, 13, 14, 15, 15, 16, 16, 16, 16, 19])),
    merchant: rng.pick(MERCHANTS),
    category: rng.pick(CATEGORIES),
    amt: Math.round(rng.next() * 50_000) / 100,
    first: rng.pick(FIRST),
    last: rng.pick(LAST),
    gender: rng.pick(['M', 'F']),
    street: `${rng.int(1, 9999)} ${rng.pick(['Oak', 'Pine', 'Maple', 'Cedar'])} St`,
    city,
    state,
    zip,
    lat,
    long,
    city_pop: pop,
    job: rng.pick(JOBS),
    dob: `19${rng.int(40, 99)}-${pad(rng.int(1, 12))}-${pad(rng.int(1, 28))}`,
    trans_num: rng.hex(32),
    unix_time: Math.floor(ms / 1000),
    merch_lat: Math.round((lat + rng.next() - 0.5) * 1e6) / 1e6,
    merch_long: Math.round((long + rng.next() - 0.5) * 1e6) / 1e6,
    is_fraud: rng.next() < 0.01 ? 1 : 0,
  };
}

function taxiTrip(rng: Rng, base: number): Record<string, unknown> {
  const ms = eventMs(rng, base);
  const callType = rng.pick(['A', 'B', 'C']);
  const points = rng.int(0, 600);
  let lon = -8.61 + rng.next() * 0.05;
  let lat = 41.14 + rng.next() * 0.05;
  const pts: string[] = [];
  for (let p = 0; p < points; p++) {
    lon += (rng.next() - 0.5) * 0.002;
    lat += (rng.next() - 0.5) * 0.002;
    pts.push(`[${lon.toFixed(6)},${lat.toFixed(6)}]`);
  }
  // train.csv ids are 19 digits (the start time and 9 more); test.csv's a letter and a number (T1, T2 …): one in ten here,
  // made as unique as the numeric ones.
  const tripNumber = `${Math.floor(ms / 1000)}${rng.digits(9)}`;
  return {
    TRIP_ID: rng.next() < 0.1 ? `T${tripNumber}` : tripNumber,
    CALL_TYPE: callType,
    ORIGIN_CALL: callType === 'A' ? rng.int(2000, 60000) : null,
    ORIGIN_STAND: callType === 'B' ? rng.int(1, 63) : null,
    TAXI_ID: 20000000 + rng.int(1, 500),
    TIMESTAMP: Math.floor(ms / 1000),
    DAY_TYPE: 'A',
    MISSING_DATA: points === 0,
    POLYLINE: `[${pts.join(',')}]`,
  };
}

function click(rng: Rng, base: number): Record<string, unknown> {
  void base;
  return {
    metadata: {
      uuid: `${rng.hex(8)}-${rng.hex(4)}-4${rng.hex(3)}-a${rng.hex(3)}-${rng.hex(12)}`,
      section: rng.pick(SECTIONS),
    },
    payload: {
      userid: String(rng.int(1000, 99999)),
      email_id: `user${rng.int(1, 9999)}@example.com`,
      contact: rng.digits(10),
      session_time: rng.pick([String((rng.next() * 10).toFixed(1)), 'nan', rng.int(1, 600)]),
      legacy_account: rng.pick(['False', 'True', false]),
      membership_status: rng.pick(['gold', 'silver', 'none', 'nan']),
      is_cart_empty: rng.pick(['False', 'True']),
      sys_type: rng.pick(['android', 'ios', 'web']),
      menuitem: [
        { value: 'New', onclick: 'CreateNewDoc()' },
        { value: 'Open', onclick: 'OpenDoc()' },
      ],
      text: {
        data: 'Click Here',
        size: '36',
        style: 'bold',
        name: 'text1',
        hOffset: '250',
        vOffset: '100',
        alignment: 'center',
        onMouseUp: 'sun1.opacity = (sun1.opacity / 100) * 90;',
      },
    },
  };
}

/** Ways to break an event of each type, each guaranteed to fail validation. */
const BREAKERS: Record<string, ((e: Record<string, unknown>, rng: Rng) => void)[]> = {
  transactions: [
    (e) => delete e.trans_num,
    (e) => (e.cc_num = null),
    (e) => (e.gender = 'X'),
    (e) => (e.amt = 'lots'),
    (e) => (e.trans_num = 'not-hex'),
    (e) => (e.trans_date_trans_time = '2020-02-30 10:00:00'),
  ],
  taxi_trips: [
    (e) => (e.CALL_TYPE = 'D'),
    (e) => delete e.TRIP_ID,
    (e) => (e.POLYLINE = '[[1,2],[oops]]'),
    (e) => (e.TAXI_ID = 'abc'),
  ],
  clickstream: [
    (e) => delete e.metadata,
    (e) => ((e.metadata as Record<string, unknown>).uuid = ''),
    (e) => (e.payload = 'nope'),
  ],
};

/** Types the generator knows. */
export const SYNTHETIC_TYPES = ['transactions', 'taxi_trips', 'clickstream'] as const;

/**
 * Deterministic synthetic events of a type: exactly `round(count × invalidRatio)` of them are invalid (a field broken
 * against the schema, or every fifth one malformed JSON), at positions chosen by the seed.
 */
export function* syntheticEvents(
  type: string,
  count: number,
  options: { invalidRatio?: number; seed?: number; baseTime?: number } = {},
): Generator<SyntheticEvent> {
  const rng = new Rng(options.seed ?? 1);
  const base = options.baseTime ?? Date.UTC(2026, 0, 15, 12);
  const invalid = rng.sample(count, Math.round(count * (options.invalidRatio ?? 0)));
  const breakers = BREAKERS[type];
  if (!breakers)
    throw new Error(
      `No synthetic generator for type ${JSON.stringify(type)}; choose one of ${SYNTHETIC_TYPES.join(', ')}.`,
    );
  let broken = 0;
  for (let i = 0; i < count; i++) {
    const value =
      type === 'transactions'
        ? transaction(rng, i, base)
        : type === 'taxi_trips'
          ? taxiTrip(rng, base)
          : click(rng, base);
    if (!invalid.has(i)) {
      yield { value, valid: true };
      continue;
    }
    if (broken++ % 5 === 4) {
      yield { raw: JSON.stringify(value).slice(0, -1), valid: false };
      continue;
    }
    rng.pick(breakers)(value, rng);
    yield { value, valid: false };
  }
}
