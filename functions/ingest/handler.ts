import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { handleIngestHttp, type IngestApiDeps } from '../../lib/ingest/api.ts';
import { fromApiGatewayV2, toApiGatewayV2 } from '../../lib/http/apigw.ts';
import { ingestDeps } from '../../lib/composition.ts';

export type IngestHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** API Gateway HTTP API (payload v2) → ingest API, over the given dependencies. */
export const createHandler =
  (deps: () => IngestApiDeps): IngestHandler =>
  async (event) =>
    toApiGatewayV2(await handleIngestHttp(fromApiGatewayV2(event), deps()));

let deps: IngestApiDeps | undefined;
export const handler = createHandler(() => (deps ??= ingestDeps()));
