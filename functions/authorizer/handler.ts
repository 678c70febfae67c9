import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerResult } from 'aws-lambda';
import { apiKeysFrom } from '../../lib/config.ts';
import { authorizeApiKey } from '../../lib/ingest/auth.ts';

const keys = apiKeysFrom();

/** API Gateway HTTP API Lambda authorizer (simple responses): is the request's x-api-key one of ours? */
export const handler = async (event: APIGatewayRequestAuthorizerEventV2): Promise<APIGatewaySimpleAuthorizerResult> =>
  authorizeApiKey(event.headers, keys);
