/**
 * AWS requests and list-price cost per 1M events: this design vs a naive one (one API request, one Lambda invocation,
 * one PutRecord and one S3 PUT per event). The counts of our design come from the end-to-end run (requests per event,
 * records per lake-writer invocation, objects per invocation, envelope and body sizes); the prices and the stated
 * duration assumptions are the only constants.
 */

/** us-east-1 list prices (USD). */
export const PRICES = {
  apiGatewayHttpPerMillion: 1.0,
  /** API Gateway HTTP APIs meter requests in 512 KB increments. */
  apiGatewayMeteringBytes: 512 * 1024,
  lambdaRequestsPerMillion: 0.2,
  lambdaGbSecond: 0.0000166667,
  kinesisPerMillionPutUnits: 0.014,
  /** One PUT payload unit per 25 KB of a record. */
  kinesisPutUnitBytes: 25 * 1024,
  s3PutPerMillion: 5.0,
  s3GetPerMillion: 0.4,
} as const;

/** Assumptions (not measured here). */
export const ASSUMPTIONS = {
  lambdaMemoryMb: 512,
  /** Billed duration of one ingest invocation of 500 events, PutRecords round trip included. */
  ingestMsPerRequest: 50,
  /** Billed duration of one naive per-event invocation (one PutRecord or one S3 PUT). */
  naiveMsPerInvocation: 20,
} as const;

export interface CostInputs {
  /** Measured in the e2e run. */
  requestsPerEvent: number;
  avgBodyBytes: number;
  avgRecordBytes: number;
  recordsPerLakeInvocation: number;
  lakeObjectsPerInvocation: number;
  quarantineObjectsPerEvent: number;
  /** Mean wall time of one lake-writer invocation of `recordsPerLakeInvocation` records. */
  lakeWriterMs: number;
  /** Journal S3 PUTs and GETs the lake writer makes per invocation (exactly-once bookkeeping). */
  journalPutsPerInvocation: number;
  journalGetsPerInvocation: number;
  /** Measured CPU of the ingest hot path per 500-event request (context for the assumed ingest duration). */
  ingestCpuMsPerRequest: number;
}

export interface CostLine {
  item: string;
  oursCount: number;
  oursUsd: number;
  naiveCount: number;
  naiveUsd: number;
}

export interface CostResult {
  events: number;
  inputs: CostInputs;
  lines: CostLine[];
  oursUsd: number;
  naiveUsd: number;
  /** naive / ours. */
  ratio: number;
  oursRequests: number;
  naiveRequests: number;
  requestRatio: number;
  notes: string[];
  target: number;
}

const lambdaDurationUsd = (invocations: number, ms: number) =>
  invocations * (Math.ceil(ms) / 1000) * (ASSUMPTIONS.lambdaMemoryMb / 1024) * PRICES.lambdaGbSecond;

export function computeCost(inputs: CostInputs, events = 1_000_000): CostResult {
  const M = 1_000_000;
  const apiRequests = events * inputs.requestsPerEvent;
  const apiUnits = apiRequests * Math.max(1, Math.ceil(inputs.avgBodyBytes / PRICES.apiGatewayMeteringBytes));
  const putUnitsPerRecord = Math.max(1, Math.ceil(inputs.avgRecordBytes / PRICES.kinesisPutUnitBytes));
  const lakeInvocations = events / inputs.recordsPerLakeInvocation;
  const lakePuts = lakeInvocations * inputs.lakeObjectsPerInvocation + events * inputs.quarantineObjectsPerEvent;
  const journalPuts = lakeInvocations * inputs.journalPutsPerInvocation;
  const journalGets = lakeInvocations * inputs.journalGetsPerInvocation;

  const lines: CostLine[] = [
    {
      item: 'API Gateway HTTP requests',
      oursCount: apiUnits,
      oursUsd: (apiUnits / M) * PRICES.apiGatewayHttpPerMillion,
      naiveCount: events,
      naiveUsd: (events / M) * PRICES.apiGatewayHttpPerMillion,
    },
    {
      item: 'Lambda ingest: requests',
      oursCount: apiRequests,
      oursUsd: (apiRequests / M) * PRICES.lambdaRequestsPerMillion,
      naiveCount: events,
      naiveUsd: (events / M) * PRICES.lambdaRequestsPerMillion,
    },
    {
      item: 'Lambda ingest: duration',
      oursCount: apiRequests,
      oursUsd: lambdaDurationUsd(apiRequests, ASSUMPTIONS.ingestMsPerRequest),
      naiveCount: events,
      naiveUsd: lambdaDurationUsd(events, ASSUMPTIONS.naiveMsPerInvocation),
    },
    {
      item: 'Kinesis PUT payload units',
      oursCount: events * putUnitsPerRecord,
      oursUsd: ((events * putUnitsPerRecord) / M) * PRICES.kinesisPerMillionPutUnits,
      naiveCount: events * putUnitsPerRecord,
      naiveUsd: ((events * putUnitsPerRecord) / M) * PRICES.kinesisPerMillionPutUnits,
    },
    {
      item: 'Lambda lake-writer: requests',
      oursCount: lakeInvocations,
      oursUsd: (lakeInvocations / M) * PRICES.lambdaRequestsPerMillion,
      naiveCount: 0,
      naiveUsd: 0,
    },
    {
      item: 'Lambda lake-writer: duration',
      oursCount: lakeInvocations,
      oursUsd: lambdaDurationUsd(lakeInvocations, inputs.lakeWriterMs),
      naiveCount: 0,
      naiveUsd: 0,
    },
    {
      item: 'S3 PUT: lake + quarantine objects',
      oursCount: lakePuts,
      oursUsd: (lakePuts / M) * PRICES.s3PutPerMillion,
      naiveCount: events,
      naiveUsd: (events / M) * PRICES.s3PutPerMillion,
    },
    {
      item: 'S3 PUT: writer journal',
      oursCount: journalPuts,
      oursUsd: (journalPuts / M) * PRICES.s3PutPerMillion,
      naiveCount: 0,
      naiveUsd: 0,
    },
    {
      item: 'S3 GET: writer journal',
      oursCount: journalGets,
      oursUsd: (journalGets / M) * PRICES.s3GetPerMillion,
      naiveCount: 0,
      naiveUsd: 0,
    },
  ];
  const oursUsd = lines.reduce((a, l) => a + l.oursUsd, 0);
  const naiveUsd = lines.reduce((a, l) => a + l.naiveUsd, 0);
  // Billable requests (Lambda duration lines repeat the invocation count, so they are not added twice).
  const requestsOf = (pick: (l: CostLine) => number) =>
    lines.filter((l) => !l.item.endsWith(': duration')).reduce((a, l) => a + pick(l), 0);
  const oursRequests = requestsOf((l) => l.oursCount);
  const naiveRequests = requestsOf((l) => l.naiveCount);
  return {
    events,
    inputs,
    lines,
    oursUsd,
    naiveUsd,
    ratio: naiveUsd / oursUsd,
    oursRequests,
    naiveRequests,
    requestRatio: naiveRequests / oursRequests,
    notes: [
      'Kinesis shard-hours are excluded (the same in both designs), as are data transfer, CloudWatch Logs and S3 storage.',
      `Lambda at ${ASSUMPTIONS.lambdaMemoryMb} MB, duration rounded up to 1 ms. Ingest: ${ASSUMPTIONS.ingestMsPerRequest} ms per 500-event request assumed (measured hot-path CPU ${inputs.ingestCpuMsPerRequest.toFixed(1)} ms + PutRecords round trip). Naive: ${ASSUMPTIONS.naiveMsPerInvocation} ms per invocation assumed. Lake writer: ${inputs.lakeWriterMs.toFixed(1)} ms measured mean per batch of ${inputs.recordsPerLakeInvocation.toFixed(0)} records against s3rver.`,
      `API Gateway HTTP meters in 512 KB increments: a measured ${(inputs.avgBodyBytes / 1024).toFixed(0)} KB body counts ${Math.max(1, Math.ceil(inputs.avgBodyBytes / PRICES.apiGatewayMeteringBytes))} request(s).`,
      'Kinesis GetRecords by a Lambda event-source mapping (standard consumer) has no per-request charge; the naive design has no lake-writer stage (its per-event function does the S3 PUT).',
    ],
    target: 20,
  };
}
