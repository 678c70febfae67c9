import { request } from 'node:http';
import type { Server } from 'node:http';
import net from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { serveHttpApi, type HttpApiHandler } from '../../local/gateway.ts';
import { MAX_BODY_BYTES } from '../../lib/events/limits.ts';

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => {
    if (!server) return r();
    server.close(() => r());
    server.closeAllConnections();
  });
  server = undefined;
});

async function serve(handler: HttpApiHandler): Promise<number> {
  server = await serveHttpApi(handler, '127.0.0.1', 0);
  return (server.address() as net.AddressInfo).port;
}

/** One request with the request target exactly as given (fetch would normalize it). */
function raw(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string | string[]> = {},
  body?: Buffer | string,
) {
  return new Promise<{ status: number; body: string; headers: Record<string, unknown> }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const echo: HttpApiHandler = async (event) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(event),
});

describe('local API gateway', () => {
  it('answers 400 to paths it cannot percent-decode, as an HTTP API does, and keeps serving', async () => {
    const seen: string[] = [];
    const port = await serve(async (e) => {
      seen.push(e.rawPath);
      return { statusCode: 200, body: '{}' };
    });
    for (const path of ['/v1/events/%zz', '/v1/events/%', '/v1/events/%E0%A4%A', '/v1/events/%ED%A0%80', '/%C0%AF']) {
      const res = await raw(port, 'POST', path, { 'content-type': 'application/json' }, '{}');
      expect(res.status, path).toBe(400);
      expect(JSON.parse(res.body)).toEqual({
        error: 'bad_request',
        message: 'The request path is not valid percent-encoding; write a literal "%" as %25.',
      });
    }
    // A request target that is not a path is a 400 too; `//` is a path (though not a valid URL) and reaches the handler.
    expect((await raw(port, 'OPTIONS', '*')).status).toBe(400);
    expect(seen).toEqual([]);
    expect((await raw(port, 'POST', '//', {}, '{}')).status).toBe(200);
    expect((await raw(port, 'GET', '/health')).status).toBe(200);
    expect(seen).toEqual(['//', '/health']);
  });

  it('turns a handler that throws, rejects or answers garbage into a 5xx without stopping', async () => {
    let mode = 0;
    const port = await serve(((_e: APIGatewayProxyEventV2) => {
      mode++;
      if (mode === 1) throw new Error('sync throw');
      if (mode === 2) return Promise.reject(new Error('async reject'));
      if (mode === 3) return Promise.resolve({ statusCode: 200, headers: { 'x-bad': 'a\nb' }, body: 'x' });
      return Promise.resolve({ statusCode: 200, body: 'fine' });
    }) as HttpApiHandler);
    for (let i = 0; i < 3; i++) expect((await raw(port, 'POST', '/v1/events/x', {}, '{}')).status).toBe(502);
    const fine = await raw(port, 'POST', '/v1/events/x', {}, '{}');
    // Like API Gateway, answers carry their length and are never chunked.
    expect([fine.status, fine.body, fine.headers['content-length'], fine.headers['transfer-encoding']]).toEqual([
      200,
      'fine',
      '4',
      undefined,
    ]);
  });

  it('builds payload 2.0 events: decoded rawPath, repeated headers and parameters joined with commas, text or base64 bodies', async () => {
    const port = await serve(echo);
    const ev = async (path: string, headers: Record<string, string | string[]>, body?: Buffer) =>
      JSON.parse((await raw(port, 'POST', path, headers, body)).body) as APIGatewayProxyEventV2;

    const a = await ev(
      '/v1/events/click%20stream?v=1&v=2&x=%zz',
      { 'content-type': ['application/json', 'text/plain'], 'x-api-key': 'k' },
      Buffer.from('{"a":1}'),
    );
    expect(a.rawPath).toBe('/v1/events/click stream');
    expect(a.routeKey).toBe('POST /v1/events/{type}');
    expect(a.pathParameters).toEqual({ type: 'click stream' });
    expect(a.rawQueryString).toBe('v=1&v=2&x=%zz');
    expect(a.queryStringParameters).toEqual({ v: '1,2', x: '%zz' });
    expect(a.headers['content-type']).toBe('application/json,text/plain');
    // A joined content type is no text type: the bytes arrive base64-encoded.
    expect([a.isBase64Encoded, a.body]).toEqual([true, Buffer.from('{"a":1}').toString('base64')]);

    const bytes = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]);
    for (const [type, text] of [
      ['application/json; charset=utf-8', true],
      ['Text/Plain', true],
      ['application/xml', true],
      ['application/javascript', true],
      ['application/x-ndjson', false],
      ['application/vnd.api+json', false],
      ['application/x-www-form-urlencoded', false],
    ] as const) {
      const e = await ev('/v1/events/t', { 'content-type': type }, bytes);
      expect([type, e.isBase64Encoded, e.body]).toEqual([
        type,
        !text,
        text ? '{"a":"\ufffd"}' : bytes.toString('base64'),
      ]);
    }
    const none = await ev('/v1/events/t', {}, bytes);
    expect([none.isBase64Encoded, none.body]).toEqual([true, bytes.toString('base64')]);
    const empty = await ev('/v1/events/t', { 'content-type': 'application/json' });
    expect(empty.isBase64Encoded).toBe(false);
    expect('body' in empty).toBe(false);
  });

  it('reads out the 413 before the connection closes while the client keeps sending', async () => {
    const port = await serve(echo);
    const declared = MAX_BODY_BYTES + 3 * 1024 * 1024;
    const received = await new Promise<string>((resolve) => {
      let text = '';
      const sock = net.connect(port, '127.0.0.1');
      sock.on('error', () => resolve(text));
      sock.on('close', () => resolve(text));
      sock.on('data', (c) => (text += c.toString('latin1')));
      // Not reading while it uploads: a reset from the server would discard the unread response.
      sock.pause();
      sock.write(
        `POST /v1/events/transactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n`,
      );
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < declared) {
          sent += chunk.length;
          if (!sock.write(sent <= declared ? chunk : chunk.subarray(0, declared - (sent - chunk.length))))
            return void sock.once('drain', pump);
        }
        sock.resume();
      };
      pump();
    });
    expect(received).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n/);
    expect(JSON.parse(received.slice(received.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: 'too_large' });
  });
});
