import { gunzipSync } from 'node:zlib';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { apiKeyMatches } from '../../lib/ingest/auth.ts';
import { handleIngestHttp, statusFor, type HttpRequest, type IngestApiDeps } from '../../lib/ingest/api.ts';
import { fromApiGatewayV2 } from '../../lib/http/apigw.ts';
import { defaultRegistry } from '../../lib/registry/registry.ts';

// Kinesis emulators never throttle; a scripted client stands in for a stream that refuses every record.
function deps(kinesisBehaviour: 'throttle' | 'ok') {
  const puts: { key: string; body: string }[] = [];
  const kinesis = {
    send: async (cmd: { input: { Records?: unknown[] } }) => {
      const n = cmd.input.Records?.length ?? 0;
      if (kinesisBehaviour === 'throttle') return { FailedRecordCount: n, Records: Array.from({ length: n }, () => ({ ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded' })) };
      return { FailedRecordCount: 0, Records: Array.from({ length: n }, (_, i) => ({ ShardId: 'shardId-000000000000', SequenceNumber: String(i + 1) })) };
    },
  } as unknown as KinesisClient;
  const s3 = {
    send: async (cmd: { input: { Key: string; Body: Buffer } }) => {
      puts.push({ key: cmd.input.Key, body: gunzipSync(cmd.input.Body).toString() });
      return {};
    },
  } as unknown as S3Client;
  const d: IngestApiDeps = { registry: defaultRegistry(), kinesis, s3, streamName: 'events', quarantineBucket: 'quarantine', apiKeys: ['k1', 'k2'], putOptions: { maxAttempts: 2, sleep: async () => {} } };
  return { d, puts };
}

const req = (over: Partial<HttpRequest>): HttpRequest => ({ method: 'POST', path: '/v1/events/transactions', headers: { 'x-api-key': 'k1' }, query: {}, body: '{}', ...over });
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
    expect(JSON.parse(nf.body).message).toBe('No route POST /v1/nothing. Send events with POST /v1/events/{type} (types: clickstream, taxi_trips, transactions).');
    expect((await handleIngestHttp(req({ method: 'GET' }), d)).statusCode).toBe(405);
  });

  it('answers 200 when all are accepted and 207 when some are quarantined', async () => {
    const { d, puts } = deps('ok');
    const all = await handleIngestHttp(req({ body: JSON.stringify([tx('a'), tx('b')]) }), d);
    expect(all.statusCode).toBe(200);
    expect(JSON.parse(all.body)).toEqual({ accepted: 2, rejected: 0, failed: 0, results: [{ index: 0, id: 'a'.repeat(32), status: 'accepted' }, { index: 1, id: 'b'.repeat(32), status: 'accepted' }] });
    const mixed = await handleIngestHttp(req({ body: JSON.stringify([tx('c'), { ...tx('d'), gender: 'Q' }]) }), d);
    expect(mixed.statusCode).toBe(207);
    expect(puts).toHaveLength(1);
    expect(puts[0]!.key).toMatch(/^records\/dt=\d{4}-\d{2}-\d{2}\/reason=schema_violation\/ingest-[0-9a-f-]{36}\.jsonl\.gz$/);
    const q = JSON.parse(puts[0]!.body);
    expect(Object.keys(q)).toEqual(['id', 'stage', 'reason', 'errors', 'type', 'v', 'received_at', 'quarantined_at', 'payload', 'payload_encoding', 'attempts', 'source']);
    expect(q).toMatchObject({ id: 'd'.repeat(32), stage: 'ingest', reason: 'schema_violation', type: 'transactions', v: 1, payload: JSON.stringify({ ...tx('d'), gender: 'Q' }), payload_encoding: 'utf8', attempts: 1, source: 'api' });
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
    expect(r).toEqual({ method: 'POST', path: '/v1/events/transactions', headers: { 'x-api-key': 'k1' }, query: { v: '1' }, body: Buffer.from('{"a":1}') });
  });
});

describe('ingest API metrics', () => {
  it('counts accepted and rejected events per type, and what the stream took per shard', async () => {
    const { d } = deps('ok');
    let sent = 0;
    const send = d.kinesis.send.bind(d.kinesis) as (cmd: unknown) => Promise<unknown>;
    d.kinesis = {
      send: (cmd: { input: { Records: { Data: Uint8Array; PartitionKey: string }[] } }) => {
        for (const r of cmd.input.Records) sent += r.Data.byteLength + Buffer.byteLength(r.PartitionKey);
        return send(cmd);
      },
    } as unknown as KinesisClient;
    const counted: unknown[][] = [];
    d.metrics = { recordIngest: (...a) => void counted.push(['ingest', ...a]) };
    d.putOptions = { ...d.putOptions, metrics: { recordPut: (...a) => void counted.push(['put', ...a]) } };
    const res = await handleIngestHttp(req({ body: JSON.stringify([tx('a'), tx('b'), { ...tx('c'), gender: 'Q' }]) }), d);
    expect(res.statusCode).toBe(207);
    expect(sent).toBeGreaterThan(0);
    expect(counted).toEqual([
      ['put', 'shardId-000000000000', 2, sent, 0],
      ['ingest', 'transactions', 2, 1],
    ]);
  });
});
