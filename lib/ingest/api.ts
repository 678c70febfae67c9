import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { TributaryError, errorMessage } from '../errors.ts';
import type { ShardMetricsRecorder } from '../metrics/types.ts';
import { logger, recordIngest } from '../observability.ts';
import type { QuarantineReason } from '../quarantine/record.ts';
import { UnknownTypeError, UnknownVersionError, type FieldError } from '../registry/registry.ts';
import { isWellFormed, toWellFormed } from '../util/unicode.ts';
import { apiKeyMatches } from './auth.ts';
import { ACCEPTED_TYPES, assertBodySize, framingOf, limitsMessage } from '../events/limits.ts';
import {
  BodyError,
  EncodingError,
  MalformedBodyError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
} from '../events/errors.ts';
import { IngestError, QuarantineUnavailableError, UnauthorizedError } from './errors.ts';
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

function errorResponse(
  statusCode: number,
  code: string,
  message: string,
  extra: Record<string, unknown> = {},
): HttpResponse {
  return json(statusCode, { error: code, message, ...extra });
}

/** HTTP status for an ingest result: 200 all accepted, 503 nothing stored, 207 anything else. */
export function statusFor(result: IngestResult): number {
  if (result.rejected === 0 && result.failed === 0) return 200;
  if (result.accepted === 0 && result.rejected === 0) return 503;
  return 207;
}

const EVENTS_ROUTE = /^\/v1\/events\/([^/]+)\/?$/;
const VERSION = /^[0-9]{1,9}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The body as text, or {@link EncodingError}. Bytes (what API Gateway base64-encodes, see `deliveredAsText`) must be
 * UTF-8. A string was decoded by the gateway, which turns bytes that are not UTF-8 into U+FFFD, so a U+FFFD in it
 * cannot be told apart from such bytes and is refused; the escape `\ufffd`, or the same body sent as
 * application/x-ndjson (delivered as bytes), gets through.
 */
function bodyText(body: string | Uint8Array): string {
  if (typeof body !== 'string') {
    try {
      return utf8.decode(body);
    } catch {
      throw new EncodingError('Request body is not valid UTF-8 text; send JSON or NDJSON encoded as UTF-8.');
    }
  }
  if (body.includes('\ufffd')) {
    throw new EncodingError(
      'Request body is not valid UTF-8 text: it has U+FFFD where the gateway found bytes that are not UTF-8. Send UTF-8; a real U+FFFD character must be written as the JSON escape \\ufffd (or sent with Content-Type: application/x-ndjson).',
    );
  }
  if (!isWellFormed(body))
    throw new EncodingError('Request body is not Unicode text (it has a lone surrogate); send the body as UTF-8.');
  return body;
}

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
    return json(ok ? 200 : 503, {
      status: ok ? 'ok' : 'degraded',
      stream: { name: deps.streamName, status: cached.status },
      types: deps.registry.names(),
    });
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
    return errorResponse(
      404,
      'not_found',
      `No route ${method} ${req.path}. Send events with POST /v1/events/{type} (types: ${deps.registry.names().join(', ')}).`,
    );
  }
  if (method !== 'POST') return errorResponse(405, 'method_not_allowed', `Use POST ${req.path}.`, {});

  try {
    if (!apiKeyMatches(req.headers['x-api-key'], deps.apiKeys)) throw new UnauthorizedError();
    const framing = framingOf(req.headers['content-type']);
    const bytes = typeof req.body === 'string' ? Buffer.byteLength(req.body) : req.body.byteLength;
    assertBodySize(bytes);

    // API Gateway delivers rawPath already percent-decoded (and refuses what it cannot decode), so it is not decoded
    // again; an unknown name is kept (for the quarantine record and the message) only as far as a name can be long.
    const typeName = toWellFormed(route[1]!).slice(0, 256);
    const quarantineBody = async (reason: QuarantineReason, errors: FieldError[], body: string | Uint8Array) => {
      try {
        await quarantineWholeBody(deps, reason, errors, body, typeName);
      } catch (cause) {
        throw new QuarantineUnavailableError(errors[0]?.message ?? reason, cause);
      }
    };
    let text: string;
    try {
      text = bodyText(req.body);
    } catch (err) {
      if (err instanceof EncodingError) await quarantineBody('malformed_json', err.errors, req.body);
      throw err;
    }
    if (!deps.registry.has(typeName)) {
      const err = new UnknownTypeError(typeName, deps.registry.names());
      await quarantineBody('unknown_type', [{ path: '/', keyword: 'type', message: err.message }], text);
      return errorResponse(400, err.code, err.message);
    }
    let version: number | undefined;
    const vq = req.query.v;
    if (vq !== undefined) {
      if (!VERSION.test(vq))
        return errorResponse(
          400,
          'unknown_version',
          `Query parameter v=${JSON.stringify(vq.slice(0, 64))} must be a schema version number (v=1, v=2, …); leave it out for the latest.`,
        );
      version = Number(vq);
    }
    try {
      const result = await ingestEvents(
        { type: typeName, body: text, framing, ...(version !== undefined ? { version } : {}) },
        deps,
      );
      recordIngest(typeName, result);
      deps.metrics?.recordIngest(typeName, result.accepted, result.rejected);
      const status = statusFor(result);
      return json(status, result, status === 503 ? { 'retry-after': '1' } : {});
    } catch (err) {
      if (err instanceof MalformedBodyError) await quarantineBody('malformed_json', err.errors, text);
      throw err;
    }
  } catch (err) {
    if (err instanceof MalformedBodyError) return errorResponse(400, err.code, err.message, { errors: err.errors });
    if (err instanceof IngestError || err instanceof BodyError) {
      const extra =
        err instanceof PayloadTooLargeError
          ? { limits: limitsMessage() }
          : err instanceof UnsupportedMediaTypeError
            ? { accepted: ACCEPTED_TYPES }
            : {};
      return json(
        err.status,
        { error: err.code, message: err.message, ...extra },
        err instanceof QuarantineUnavailableError ? { 'retry-after': '1' } : {},
      );
    }
    if (err instanceof UnknownVersionError) return errorResponse(400, err.code, err.message);
    if (err instanceof TributaryError) return errorResponse(400, err.code, err.message);
    // Unexpected: say so without echoing internals (they may carry request data or credentials).
    logger.error('ingest: unexpected error', { error: errorMessage(err), path: req.path });
    return errorResponse(
      500,
      'internal_error',
      'Unexpected error while ingesting; nothing in this request was acknowledged, retry it.',
    );
  }
}
