import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { HttpRequest, HttpResponse } from '../ingest/api.ts';

/**
 * Whether an HTTP API hands a body of this content type to Lambda as a string (decoded from UTF-8, bytes that are not
 * UTF-8 becoming U+FFFD) rather than base64 with `isBase64Encoded: true`: text/*, application/json, application/xml
 * and application/javascript only; every other type, and a body without one, arrives base64. AWS documents the
 * mechanism, not the list; this is the split observed on a live HTTP API (payload 2.0), see ministackorg/ministack#766.
 */
export function deliveredAsText(contentType: string | undefined): boolean {
  const essence = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  return (
    essence.startsWith('text/') ||
    essence === 'application/json' ||
    essence === 'application/xml' ||
    essence === 'application/javascript'
  );
}

/** Reads an API Gateway HTTP API (payload format 2.0) event as a transport-neutral request. */
export function fromApiGatewayV2(event: APIGatewayProxyEventV2): HttpRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) headers[k.toLowerCase()] = v;
  const body = event.body === undefined ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64') : event.body;
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    headers,
    query: { ...(event.queryStringParameters ?? {}) },
    body,
  };
}

/** Maps a response to the API Gateway v2 structured result. */
export function toApiGatewayV2(res: HttpResponse): APIGatewayProxyStructuredResultV2 {
  return { statusCode: res.statusCode, headers: res.headers, body: res.body, isBase64Encoded: false };
}
