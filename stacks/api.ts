/**
 * The ingest API (design.md §1): API Gateway HTTP API → one ingest Lambda serving both routes.
 *
 * Auth today is the API key checked by the handler itself (TRIBUTARY_API_KEY, comma-separated for rotation).
 * The Lambda authorizer in front of the routes comes with the infra issue.
 */
import { lambdaDefaults, tributaryEnvironment } from './lambda.ts';
import { quarantine } from './storage.ts';
import { events } from './stream.ts';

/** Set per stage with `sst secret set IngestApiKey <key> --stage <stage>`. */
export const ingestApiKey = new sst.Secret('IngestApiKey');

export const ingest = new sst.aws.Function('Ingest', {
  ...lambdaDefaults,
  handler: 'functions/ingest/handler.handler',
  timeout: '10 seconds',
  memory: '512 MB',
  link: [events, quarantine],
  environment: {
    ...tributaryEnvironment(events.name),
    // Lands in the function's environment as plain text (visible to lambda:GetFunctionConfiguration); reading it via
    // the link (Resource.IngestApiKey) instead would need lib/ to read SST's Resource in aws mode.
    TRIBUTARY_API_KEY: ingestApiKey.value,
  },
});

export const api = new sst.aws.ApiGatewayV2('Api');

// Routes given an ARN reuse the one function instead of building a Lambda per route.
api.route('POST /v1/events/{type}', ingest.arn);
api.route('GET /health', ingest.arn);
