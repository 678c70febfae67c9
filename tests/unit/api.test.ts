import { gunzipSync } from 'node:zlib';
import { KinesisClient, PutRecordsCommand, type PutRecordsCommandInput } from '@aws-sdk/client-kinesis';
import { PutObjectCommand, type PutObjectCommandInput, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { apiKeyMatches } from '../../lib/ingest/auth.ts';
import { handleIngestHttp, statusFor, type HttpRequest, type IngestApiDeps } from '../../lib/ingest/api.ts';
import { deliveredAsText, fromApiGatewayV2 } from '../../lib/http/apigw.ts';
import { createHandler } from '../../functions/ingest/handler.ts';
import { LAMBDA_SYNC_PAYLOAD_BYTES, MAX_BODY_BYTES } from '../../lib/events/limits.ts';
import { defaultRegistry } from '../../lib/registry/registry.ts';

const kinesisMock = mockClient(KinesisClient);
const s3Mock = mockClient(S3Client);

// Kinesis emulators never throttle: the SDK's client, mocked at its contract, stands in for a stream that refuses
// every record. Quarantine objects are kept, decoded, in `puts`.
function deps(kinesisBehaviour: 'throttle' | 'ok') {
  const puts: { key: string; body: string }[] = [];
  kinesisMock.reset();
  s3Mock.reset();
  kinesisMock.on(PutRecordsCommand).callsFake((input: PutRecordsCommandInput) => {
    const n = input.Records?.length ?? 0;
    if (kinesisBehaviour === 'throttle')
      return {
        FailedRecordCount: n,
        Records: Array.from({ length: n }, () => ({
          ErrorCode: 'ProvisionedThroughputExceededException',
          ErrorMessage: 'Rate exceeded',
        })),
      };
    return {
      FailedRecordCount: 0,
      Records: Array.from({ length: n }, (_, i) => ({
        ShardId: 'shardId-000000000000',
        SequenceNumber: String(i + 1),
      })),
    };
  });
  s3Mock.on(PutObjectCommand).callsFake((input: PutObjectCommandInput) => {
    puts.push({ key: input.Key!, body: gunzipSync(input.Body as Buffer).toString() });
    return {};
  });
  const kinesis = new KinesisClient({ region: 'us-east-1' });
  const s3 = new S3Client({ region: 'us-east-1' });
  const d: IngestApiDeps = {
    registry: defaultRegistry(),
    kinesis,
    s3,
    streamName: 'events',
    quarantineBucket: 'quarantine',
    apiKeys: ['k1', 'k2'],
    putOptions: { maxAttempts: 2, sleep: async () => {} },
  };
  return { d, puts };
}

const req = (over: Partial<HttpRequest>): HttpRequest => ({
  method: 'POST',
  path: '/v1/events/transactions',
  headers: { 'x-api-key': 'k1' },
  query: {},
  body: '{}',
  ...over,
});
const tx = (n: string) => ({ trans_num: n.repeat(32), cc_num: '4111111111111111' });

describe('ingest API responses', () => {
  it('requires a matching x-api-key', async () => {
    const { d } = deps('ok');
    expect(apiKeyMatches('k2', ['k1', 'k2'])).toBe(true);
    expect(apiKeyMatches('k', ['k1'])).toBe(false);
    expect(apiKeyMatches(undefined, [''])).toBe(false);
    const res = await handleIngestHttp(req({ headers: {} }), d);
    expect(res.statusCode).toBe(401);
    expect(JSON.parse(res.body).error).toBe('unauthorized');
  });

  it('routes: 404 with the known types, 405 for the wrong method', async () => {
    const { d } = deps('ok');
    const nf = await handleIngestHttp(req({ path: '/v1/nothing' }), d);
    expect(nf.statusCode).toBe(404);
    expect(JSON.parse(nf.body).message).toBe(
      'No route POST /v1/nothing. Send events with POST /v1/events/{type} (types: clickstream, taxi_trips, transactions).',
    );
    expect((await handleIngestHttp(req({ method: 'GET' }), d)).statusCode).toBe(405);
  });

  it('answers 200 when all are accepted and 207 when some are quarantined', async () => {
    const { d, puts } = deps('ok');
    const all = await handleIngestHttp(req({ body: JSON.stringify([tx('a'), tx('b')]) }), d);
    expect(all.statusCode).toBe(200);
    expect(JSON.parse(all.body)).toEqual({
      accepted: 2,
      rejected: 0,
      failed: 0,
      results: [
        { index: 0, id: 'a'.repeat(32), status: 'accepted' },
        { index: 1, id: 'b'.repeat(32), status: 'accepted' },
      ],
    });
    const mixed = await handleIngestHttp(req({ body: JSON.stringify([tx('c'), { ...tx('d'), gender: 'Q' }]) }), d);
    expect(mixed.statusCode).toBe(207);
    expect(puts).toHaveLength(1);
    expect(puts[0]!.key).toMatch(
      /^records\/dt=\d{4}-\d{2}-\d{2}\/reason=schema_violation\/ingest-[0-9a-f-]{36}\.jsonl\.gz$/,
    );
    const q = JSON.parse(puts[0]!.body);
    expect(Object.keys(q)).toEqual([
      'id',
      'stage',
      'reason',
      'errors',
      'type',
      'v',
      'received_at',
      'quarantined_at',
      'payload',
      'payload_encoding',
      'attempts',
      'source',
    ]);
    expect(q).toMatchObject({
      id: 'd'.repeat(32),
      stage: 'ingest',
      reason: 'schema_violation',
      type: 'transactions',
      v: 1,
      payload: JSON.stringify({ ...tx('d'), gender: 'Q' }),
      payload_encoding: 'utf8',
      attempts: 1,
      source: 'api',
    });
  });

  it('answers 503 with per-event failures when the stream refuses everything, and quarantines nothing valid', async () => {
    const { d, puts } = deps('throttle');
    const res = await handleIngestHttp(req({ body: JSON.stringify([tx('e')]) }), d);
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    const body = JSON.parse(res.body);
    expect(body).toMatchObject({ accepted: 0, rejected: 0, failed: 1 });
    expect(body.results[0]).toEqual({
      index: 0,
      id: 'e'.repeat(32),
      status: 'failed',
      reason: 'ProvisionedThroughputExceededException',
      errors: [{ path: '/', keyword: 'stream', message: 'not accepted by the stream after 2 attempts: Rate exceeded' }],
      retryable: true,
    });
    expect(puts).toEqual([]);
    expect(statusFor({ accepted: 0, rejected: 1, failed: 1, results: [] })).toBe(207);
  });

  it('quarantines a malformed body and an unknown type, answering 400', async () => {
    const { d, puts } = deps('ok');
    const bad = await handleIngestHttp(req({ body: '{"a":' }), d);
    expect(bad.statusCode).toBe(400);
    const unknown = await handleIngestHttp(req({ path: '/v1/events/orders', body: '{"a":1}' }), d);
    expect(unknown.statusCode).toBe(400);
    expect(puts.map((p) => p.key.split('/')[2])).toEqual(['reason=malformed_json', 'reason=unknown_type']);
    expect(JSON.parse(puts[1]!.body)).toMatchObject({ type: 'orders', reason: 'unknown_type', payload: '{"a":1}' });
    const binary = await handleIngestHttp(req({ body: Buffer.from([0xff, 0xfe]) }), d);
    expect(binary.statusCode).toBe(400);
    expect(JSON.parse(puts[2]!.body)).toMatchObject({ payload: '//4=', payload_encoding: 'base64' });
  });

  it('reads API Gateway v2 events, base64 bodies included', () => {
    const r = fromApiGatewayV2({
      version: '2.0',
      routeKey: 'POST /v1/events/{type}',
      rawPath: '/v1/events/transactions',
      rawQueryString: 'v=1',
      headers: { 'X-Api-Key': 'k1' },
      queryStringParameters: { v: '1' },
      requestContext: { http: { method: 'POST', path: '/v1/events/transactions' } } as never,
      body: Buffer.from('{"a":1}').toString('base64'),
      isBase64Encoded: true,
    });
    expect(r).toEqual({
      method: 'POST',
      path: '/v1/events/transactions',
      headers: { 'x-api-key': 'k1' },
      query: { v: '1' },
      body: Buffer.from('{"a":1}'),
    });
  });
});

describe('event times the lake does not show', () => {
  it('are rejected at their field and quarantined, so no accepted event is invisible to Athena', async () => {
    const { d, puts } = deps('ok');
    const at = (n: string, t: string) => ({ ...tx(n), trans_date_trans_time: t });
    const res = await handleIngestHttp(
      req({
        body: JSON.stringify([
          at('a', '2019-01-01 00:00:18'),
          at('b', '1999-12-31 23:59:59'),
          at('c', '2999-01-01 00:00:00'),
        ]),
      }),
      d,
    );
    expect(res.statusCode).toBe(207);
    const body = JSON.parse(res.body);
    expect(body.results.map((r: { status: string }) => r.status)).toEqual(['accepted', 'accepted', 'rejected']);
    expect(body.results[2]).toMatchObject({
      reason: 'schema_violation',
      errors: [{ path: '/trans_date_trans_time', keyword: 'range' }],
    });
    expect(JSON.parse(puts[0]!.body)).toMatchObject({ id: 'c'.repeat(32), reason: 'schema_violation' });
  });
});

describe('ingest API metrics', () => {
  it('counts accepted and rejected events per type, and what the stream took per shard', async () => {
    const { d } = deps('ok');
    // What the stream was sent: every record's data and partition key, as the SDK client was asked to put them.
    const sentBytes = () =>
      kinesisMock
        .commandCalls(PutRecordsCommand)
        .flatMap((c) => c.args[0].input.Records ?? [])
        .reduce((n, r) => n + r.Data!.byteLength + Buffer.byteLength(r.PartitionKey!), 0);
    const counted: unknown[][] = [];
    d.metrics = { recordIngest: (...a) => void counted.push(['ingest', ...a]) };
    d.putOptions = { ...d.putOptions, metrics: { recordPut: (...a) => void counted.push(['put', ...a]) } };
    const res = await handleIngestHttp(
      req({ body: JSON.stringify([tx('a'), tx('b'), { ...tx('c'), gender: 'Q' }]) }),
      d,
    );
    expect(res.statusCode).toBe(207);
    const sent = sentBytes();
    expect(sent).toBeGreaterThan(0);
    expect(counted).toEqual([
      ['put', 'shardId-000000000000', 2, sent, 0],
      ['ingest', 'transactions', 2, 1],
    ]);
  });
});

describe('through the Lambda handler, with events shaped as API Gateway sends them', () => {
  /**
   * A payload 2.0 event as an HTTP API builds it: text/*, application/json, application/xml and application/javascript
   * bodies as a string decoded from UTF-8 (bytes that are not UTF-8 become U+FFFD), any other body base64.
   */
  function apigw(
    bytes: Buffer,
    contentType: string | undefined,
    over: { path?: string; query?: Record<string, string>; key?: string } = {},
  ): APIGatewayProxyEventV2 {
    const text = deliveredAsText(contentType);
    const path = over.path ?? '/v1/events/transactions';
    return {
      version: '2.0',
      routeKey: 'POST /v1/events/{type}',
      rawPath: path,
      rawQueryString: new URLSearchParams(over.query ?? {}).toString(),
      headers: {
        'x-api-key': over.key ?? 'k1',
        ...(contentType ? { 'content-type': contentType } : {}),
        'content-length': String(bytes.length),
      },
      ...(over.query ? { queryStringParameters: over.query } : {}),
      pathParameters: { type: path.split('/')[3]! },
      requestContext: { http: { method: 'POST', path } } as never,
      body: text ? bytes.toString('utf8') : bytes.toString('base64'),
      isBase64Encoded: !text,
    };
  }
  const call = async (d: IngestApiDeps, event: APIGatewayProxyEventV2) => {
    const res = (await createHandler(() => d)(event)) as {
      statusCode: number;
      body: string;
      headers: Record<string, string>;
    };
    return { status: res.statusCode, headers: res.headers, json: JSON.parse(res.body) as Record<string, unknown> };
  };
  const tx1 = '{"trans_num":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","cc_num":"4111111111111111","merchant":"caf\u00e9"}';
  const notUtf8 = Buffer.concat([Buffer.from(tx1.slice(0, -2)), Buffer.from([0xe9]), Buffer.from('"}')]);

  it('answers 400 to bodies that are not UTF-8, whether API Gateway passed them as text or as bytes, and quarantines them', async () => {
    const { d, puts } = deps('ok');
    for (const ct of ['application/json', 'text/plain; charset=utf-8', 'application/x-ndjson', undefined]) {
      const res = await call(d, apigw(notUtf8, ct));
      expect([ct, res.status, res.json.error, (res.json.errors as { keyword: string }[])[0]!.keyword]).toEqual([
        ct,
        400,
        'malformed_json',
        'encoding',
      ]);
    }
    expect(puts.map((p) => JSON.parse(p.body)).map((q) => [q.reason, q.payload_encoding, q.errors[0].keyword])).toEqual(
      [
        ['malformed_json', 'utf8', 'encoding'],
        ['malformed_json', 'utf8', 'encoding'],
        ['malformed_json', 'base64', 'encoding'],
        ['malformed_json', 'base64', 'encoding'],
      ],
    );
    expect(JSON.parse(puts[2]!.body).payload).toBe(notUtf8.toString('base64'));
    // A real U+FFFD gets through as the JSON escape in text bodies, and as itself in bodies passed as bytes.
    const escaped = await call(d, apigw(Buffer.from(tx1.replace('caf\u00e9', 'x\\ufffd')), 'application/json'));
    expect(escaped.status).toBe(200);
    const rawFffd = await call(
      d,
      apigw(Buffer.from(tx1.replace('aaaa', 'bbbb').replace('caf\u00e9', 'x\ufffd')), 'application/x-ndjson'),
    );
    expect(rawFffd.status).toBe(200);
    expect(puts).toHaveLength(4);
  });

  it('refuses content types that are not JSON or NDJSON with 415, before reading the body, and quarantines nothing', async () => {
    const { d, puts } = deps('ok');
    for (const ct of [
      'application/x-www-form-urlencoded',
      'text/csv',
      'application/xml',
      'application/json, application/json',
      'application/json; charset=iso-8859-1',
    ]) {
      const res = await call(d, apigw(Buffer.from(tx1), ct));
      expect([ct, res.status, res.json.error]).toEqual([ct, 415, 'unsupported_media_type']);
      expect(res.json.accepted).toMatch(/^application\/json/);
    }
    expect(puts).toEqual([]);
  });

  it('answers 400, never 500, to valid-looking JSON the strict reader refuses, and quarantines the body once with the place', async () => {
    const { d, puts } = deps('ok');
    const cases: [string, string, string][] = [
      [
        '{"trans_num":"cccccccccccccccccccccccccccccccc","cc_num":"4111111111111111","cc_num":49923463980651541840}',
        'duplicate',
        '/',
      ],
      [
        `{"trans_num":"dddddddddddddddddddddddddddddddd","cc_num":"4111111111111111","x":${'['.repeat(5000)}${']'.repeat(5000)}}`,
        'depth',
        `/x${'/0'.repeat(499)}`,
      ],
      [
        '{"trans_num":"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee","cc_num":"4111111111111111","merchant":"\\ud800"}',
        'encoding',
        '/merchant',
      ],
    ];
    for (const [body, keyword, path] of cases) {
      const res = await call(d, apigw(Buffer.from(body), 'application/json'));
      expect([res.status, res.json.error]).toEqual([400, 'malformed_json']);
      expect((res.json.errors as { path: string; keyword: string }[]).map((e) => [e.keyword, e.path])).toEqual([
        [keyword, path],
      ]);
    }
    const quarantined = puts.map((p) => JSON.parse(p.body));
    expect(
      quarantined.map((q) => [q.reason, q.errors[0].keyword, q.type, q.payload === cases[quarantined.indexOf(q)]![0]]),
    ).toEqual([
      ['malformed_json', 'duplicate', 'transactions', true],
      ['malformed_json', 'depth', 'transactions', true],
      ['malformed_json', 'encoding', 'transactions', true],
    ]);
  });

  it('answers 503 when a refused body cannot be quarantined, so the client keeps it and retries', async () => {
    const { d } = deps('ok');
    s3Mock.on(PutObjectCommand).rejects(new Error('SlowDown'));
    const res = await call(d, apigw(Buffer.from('{"a":'), 'application/json'));
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json).toEqual({
      error: 'quarantine_unavailable',
      message:
        'The body was refused (not valid JSON (Unexpected end of JSON input)) but could not be quarantined, so nothing of it was kept; retry the request.',
    });
  });

  it('takes no body within the limit that API Gateway could not hand to Lambda (6 MiB per synchronous invocation)', () => {
    const headers = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`x-h${i}`, 'v'.repeat(100)]));
    const event = (body: Buffer, contentType: string) => ({
      ...apigw(body, contentType),
      headers: { ...apigw(body, contentType).headers, ...headers },
    });
    const atLimit = Buffer.alloc(MAX_BODY_BYTES, 0x7b);
    expect(Buffer.byteLength(JSON.stringify(event(atLimit, 'application/x-ndjson')))).toBeLessThan(
      LAMBDA_SYNC_PAYLOAD_BYTES,
    );
    // The old 5 MiB limit did not fit once base64-encoded: API Gateway would have answered 5xx, not our 413.
    expect(
      Buffer.byteLength(JSON.stringify(event(Buffer.alloc(5 * 1024 * 1024, 0x7b), 'application/x-ndjson'))),
    ).toBeGreaterThan(LAMBDA_SYNC_PAYLOAD_BYTES);
    // Text bodies travel as JSON strings: ordinary JSON (quotes escaped) fits too.
    const line = JSON.stringify({
      ...tx('a'),
      merchant: 'fraud_Kirlin and Sons',
      category: 'grocery_pos',
      first: 'Jennifer',
      last: 'Banks',
      city: 'Moravian Falls',
    });
    const text = Buffer.from(
      `[${Array.from({ length: Math.floor(MAX_BODY_BYTES / (line.length + 1)) - 1 }, () => line).join(',')}]`,
    );
    expect(text.length).toBeLessThanOrEqual(MAX_BODY_BYTES);
    expect(Buffer.byteLength(JSON.stringify(event(text, 'application/json')))).toBeLessThan(LAMBDA_SYNC_PAYLOAD_BYTES);
  });

  it('refuses ?v= that is not a version number, without quarantining', async () => {
    const { d, puts } = deps('ok');
    for (const v of ['', 'abc', '1.5', '-1', '1e0', '0x1', '1,2']) {
      const res = await call(d, apigw(Buffer.from(tx1), 'application/json', { query: { v } }));
      expect([v, res.status, res.json.error]).toEqual([v, 400, 'unknown_version']);
    }
    expect((await call(d, apigw(Buffer.from(tx1), 'application/json', { query: { v: '7' } }))).json.message).toBe(
      'Event type transactions has no schema version 7; versions: 1.',
    );
    expect(puts).toEqual([]);
  });
});
