import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { TributaryError, errorMessage } from '../errors.ts';
import type { ShardMetricsRecorder } from '../metrics/types.ts';
import { logger, recordIngest } from '../observability.ts';
import { UnknownTypeError, UnknownVersionError } from '../registry/registry.ts';
import { apiKeyMatches } from './auth.ts';
import { assertBodySize, limitsMessage } from './body.ts';
import { IngestError, MalformedBodyError, UnauthorizedError } from './errors.ts';
import { ingestEvents, quarantineWholeBody, type IngestDeps, type IngestResult } from './ingest.ts';

/** A transport-neutral HTTP request (the Lambda handler and tests build it from their own event shapes). */
export interface HttpRequest {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  query: Record<string, string | undefined>;
  body: string | Uint8Array;
}

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export interface IngestApiDeps extends IngestDeps {
  apiKeys: readonly string[];
  /** Counts accepted and rejected events where CloudWatch does not (the local runtime); absent in AWS. */
  metrics?: Pick<ShardMetricsRecorder, 'recordIngest'>;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

function errorResponse(statusCode: number, code: string, message: string, extra: Record<string, unknown> = {}): HttpResponse {
  return json(statusCode, { error: code, message, ...extra });
}

/** HTTP status for an ingest result: 200 all accepted, 503 nothing stored, 207 anything else. */
export function statusFor(result: IngestResult): number {
  if (result.rejected === 0 && result.failed === 0) return 200;
  if (result.accepted === 0 && result.rejected === 0) return 503;
  return 207;
}

const EVENTS_ROUTE = /^\/v1\/events\/([^/]+)\/?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

// Health checks may come every second from a load balancer; the stream's status is asked at most every 5 s.
const healthCache = new WeakMap<IngestApiDeps, { at: number; status: string }>();

async function health(deps: IngestApiDeps): Promise<HttpResponse> {
  try {
    let cached = healthCache.get(deps);
    if (!cached || Date.now() - cached.at > 5_000) {
      const res = await deps.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: deps.streamName }));
      cached = { at: Date.now(), status: res.StreamDescriptionSummary?.StreamStatus ?? 'UNKNOWN' };
      healthCache.set(deps, cached);
    }
    const ok = cached.status === 'ACTIVE' || cached.status === 'UPDATING';
    return json(ok ? 200 : 503, { status: ok ? 'ok' : 'degraded', stream: { name: deps.streamName, status: cached.status }, types: deps.registry.names() });
  } catch (err) {
    return json(503, { status: 'down', stream: { name: deps.streamName, error: errorMessage(err) } });
  }
}

/**
 * The ingest HTTP API: `GET /health` and `POST /v1/events/{type}` (x-api-key required). Maps every outcome to a status
 * code and a JSON body that tells the caller what to do; never throws.
 */
export async function handleIngestHttp(req: HttpRequest, deps: IngestApiDeps): Promise<HttpResponse> {
  const method = req.method.toUpperCase();
  if (req.path === '/health' || req.path === '/v1/health') {
    if (method !== 'GET' && method !== 'HEAD') return errorResponse(405, 'method_not_allowed', 'Use GET /health.');
    return health(deps);
  }
  const route = EVENTS_ROUTE.exec(req.path);
  if (!route) {
    return errorResponse(404, 'not_found', `No route ${method} ${req.path}. Send events with POST /v1/events/{type} (types: ${deps.registry.names().join(', ')}).`);
  }
  if (method !== 'POST') return errorResponse(405, 'method_not_allowed', `Use POST ${req.path}.`, {});

  try {
    if (!apiKeyMatches(req.headers['x-api-key'], deps.apiKeys)) throw new UnauthorizedError();
    const bytes = typeof req.body === 'string' ? Buffer.byteLength(req.body) : req.body.byteLength;
    assertBodySize(bytes);

    // API Gateway delivers rawPath already percent-decoded (and refuses what it cannot decode), so it is not decoded again.
    const typeName = route[1]!;
    let text: string;
    try {
      text = typeof req.body === 'string' ? req.body : utf8.decode(req.body);
    } catch {
      await quarantineWholeBody(deps, 'malformed_json', [{ path: '/', keyword: 'encoding', message: 'body is not valid UTF-8' }], req.body as Uint8Array, typeName).catch(() => {});
      throw new MalformedBodyError('Request body is not valid UTF-8 text; send JSON or NDJSON encoded as UTF-8.');
    }
    if (!deps.registry.has(typeName)) {
      const err = new UnknownTypeError(typeName, deps.registry.names());
      await quarantineWholeBody(deps, 'unknown_type', [{ path: '/', keyword: 'type', message: err.message }], text, typeName).catch(() => {});
      return errorResponse(400, err.code, err.message);
    }
    let version: number | undefined;
    const vq = req.query.v;
    if (vq !== undefined) {
      version = Number(vq);
      if (!Number.isInteger(version)) return errorResponse(400, 'unknown_version', `Query parameter v=${JSON.stringify(vq)} must be a schema version number.`);
    }
    try {
      const result = await ingestEvents({ type: typeName, body: text, contentType: req.headers['content-type'], ...(version !== undefined ? { version } : {}) }, deps);
      recordIngest(typeName, result);
      deps.metrics?.recordIngest(typeName, result.accepted, result.rejected);
      const status = statusFor(result);
      return json(status, result, status === 503 ? { 'retry-after': '1' } : {});
    } catch (err) {
      if (err instanceof MalformedBodyError) {
        await quarantineWholeBody(deps, 'malformed_json', [{ path: '/', keyword: 'json', message: err.message }], text, typeName).catch(() => {});
      }
      throw err;
    }
  } catch (err) {
    if (err instanceof IngestError) return errorResponse(err.statusCode, err.code, err.message, err.statusCode === 413 ? { limits: limitsMessage() } : {});
    if (err instanceof UnknownVersionError) return errorResponse(400, err.code, err.message);
    if (err instanceof TributaryError) return errorResponse(400, err.code, err.message);
    // Unexpected: say so without echoing internals (they may carry request data or credentials).
    logger.error('ingest: unexpected error', { error: errorMessage(err), path: req.path });
    return errorResponse(500, 'internal_error', 'Unexpected error while ingesting; nothing in this request was acknowledged, retry it.');
  }
}
