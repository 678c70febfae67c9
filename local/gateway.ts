import { createServer, type IncomingMessage, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { MAX_BODY_BYTES, limitsMessage } from '../lib/ingest/body.ts';

export type HttpApiHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** Routes of the ingest HTTP API, as API Gateway would match them. */
const ROUTES: { method: string; pattern: RegExp; routeKey: string; params: string[] }[] = [
  { method: 'POST', pattern: /^\/v1\/events\/([^/]+)\/?$/, routeKey: 'POST /v1/events/{type}', params: ['type'] },
  { method: 'GET', pattern: /^\/health\/?$/, routeKey: 'GET /health', params: [] },
];

const TEXT_TYPES = /^(application\/(json|x-ndjson|ndjson|jsonl|x-jsonlines|json-seq)|text\/)/i;

function toEvent(req: IncomingMessage, body: Buffer, now: Date): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://local');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
  const method = req.method ?? 'GET';
  const route = ROUTES.find((r) => r.pattern.test(url.pathname));
  const match = route?.pattern.exec(url.pathname);
  const pathParameters: Record<string, string> = {};
  route?.params.forEach((p, i) => (pathParameters[p] = decodeURIComponent(match![i + 1]!)));
  const query: Record<string, string> = {};
  url.searchParams.forEach((v, k) => (query[k] = v));
  // API Gateway passes text bodies as-is and base64-encodes everything else.
  const isText = TEXT_TYPES.test(headers['content-type'] ?? 'application/json');
  return {
    version: '2.0',
    routeKey: route && route.method === method ? route.routeKey : '$default',
    rawPath: url.pathname,
    rawQueryString: url.searchParams.toString(),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(route ? { pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: { method, path: url.pathname, protocol: `HTTP/${req.httpVersion}`, sourceIp: req.socket.remoteAddress ?? '', userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey: route?.routeKey ?? '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: isText ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: !isText,
  };
}

/**
 * Serves a Lambda handler over HTTP the way an API Gateway HTTP API (payload v2) does. Bodies over the ingest limit are
 * refused with 413 before they are read into memory.
 */
export function serveHttpApi(handler: HttpApiHandler, host: string, port: number, log: (m: string) => void = () => {}): Promise<Server> {
  const server = createServer((req, res) => {
    const send = (status: number, body: string, headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' }) => {
      res.writeHead(status, headers).end(body);
    };
    const tooLarge = () =>
      send(413, JSON.stringify({ error: 'too_large', message: `Request body exceeds ${MAX_BODY_BYTES} bytes; the limit is ${limitsMessage()}. Split it into smaller requests.`, limits: limitsMessage() }), {
        'content-type': 'application/json; charset=utf-8',
        connection: 'close',
      });
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY_BYTES) {
      tooLarge();
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let aborted = false;
    req.on('data', (c: Buffer) => {
      if (aborted) return;
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        aborted = true;
        tooLarge();
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (aborted) return;
      handler(toEvent(req, Buffer.concat(chunks), new Date()))
        .then((out) => {
          const body = out.body ?? '';
          send(out.statusCode ?? 200, out.isBase64Encoded ? Buffer.from(body, 'base64').toString() : body, (out.headers as Record<string, string>) ?? {});
        })
        .catch((err: unknown) => {
          log(`gateway: handler failed: ${err instanceof Error ? err.message : String(err)}`);
          send(502, JSON.stringify({ message: 'Internal Server Error' }));
        });
    });
  });
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
