import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { deliveredAsText } from '../lib/http/apigw.ts';
import { MAX_BODY_BYTES, limitsMessage } from '../lib/events/limits.ts';

export type HttpApiHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** Routes of the ingest HTTP API, as API Gateway would match them. */
const ROUTES: { method: string; pattern: RegExp; routeKey: string; params: string[] }[] = [
  { method: 'POST', pattern: /^\/v1\/events\/([^/]+)\/?$/, routeKey: 'POST /v1/events/{type}', params: ['type'] },
  { method: 'GET', pattern: /^\/health\/?$/, routeKey: 'GET /health', params: [] },
];

/**
 * How long a refused upload may keep sending after its 413 was written. Closing a socket that still has unread input
 * makes the kernel answer with a TCP reset, and a reset makes the client drop a response it has not read yet; so the
 * rest of the body is read and thrown away first (nginx's "lingering close"), for at most this long.
 */
const LINGER_MS = 10_000;

const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };

/** Request line → path and query, the way API Gateway splits them; `undefined` path when it is not percent-decodable. */
function splitTarget(target: string): { rawPath: string; path: string | undefined; rawQuery: string } {
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const rawQuery = q < 0 ? '' : target.slice(q + 1);
  let path: string | undefined;
  try {
    // An HTTP API delivers rawPath percent-decoded and answers 400 itself when it cannot decode it.
    path = rawPath.startsWith('/') ? decodeURIComponent(rawPath) : undefined;
  } catch {
    path = undefined;
  }
  return { rawPath, path, rawQuery };
}

function toEvent(
  req: IncomingMessage,
  path: string,
  rawQuery: string,
  body: Buffer,
  now: Date,
): APIGatewayProxyEventV2 {
  // Payload 2.0 has no multi-value fields: repeated headers and query parameters are joined with commas.
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headersDistinct)) if (v && k !== 'cookie') headers[k] = v.join(',');
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(rawQuery)) query[k] = k in query ? `${query[k]},${v}` : v;
  const method = req.method ?? 'GET';
  const route = ROUTES.find((r) => r.method === method && r.pattern.test(path));
  const match = route?.pattern.exec(path);
  const pathParameters: Record<string, string> = {};
  route?.params.forEach((p, i) => {
    pathParameters[p] = match![i + 1]!;
  });
  const isText = deliveredAsText(headers['content-type']);
  return {
    version: '2.0',
    routeKey: route?.routeKey ?? '$default',
    rawPath: path,
    rawQueryString: rawQuery,
    ...(req.headers.cookie ? { cookies: req.headers.cookie.split(/;\s*/) } : {}),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(route?.params.length ? { pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method,
        path,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: route?.routeKey ?? '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    // Text bodies arrive decoded as UTF-8 (bytes that are not UTF-8 become U+FFFD); others as base64 of the bytes.
    ...(body.length ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: !isText && body.length > 0,
  };
}

const BAD_GATEWAY = JSON.stringify({ message: 'Internal Server Error' });

/**
 * Writes a whole response. A response Node refuses to write (a header value with a newline, say) becomes a 502, as
 * API Gateway answers a malformed Lambda result; if even that fails the connection is dropped. Never throws.
 */
function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = JSON_TYPE): void {
  try {
    // API Gateway buffers the Lambda result and answers with its length, never chunked.
    res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) }).end(body);
  } catch {
    try {
      if (res.headersSent) throw new Error('headers already sent');
      res.writeHead(502, { ...JSON_TYPE, 'content-length': String(Buffer.byteLength(BAD_GATEWAY)) }).end(BAD_GATEWAY);
    } catch {
      res.destroy();
    }
  }
}

/**
 * Serves a Lambda handler over HTTP the way an API Gateway HTTP API (payload v2) does. Bodies over the ingest limit are
 * refused with 413 before they are read into memory; a path that is not percent-decodable gets 400. Nothing a client
 * sends, and no failure of the handler, can throw out of the request listener or stop the process.
 */
export function serveHttpApi(
  handler: HttpApiHandler,
  host: string,
  port: number,
  log: (m: string) => void = () => {},
): Promise<Server> {
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    // A client that goes away mid-request must not become an unhandled 'error' event.
    req.on('error', () => {});
    res.on('error', () => {});
    const tooLarge = () => {
      const body = JSON.stringify({
        error: 'too_large',
        message: `Request body exceeds ${MAX_BODY_BYTES} bytes; the limit is ${limitsMessage()}. Split it into smaller requests.`,
        limits: limitsMessage(),
      });
      res.writeHead(413, { ...JSON_TYPE, 'content-length': String(Buffer.byteLength(body)), connection: 'close' });
      // The response is complete on the wire (content-length) but ended only once the upload stops, see LINGER_MS.
      res.write(body);
      const finish = () => {
        clearTimeout(timer);
        if (!res.writableEnded) res.end();
      };
      const timer = setTimeout(finish, LINGER_MS);
      timer.unref();
      req.on('end', finish);
      req.on('close', finish);
      req.resume();
    };
    const { path, rawQuery } = splitTarget(req.url ?? '/');
    if (path === undefined) {
      req.resume();
      send(
        res,
        400,
        JSON.stringify({
          error: 'bad_request',
          message: 'The request path is not valid percent-encoding; write a literal "%" as %25.',
        }),
      );
      return;
    }
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
      tooLarge();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (c: Buffer) => {
      if (refused) return;
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        refused = true;
        chunks.length = 0;
        tooLarge();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (refused) return;
      // A handler that throws synchronously is a rejected promise here, like any other failure.
      Promise.resolve()
        .then(() => handler(toEvent(req, path, rawQuery, Buffer.concat(chunks), new Date())))
        .then((out) => {
          const body = out.body ?? '';
          send(
            res,
            out.statusCode ?? 200,
            out.isBase64Encoded ? Buffer.from(body, 'base64').toString() : body,
            (out.headers as Record<string, string>) ?? {},
          );
        })
        .catch((err: unknown) => {
          log(`gateway: handler failed: ${err instanceof Error ? err.message : String(err)}`);
          send(res, 502, BAD_GATEWAY);
        });
    });
  };
  const server = createServer((req, res) => {
    try {
      onRequest(req, res);
    } catch (err) {
      log(`gateway: request failed: ${err instanceof Error ? err.message : String(err)}`);
      send(res, 502, BAD_GATEWAY);
    }
  });
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      // After start-up (e.g. EMFILE under a flood of connections) a server error is logged, never fatal.
      server.on('error', (err) => log(`gateway: ${err.message}`));
      resolve(server);
    });
  });
}
