import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerResult } from 'aws-lambda';
import { authorizeApiKey, configuredApiKeys } from '../../lib/ingest/auth.ts';

const keys = configuredApiKeys();

/** API Gateway HTTP API Lambda authorizer (simple responses): is the request's x-api-key one of ours? */
export const handler = async (event: APIGatewayRequestAuthorizerEventV2): Promise<APIGatewaySimpleAuthorizerResult> =>
  authorizeApiKey(event.headers, keys);
