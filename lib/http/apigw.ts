import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { HttpRequest, HttpResponse } from '../ingest/api.ts';

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
