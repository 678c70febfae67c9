/**
 * The ingest API (architecture.md §1): API Gateway HTTP API → one ingest Lambda serving both routes. HTTP APIs have no API
 * keys, so a Lambda authorizer checks `x-api-key` against the IngestApiKey secret before the ingest function runs
 * (its answer is cached per key for 5 minutes); the ingest handler checks the key again, so it is never exposed
 * without one. Stage throttling and JSON access logs (1 month) are on.
 */
import { grants, objects } from './access.ts';
import { lambdaDefaults, tributaryEnvironment } from './lambda.ts';
import { settings } from './settings.ts';
import { quarantine } from './storage.ts';
import { events } from './stream.ts';

/** Set per stage with `npx sst secret set IngestApiKey <key> --stage <stage>` (comma-separated keys rotate). */
export const ingestApiKey = new sst.Secret('IngestApiKey');

export const ingest = new sst.aws.Function('Ingest', {
  ...lambdaDefaults,
  handler: 'functions/ingest/handler.handler',
  timeout: '10 seconds',
  memory: '512 MB',
  permissions: grants(
    {
      actions: ['kinesis:PutRecords'],
      resources: [events.arn],
      why: 'accepted events onto the stream (lib/stream/put-records.ts putRecordsReliably)',
    },
    {
      actions: ['kinesis:DescribeStreamSummary'],
      resources: [events.arn],
      why: 'GET /health reports the stream status (lib/ingest/api.ts health)',
    },
    {
      actions: ['s3:PutObject'],
      resources: objects(quarantine, 'records/'),
      why: 'rejected events and unreadable bodies are quarantined (lib/ingest/ingest.ts writeQuarantine)',
    },
  ),
  environment: {
    ...tributaryEnvironment(events.name),
    // Lands in the function's environment (visible to lambda:GetFunctionConfiguration, never logged); reading it via
    // the link (Resource.IngestApiKey) instead would need lib/ to read SST's Resource in aws mode.
    TRIBUTARY_API_KEY: ingestApiKey.value,
  },
});

export const authorizerFunction = new sst.aws.Function('IngestAuthorizer', {
  ...lambdaDefaults,
  handler: 'functions/authorizer/handler.handler',
  timeout: '3 seconds',
  memory: '256 MB',
  environment: { TRIBUTARY_API_KEY: ingestApiKey.value },
});

export const api = new sst.aws.ApiGatewayV2('Api', {
  accessLog: { retention: '1 month' },
  transform: {
    stage: (args) => {
      args.defaultRouteSettings = {
        throttlingRateLimit: settings.throttle.rateLimit,
        throttlingBurstLimit: settings.throttle.burstLimit,
      };
    },
  },
});

export const apiKeyAuthorizer = api.addAuthorizer({
  name: 'ApiKey',
  lambda: {
    function: authorizerFunction.arn,
    identitySources: ['$request.header.x-api-key'],
    response: 'simple',
    ttl: '300 seconds',
  },
});

// Routes given an ARN reuse the one function instead of building a Lambda per route.
api.route('POST /v1/events/{type}', ingest.arn, { auth: { lambda: apiKeyAuthorizer.id } });
// Health checks need no key.
api.route('GET /health', ingest.arn);
