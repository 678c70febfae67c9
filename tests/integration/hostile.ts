/**
 * Hostile requests against `tributary dev` (the real gateway, handler and emulators, on loopback): malformed
 * percent-encoding and odd paths, huge and odd headers, wrong, missing and repeated content types, bytes that are not
 * UTF-8, lone surrogates, repeated names, integers beyond 2^53, deep nesting, bodies at and over the limits with and
 * without Content-Length, chunked bodies, truncated bodies, NUL bytes, unknown types, `?v=` junk, wrong API keys,
 * other methods. Every request is written byte for byte on its own socket (no client library normalizes it) from a
 * seeded generator: `TRIBUTARY_FUZZ_SEED=<n>` replays a run, `TRIBUTARY_FUZZ_REQUESTS` sets its size.
 *
 * It ends with no 5xx, every emulator alive and healthy, each answer what its request deserves, every accepted event
 * in the lake exactly once (card numbers sent as 19-digit JSON numbers with every digit) and every rejected event and
 * refused body in the quarantine exactly once. Refusals that keep nothing (401, 404, 405, 413, 415, a bad path or
 * `?v=`, a header the HTTP parser refuses, a truncated upload) are in neither.
 */
import net from 'node:net';
import { MAX_BODY_BYTES } from '../../lib/events/limits.ts';
import { Rng } from '../../lib/produce/random.ts';
import { syntheticEvents } from '../../lib/produce/synthetic.ts';
import { MAX_EVENT_DEPTH } from '../../lib/registry/json.ts';
import type { DevRuntime } from '../../local/dev.ts';
import { duplicates, readLake, waitFor } from './helpers.ts';

const TYPES = ['transactions', 'taxi_trips', 'clickstream'] as const;
type TypeName = (typeof TYPES)[number];
/** Every kind of request the generator makes; a run of 10,000 makes each of them. */
export const KINDS = [
  'ndjson',
  'json-array',
  'json-object',
  'ndjson-mixed',
  'json-mixed',
  'malformed',
  'not-utf8',
  'fffd-raw-json',
  'fffd-escaped',
  'fffd-ndjson',
  'content-type',
  'unknown-type',
  'version',
  'version-ok',
  'auth',
  'method',
  'path',
  'huge-header',
  'many-headers',
  'nul-header',
  'bad-header-name',
  'two-lengths',
  'too-many',
  'huge-declared',
  'over-limit',
  'over-limit-chunked',
  'at-limit',
  'at-limit-chunked',
  'chunked',
  'bad-chunk',
  'truncated',
  'truncated-chunked',
  'big-integers',
  'depth-at-limit',
  'expect-continue',
];

/** What a request deserves. `quarantined`: whole bodies the API must have put in the quarantine (0 or 1). */
interface Expected {
  status: number;
  error?: string;
  accepted?: number;
  rejected?: number;
  quarantined?: number;
}

interface Case {
  kind: string;
  bytes: Buffer;
  /** Send only this many bytes, then drop the connection (a client that goes away mid-upload). */
  truncateAt?: number;
  /** `undefined`: no answer expected (truncated upload). */
  expect?: Expected;
  /**
   * Refused by Node's HTTP parser, which answers and closes at once: if the client is still sending, the kernel may
   * reset the connection before the answer is read, so a dropped connection is as good as the answer.
   */
  parserRefusal?: boolean;
  /** Card numbers sent as JSON numbers, by event id: the lake must hold every digit. */
  exactCards?: [string, string][];
}

interface Answer {
  status: number;
  body: string;
}

/** Writes one request on its own connection and reads the answer (after any 100 Continue) until the server closes. */
function exchange(port: number, c: Case): Promise<Answer | 'dropped'> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const done = (v: Answer | 'dropped') => {
      if (settled) return;
      settled = true;
      sock.destroy();
      resolve(v);
    };
    const head = c.bytes.subarray(0, 5).toString() === 'HEAD ';
    /** The answer, once all of it is in (a HEAD answer and one without Content-Length end when the server closes). */
    const answer = (closed: boolean): Answer | undefined => {
      let text = Buffer.concat(chunks).toString('latin1');
      while (text.startsWith('HTTP/1.1 100')) text = text.slice(text.indexOf('\r\n\r\n') + 4);
      const end = text.indexOf('\r\n\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      if (end < 0 || !status) return undefined;
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end))?.[1];
      const body = Buffer.from(text.slice(end + 4), 'latin1');
      if (!closed && (head || length === undefined || body.length < Number(length))) return undefined;
      return { status, body: body.toString('utf8') };
    };
    sock.setTimeout(60_000, () => done({ status: -1, body: 'timeout' }));
    sock.on('data', (d) => {
      chunks.push(d);
      // A refused upload is answered before it ends: stop sending once the answer is complete.
      const a = answer(false);
      if (a) done(a);
    });
    sock.on('error', () => {});
    sock.on('close', () => done(answer(true) ?? 'dropped'));
    sock.on('connect', () => {
      if (c.truncateAt === undefined) {
        sock.write(c.bytes);
        return;
      }
      sock.write(c.bytes.subarray(0, c.truncateAt), () => setTimeout(() => done('dropped'), 20));
    });
  });
}

type Header = [string, string];

/** An HTTP/1.1 request, byte for byte: `length` 'auto' adds Content-Length, 'none' leaves it out, a number lies. */
function http(
  method: string,
  target: string,
  headers: Header[],
  body?: Buffer | string,
  length: 'auto' | 'none' | number = 'auto',
): Buffer {
  const b = body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(body) ? body : Buffer.from(body);
  const lines = [
    `${method} ${target} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Connection: close',
    ...headers.map(([k, v]) => `${k}: ${v}`),
  ];
  if (length === 'auto' && (body !== undefined || method === 'POST')) lines.push(`Content-Length: ${b.length}`);
  else if (typeof length === 'number') lines.push(`Content-Length: ${length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), b]);
}

/** The same body in chunked transfer coding, cut at random places. */
function chunked(rng: Rng, body: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < body.length; ) {
    const n = Math.min(body.length - i, rng.int(1, 4096));
    parts.push(Buffer.from(`${n.toString(16)}\r\n`), body.subarray(i, i + n), Buffer.from('\r\n'));
    i += n;
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

/** Valid events with ids unique across the run (the lake check counts ids). */
class Events {
  #pools = new Map<TypeName, Record<string, unknown>[]>();
  #n = 0;

  constructor(readonly seed: number) {
    for (const t of TYPES)
      this.#pools.set(
        t,
        [...syntheticEvents(t, 200, { seed: seed + t.length })].map((e) => e.value!),
      );
  }

  next(rng: Rng, type: TypeName): Record<string, unknown> {
    const e = structuredClone(rng.pick(this.#pools.get(type)!));
    const n = ++this.#n;
    if (type === 'transactions') e.trans_num = `f${n.toString(16).padStart(31, '0')}`;
    else if (type === 'taxi_trips') e.TRIP_ID = `9${String(n).padStart(12, '0')}`;
    else (e.metadata as Record<string, unknown>).uuid = `fz-${this.seed}-${n}`;
    return e;
  }

  /** An event the schema refuses (its id kept, so it is still one of a kind). */
  invalid(rng: Rng, type: TypeName): Record<string, unknown> {
    const e = this.next(rng, type);
    if (type === 'transactions') rng.pick([() => (e.gender = 'X'), () => (e.amt = 'lots'), () => (e.cc_num = null)])();
    else if (type === 'taxi_trips') rng.pick([() => (e.CALL_TYPE = 'D'), () => (e.TAXI_ID = 'abc')])();
    else e.payload = 'nope';
    return e;
  }
}

const spaced = (v: unknown) => JSON.stringify(v, null, 1).replace(/\n\s*/g, ' ');
const nest = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

/** NDJSON lines the strict reader refuses, each one rejected event. */
const BAD_LINES: ((e: Record<string, unknown>) => string)[] = [
  (e) => JSON.stringify(e).slice(0, -1),
  (e) => `${JSON.stringify(e).slice(0, -1)},"dup":1,"dup":2}`,
  (e) => `${JSON.stringify(e).slice(0, -1)},"s":"\\ud800"}`,
  (e) => `${JSON.stringify(e).slice(0, -1)},"deep":${nest(MAX_EVENT_DEPTH + 5)}}`,
  (e) => `${JSON.stringify(e).slice(0, -1)},"n":1e400}`,
  (e) => `${JSON.stringify(e).slice(0, -1)},"nul":"a\u0000b"}`,
];

/** Whole bodies the strict reader refuses: 400, quarantined once. One line each, so none is sniffed as NDJSON. */
const BAD_DOCUMENTS: ((e: Record<string, unknown>) => string)[] = [
  (e) => JSON.stringify(e).slice(0, -3),
  (e) => `[${JSON.stringify(e)},`,
  () => 'garbage, not json',
  () => 'true',
  () => '[]',
  (e) => `${JSON.stringify(e).slice(0, -1)},"cc_num":"4111111111111111","cc_num":12345678901234567890123}`,
  (e) => `[${JSON.stringify(e)},{"a":{"b":1,"b":2}}]`,
  (e) => `${JSON.stringify(e).slice(0, -1)},"k\\udc00":1}`,
  (e) => `${JSON.stringify(e).slice(0, -1)},"deep":${nest(4000 + (JSON.stringify(e).length % 3000))}}`,
  (e) => `${JSON.stringify(e).slice(0, -1)},"nul":"raw\u0000nul"}`,
  (e) => `${JSON.stringify(e).slice(0, -1)},"x":-1e999}`,
];

function makeCase(rng: Rng, events: Events, key: string): Case {
  const type = rng.pick(TYPES);
  const path = `/v1/events/${type}`;
  const auth: Header = ['x-api-key', key];
  const json: Header = ['Content-Type', 'application/json'];
  const batch = (n: number) => Array.from({ length: n }, () => events.next(rng, type));
  const ok = (accepted: number): Expected => ({ status: 200, accepted, rejected: 0, quarantined: 0 });
  const roll = rng.int(0, 999);

  if (roll < 170) {
    const es = batch(rng.int(1, 8));
    const ct = rng.pick([
      'application/x-ndjson',
      'application/ndjson; charset=utf-8',
      'application/jsonl',
      'application/x-jsonlines',
      'APPLICATION/X-NDJSON',
    ]);
    const body =
      es.map((e) => (rng.next() < 0.3 ? spaced(e) : JSON.stringify(e))).join(rng.pick(['\n', '\r\n', '\n\n'])) +
      rng.pick(['', '\n']);
    return { kind: 'ndjson', bytes: http('POST', path, [auth, ['Content-Type', ct]], body), expect: ok(es.length) };
  }
  if (roll < 280) {
    const es = batch(rng.int(1, 8));
    const ct = rng.pick([
      'application/json',
      'application/json; charset=UTF-8',
      'text/plain;charset=UTF-8',
      'application/vnd.tributary.events+json',
      undefined,
    ]);
    const body = rng.next() < 0.5 ? JSON.stringify(es) : JSON.stringify(es, null, 2);
    return {
      kind: 'json-array',
      bytes: http('POST', path, [auth, ...(ct ? [['Content-Type', ct] as Header] : [])], body),
      expect: ok(es.length),
    };
  }
  if (roll < 330) {
    const [e] = batch(1);
    return {
      kind: 'json-object',
      bytes: http('POST', path, [auth, json], rng.next() < 0.5 ? JSON.stringify(e) : ` ${spaced(e)}\n`),
      expect: ok(1),
    };
  }
  if (roll < 430) {
    const good = rng.int(1, 10);
    const invalid = rng.int(0, 5);
    const malformed = rng.int(invalid ? 0 : 1, 5);
    const lines = [
      ...batch(good).map((e) => JSON.stringify(e)),
      ...Array.from({ length: invalid }, () => JSON.stringify(events.invalid(rng, type))),
      ...Array.from({ length: malformed }, () => rng.pick(BAD_LINES)(events.next(rng, type))),
    ];
    for (let i = lines.length - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
    }
    return {
      kind: 'ndjson-mixed',
      bytes: http('POST', path, [auth, ['Content-Type', 'application/x-ndjson']], lines.join('\n')),
      expect: { status: 207, accepted: good, rejected: invalid + malformed, quarantined: 0 },
    };
  }
  if (roll < 470) {
    const good = batch(rng.int(1, 8));
    const bad = Array.from({ length: rng.int(1, 4) }, () => events.invalid(rng, type));
    return {
      kind: 'json-mixed',
      bytes: http('POST', path, [auth, json], JSON.stringify([...good, ...bad])),
      expect: { status: 207, accepted: good.length, rejected: bad.length, quarantined: 0 },
    };
  }
  if (roll < 560) {
    const body = rng.pick(BAD_DOCUMENTS)(events.next(rng, type));
    return {
      kind: 'malformed',
      bytes: http('POST', path, [auth, rng.pick([json, ['Content-Type', 'text/plain'] as Header])], body),
      expect: { status: 400, error: 'malformed_json', quarantined: 1 },
    };
  }
  if (roll < 610) {
    // Bytes that are not UTF-8 (a Latin-1 é, a lone continuation byte, an encoded surrogate, an overlong slash).
    const e = JSON.stringify(events.next(rng, type));
    const bad = rng.pick([[0xe9], [0x80], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xff, 0xfe]]);
    const body = Buffer.concat([Buffer.from(`${e.slice(0, -1)},"x":"`), Buffer.from(bad), Buffer.from('"}')]);
    const ct = rng.pick(['application/json', 'text/plain', 'application/x-ndjson', undefined]);
    return {
      kind: 'not-utf8',
      bytes: http('POST', path, [auth, ...(ct ? [['Content-Type', ct] as Header] : [])], body),
      expect: { status: 400, error: 'malformed_json', quarantined: 1 },
    };
  }
  if (roll < 630) {
    // U+FFFD: raw in a body API Gateway decodes (refused), escaped (accepted), raw in NDJSON bytes (accepted).
    const [e] = batch(1);
    const text = JSON.stringify(e);
    const which = rng.int(0, 2);
    if (which === 0)
      return {
        kind: 'fffd-raw-json',
        bytes: http('POST', path, [auth, json], `${text.slice(0, -1)},"r":"\ufffd"}`),
        expect: { status: 400, error: 'malformed_json', quarantined: 1 },
      };
    if (which === 1)
      return {
        kind: 'fffd-escaped',
        bytes: http('POST', path, [auth, json], `${text.slice(0, -1)},"r":"\\ufffd"}`),
        expect: ok(1),
      };
    return {
      kind: 'fffd-ndjson',
      bytes: http('POST', path, [auth, ['Content-Type', 'application/x-ndjson']], `${text.slice(0, -1)},"r":"\ufffd"}`),
      expect: ok(1),
    };
  }
  if (roll < 680) {
    const headers: Header[] = rng.pick([
      [['Content-Type', 'application/x-www-form-urlencoded']],
      [['Content-Type', 'text/csv']],
      [['Content-Type', 'application/xml']],
      [['Content-Type', 'application/octet-stream']],
      [['Content-Type', 'multipart/form-data; boundary=x']],
      [['Content-Type', 'application/json-seq']],
      [['Content-Type', 'application/json; charset=latin1']],
      [['Content-Type', 'text/plain; charset=utf-16']],
      [
        ['Content-Type', 'application/json'],
        ['Content-Type', 'application/json'],
      ],
      [
        ['Content-Type', 'application/json'],
        ['Content-Type', 'application/x-ndjson'],
      ],
      [['Content-Type', '"application/json"']],
      [['Content-Type', 'json']],
    ] as Header[][]);
    return {
      kind: 'content-type',
      bytes: http('POST', path, [auth, ...headers], JSON.stringify(batch(1)[0])),
      expect: { status: 415, error: 'unsupported_media_type' },
    };
  }
  if (roll < 710) {
    const name = rng.pick([
      'orders',
      'Transactions',
      'transactions%20',
      '%00nul',
      'caf%C3%A9',
      'x'.repeat(rng.int(300, 2000)),
      'transactions.json',
      '..',
      '%2e%2e',
    ]);
    return {
      kind: 'unknown-type',
      bytes: http('POST', `/v1/events/${name}`, [auth, json], JSON.stringify(batch(1)[0])),
      expect: { status: 400, error: 'unknown_type', quarantined: 1 },
    };
  }
  if (roll < 740) {
    const v = rng.pick(['', 'abc', '1.5', '-1', '1e0', '0x1', '1&v=1', '%zz', '9', '99999999999']);
    return {
      kind: 'version',
      bytes: http('POST', `${path}?v=${v}`, [auth, json], JSON.stringify(batch(1)[0])),
      expect: { status: 400, error: 'unknown_version' },
    };
  }
  if (roll < 750) {
    const [e] = batch(1);
    return {
      kind: 'version-ok',
      bytes: http('POST', `${path}?v=1&other=%zz`, [auth, json], JSON.stringify(e)),
      expect: ok(1),
    };
  }
  if (roll < 790) {
    const keys: Header[][] = [
      [],
      [['x-api-key', 'wrong']],
      [['x-api-key', `${key}x`]],
      [
        ['x-api-key', key],
        ['x-api-key', key],
      ],
      [['x-api-key', ` ${key.slice(1)}`]],
      [['X-API-KEY', key.toUpperCase()]],
    ];
    return {
      kind: 'auth',
      bytes: http('POST', path, [...rng.pick(keys), json], JSON.stringify(batch(1)[0])),
      expect: { status: 401, error: 'unauthorized' },
    };
  }
  if (roll < 820) {
    const [method, target, status] = rng.pick([
      ['GET', path, 405],
      ['PUT', path, 405],
      ['DELETE', path, 405],
      ['PATCH', path, 405],
      ['OPTIONS', path, 405],
      ['POST', '/health', 405],
      ['GET', '/health', 200],
      ['HEAD', '/health', 200],
      ['FOO', path, 400],
      ['OPTIONS', '*', 400],
    ] as [string, string, number][]);
    return {
      kind: 'method',
      bytes: http(method, target, [auth], method === 'GET' || method === 'HEAD' ? undefined : '{}'),
      expect: { status },
      parserRefusal: method === 'FOO',
    };
  }
  if (roll < 860) {
    const [target, status] = rng.pick([
      ['/v1/events/%zz', 400],
      ['/v1/events/%', 400],
      ['/v1/events/%E0%A4%A', 400],
      ['/v1/events/%ED%A0%80', 400],
      ['/%C0%AF', 400],
      ['//', 404],
      ['/v1/events/', 404],
      [`${path}/extra`, 404],
      ['/V1/EVENTS/transactions', 404],
      ['/v1/events/a%2Fb', 404],
      ['/v1/events/..%2Ftransactions', 404],
      [`/${'a/'.repeat(2000)}`, 404],
      ['http://127.0.0.1/v1/events/transactions', 400],
    ] as [string, number][]);
    return { kind: 'path', bytes: http('POST', target, [auth, json], '{}'), expect: { status } };
  }
  if (roll < 890) {
    const which = rng.int(0, 4);
    if (which === 0)
      return {
        kind: 'huge-header',
        bytes: http('POST', path, [auth, json, ['x-junk', 'j'.repeat(rng.int(17_000, 60_000))]], '{}'),
        expect: { status: 431 },
        parserRefusal: true,
      };
    if (which === 1) {
      const es = batch(rng.int(1, 3));
      const many = Array.from({ length: rng.int(50, 400) }, (_, i): Header => [`x-h${i}`, 'v'.repeat(rng.int(0, 20))]);
      return {
        kind: 'many-headers',
        bytes: http('POST', path, [auth, json, ...many], JSON.stringify(es)),
        expect: ok(es.length),
      };
    }
    if (which === 2)
      return {
        kind: 'nul-header',
        bytes: http('POST', path, [auth, json, ['x-nul', 'a\u0000b']], '{}'),
        expect: { status: 400 },
        parserRefusal: true,
      };
    if (which === 3)
      return {
        kind: 'bad-header-name',
        bytes: http('POST', path, [auth, json, ['bad header', 'x']], '{}'),
        expect: { status: 400 },
        parserRefusal: true,
      };
    return {
      kind: 'two-lengths',
      bytes: http('POST', path, [auth, json, ['Content-Length', '2'], ['Content-Length', '3']], '{}', 'none'),
      expect: { status: 400 },
      parserRefusal: true,
    };
  }
  if (roll < 930) {
    const which = rng.int(0, 19);
    if (which < 6)
      return {
        kind: 'too-many',
        bytes: http(
          'POST',
          path,
          [auth, ['Content-Type', 'application/x-ndjson']],
          Array.from({ length: 501 }, () => '{}').join('\n'),
        ),
        expect: { status: 413, error: 'too_large' },
      };
    if (which < 11)
      return {
        kind: 'huge-declared',
        bytes: http('POST', path, [auth, json], '{"a":1', 10 * 1024 ** 3),
        expect: { status: 413, error: 'too_large' },
      };
    if (which < 15) {
      const body = Buffer.alloc(MAX_BODY_BYTES + 1 + rng.int(0, 100_000), 0x20);
      return {
        kind: 'over-limit',
        bytes: http('POST', path, [auth, json], body),
        expect: { status: 413, error: 'too_large' },
      };
    }
    if (which < 19) {
      const body = Buffer.alloc(MAX_BODY_BYTES + rng.int(1, 100_000), 0x20);
      return {
        kind: 'over-limit-chunked',
        bytes: http('POST', path, [auth, json, ['Transfer-Encoding', 'chunked']], chunked(rng, body), 'none'),
        expect: { status: 413, error: 'too_large' },
      };
    }
    // Exactly at the limit: 500 transactions padded to 5 MiB in all, with a Content-Length or chunked.
    const lines = Array.from({ length: 500 }, () => JSON.stringify(events.next(rng, 'transactions')));
    const room = MAX_BODY_BYTES - lines.reduce((n, l) => n + Buffer.byteLength(l), 0) - (lines.length - 1);
    const pad = Math.floor(room / lines.length) - ',"pad":""'.length;
    const padded = lines.map((l) => `${l.slice(0, -1)},"pad":"${'p'.repeat(pad)}"}`);
    const last = padded.length - 1;
    const short = MAX_BODY_BYTES - (padded.reduce((n, l) => n + Buffer.byteLength(l), 0) + last);
    padded[last] = `${padded[last]!.slice(0, -2)}${'p'.repeat(short)}"}`;
    const body = Buffer.from(padded.join('\n'));
    if (body.length !== MAX_BODY_BYTES) throw new Error(`at-limit body is ${body.length} bytes, not ${MAX_BODY_BYTES}`);
    const nd: Header = ['Content-Type', 'application/x-ndjson'];
    const te = rng.next() < 0.5;
    return {
      kind: te ? 'at-limit-chunked' : 'at-limit',
      bytes: te
        ? http(
            'POST',
            '/v1/events/transactions',
            [auth, nd, ['Transfer-Encoding', 'chunked']],
            chunked(rng, body),
            'none',
          )
        : http('POST', '/v1/events/transactions', [auth, nd], body),
      expect: ok(500),
    };
  }
  if (roll < 950) {
    const es = batch(rng.int(1, 10));
    const body = Buffer.from(es.map((e) => JSON.stringify(e)).join('\n'));
    if (rng.next() < 0.7)
      return {
        kind: 'chunked',
        bytes: http(
          'POST',
          path,
          [auth, ['Content-Type', 'application/x-ndjson'], ['Transfer-Encoding', 'chunked']],
          chunked(rng, body),
          'none',
        ),
        expect: ok(es.length),
      };
    return {
      kind: 'bad-chunk',
      bytes: http(
        'POST',
        path,
        [auth, json, ['Transfer-Encoding', 'chunked']],
        Buffer.from('zz\r\n{}\r\n0\r\n\r\n'),
        'none',
      ),
      expect: { status: 400 },
      parserRefusal: true,
    };
  }
  if (roll < 970) {
    const body = Buffer.from(JSON.stringify(batch(rng.int(1, 5))));
    if (rng.next() < 0.5) {
      const bytes = http('POST', path, [auth, json], body);
      return { kind: 'truncated', bytes, truncateAt: bytes.length - rng.int(1, body.length) };
    }
    const bytes = http('POST', path, [auth, json, ['Transfer-Encoding', 'chunked']], chunked(rng, body), 'none');
    return { kind: 'truncated-chunked', bytes, truncateAt: bytes.length - rng.int(1, 5) };
  }
  if (roll < 990) {
    // Card numbers as 19- and 20-digit JSON numbers: every digit must reach the lake.
    const es = Array.from({ length: rng.int(1, 5) }, () => events.next(rng, 'transactions'));
    const cards = es.map(() => rng.digits(19));
    const lines = es.map((e, i) =>
      JSON.stringify({ ...e, cc_num: 0 }).replace('"cc_num":0', `"cc_num":${rng.pick(['', ' '])}${cards[i]}`),
    );
    return {
      kind: 'big-integers',
      bytes: http(
        'POST',
        '/v1/events/transactions',
        [auth, ['Content-Type', 'application/x-ndjson']],
        lines.join('\n'),
      ),
      expect: ok(es.length),
      exactCards: es.map((e, i) => [String(e.trans_num), cards[i]!]),
    };
  }
  if (roll < 995) {
    // Nesting exactly at the limit is an event like any other.
    const e = events.next(rng, 'clickstream');
    const body = `${JSON.stringify(e).slice(0, -1)},"deep":${nest(MAX_EVENT_DEPTH - 1)}}`;
    return { kind: 'depth-at-limit', bytes: http('POST', '/v1/events/clickstream', [auth, json], body), expect: ok(1) };
  }
  const es = batch(rng.int(1, 3));
  return {
    kind: 'expect-continue',
    bytes: http('POST', path, [auth, json, ['Expect', '100-continue']], JSON.stringify(es)),
    expect: ok(es.length),
  };
}

/** Why an answer is not what its request deserves, or undefined. */
function mismatch(c: Case, a: Answer | 'dropped'): string | undefined {
  if (!c.expect) return a === 'dropped' ? undefined : `expected no answer, got ${a.status}`;
  if (a === 'dropped') return c.parserRefusal ? undefined : 'expected an answer, the connection was dropped';
  const e = c.expect;
  if (a.status !== e.status) return `status ${a.status}, expected ${e.status}: ${a.body.slice(0, 300)}`;
  if (a.status === 200 && a.body === '') return undefined;
  let json: Record<string, unknown>;
  try {
    json = a.body ? (JSON.parse(a.body) as Record<string, unknown>) : {};
  } catch {
    return e.error || e.accepted !== undefined ? `answer is not JSON: ${a.body.slice(0, 200)}` : undefined;
  }
  if (e.error && json.error !== e.error)
    return `error ${String(json.error)}, expected ${e.error}: ${a.body.slice(0, 300)}`;
  if (e.accepted !== undefined && (json.accepted !== e.accepted || json.rejected !== e.rejected || json.failed !== 0)) {
    return `accepted/rejected/failed ${String(json.accepted)}/${String(json.rejected)}/${String(json.failed)}, expected ${e.accepted}/${e.rejected}/0`;
  }
  return undefined;
}

export interface HostileOptions {
  seed: number;
  requests: number;
  /** Requests in flight at once. */
  concurrency?: number;
  /** How long the lake may take to hold every accepted event once everything is sent. */
  lakeTimeoutMs?: number;
}

export interface HostileReport {
  seed: number;
  requests: number;
  /** Requests of each kind. */
  kinds: Map<string, number>;
  /** Answers by status (0: no answer, the connection was dropped). */
  statuses: Map<number, number>;
  sendSeconds: number;
  /** Events acknowledged as accepted, rejected, and whole bodies refused into the quarantine. */
  accepted: number;
  rejected: number;
  bodies: number;
  lakeRows: number;
  quarantined: number;
  /** From the last answer to the last accepted event in the lake. */
  lakeSeconds: number;
  /** Everything that is not as it must be; empty when the run passed. */
  problems: string[];
}

/**
 * Sends `requests` hostile requests (made in order from `seed`) to a runtime started with `consumers: false`, then
 * starts its lake writer and checks: no 5xx, every answer what its request deserves, every emulator alive and
 * `/health` OK, the lake holding exactly the accepted events (each once, card numbers with every digit) and the
 * quarantine exactly the rejected events and refused bodies, by reason. The consumers wait until everything is sent
 * because they would share this process's CPU with the gateway and the client.
 */
export async function runHostileRequests(rt: DevRuntime, options: HostileOptions): Promise<HostileReport> {
  const rng = new Rng(options.seed);
  const events = new Events(options.seed);
  const port = rt.config.ports.api;
  const acceptedIds: string[] = [];
  const cards = new Map<string, string>();
  const byReason = new Map<string, number>();
  const kinds = new Map<string, number>();
  const statuses = new Map<number, number>();
  const problems: string[] = [];
  const wrong: string[] = [];
  let rejected = 0;
  let bodies = 0;
  const count = <K>(m: Map<K, number>, k: K, n = 1) => m.set(k, (m.get(k) ?? 0) + n);

  let next = 0;
  const worker = async () => {
    while (next < options.requests) {
      const i = next++;
      const c = makeCase(rng, events, rt.apiKey);
      count(kinds, c.kind);
      const a = await exchange(port, c);
      count(statuses, a === 'dropped' ? 0 : a.status);
      const why = mismatch(c, a);
      if (why) wrong.push(`#${i} ${c.kind}: ${why}`);
      for (const [id, cc] of c.exactCards ?? []) cards.set(id, cc);
      if (a === 'dropped' || !a.body) continue;
      let json: { error?: string; results?: { id: string; status: string; reason?: string }[] };
      try {
        json = JSON.parse(a.body) as typeof json;
      } catch {
        continue;
      }
      for (const r of json.results ?? []) {
        if (r.status === 'accepted') acceptedIds.push(r.id);
        else if (r.status === 'rejected') {
          rejected++;
          count(byReason, r.reason!);
        }
      }
      if (a.status === 400 && (json.error === 'malformed_json' || json.error === 'unknown_type')) {
        bodies++;
        count(byReason, json.error);
      }
    }
  };
  const t0 = Date.now();
  // Cases are made in order from the seed, so a run replays; only their timing varies.
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
  const sent = Date.now();

  if (wrong.length)
    problems.push(
      `${wrong.length} answers are not what their request deserves (replay with seed ${options.seed}):`,
      ...wrong.slice(0, 20),
    );
  const fivexx = [...statuses].filter(([s]) => s >= 500).reduce((n, [, k]) => n + k, 0);
  if (fivexx) problems.push(`${fivexx} answers were 5xx`);
  const dead = rt.emulators.filter((e) => e.child.exitCode !== null || e.child.signalCode !== null).map((e) => e.name);
  if (dead.length) problems.push(`emulators stopped: ${dead.join(', ')}`);
  const health = await fetch(`${rt.apiUrl}/health`).then(
    (r) => r.status,
    (err: Error) => err.message,
  );
  if (health !== 200) problems.push(`GET /health answered ${health}`);
  const twice = duplicates(acceptedIds);
  if (twice.length) problems.push(`ids acknowledged twice: ${twice.slice(0, 5).join(', ')}`);

  rt.poller.start();
  const accepted = new Set(acceptedIds);
  const lake = await waitFor(
    () => readLake(rt.config),
    (l) => l.rows.length >= accepted.size,
    options.lakeTimeoutMs ?? 300_000,
    2_000,
  );
  const lakeSeconds = (Date.now() - sent) / 1000;
  const lakeIds = lake.rows.map((r) => r.id);
  const inLakeTwice = duplicates(lakeIds);
  if (inLakeTwice.length)
    problems.push(`${inLakeTwice.length} ids are in the lake more than once: ${inLakeTwice.slice(0, 5).join(', ')}`);
  const inLake = new Set(lakeIds);
  const missing = [...accepted].filter((id) => !inLake.has(id));
  const extra = lakeIds.filter((id) => !accepted.has(id));
  if (missing.length || extra.length)
    problems.push(
      `lake: ${missing.length} accepted events missing (${missing.slice(0, 3).join(', ')}), ${extra.length} not acknowledged (${extra.slice(0, 3).join(', ')})`,
    );
  for (const r of lake.rows) {
    const want = cards.get(r.id);
    const got = (r.data as { cc_num?: unknown }).cc_num;
    if (want !== undefined && got !== want)
      problems.push(`${r.id}: cc_num ${JSON.stringify(got)} in the lake, ${want} sent`);
  }
  if (lake.quarantine.length !== rejected + bodies)
    problems.push(
      `quarantine holds ${lake.quarantine.length} records, ${rejected} rejected events + ${bodies} refused bodies were answered`,
    );
  const inQuarantine = new Map<string, number>();
  for (const q of lake.quarantine) count(inQuarantine, q.reason);
  const asText = (m: Map<string, number>) => JSON.stringify(Object.fromEntries([...m].sort()));
  if (asText(inQuarantine) !== asText(byReason))
    problems.push(`quarantine by reason ${asText(inQuarantine)}, answered ${asText(byReason)}`);
  const stages = [...new Set(lake.quarantine.map((q) => q.stage))];
  if (stages.some((s) => s !== 'ingest'))
    problems.push(`quarantine stages ${stages.join(', ')}: only ingest may refuse`);
  if (lake.onFailure) problems.push(`${lake.onFailure} batches went to the on-failure destination`);
  if (options.requests >= 10_000) {
    const absent = KINDS.filter((k) => !kinds.has(k));
    if (absent.length) problems.push(`kinds never sent: ${absent.join(', ')}`);
  }
  return {
    seed: options.seed,
    requests: options.requests,
    kinds,
    statuses,
    sendSeconds: (sent - t0) / 1000,
    accepted: accepted.size,
    rejected,
    bodies,
    lakeRows: lake.rows.length,
    quarantined: lake.quarantine.length,
    lakeSeconds,
    problems,
  };
}
