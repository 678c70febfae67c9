import { Agent as HttpAgent } from 'node:http';
import { AthenaClient } from '@aws-sdk/client-athena';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { TributaryConfig } from '../config.ts';

// The emulators accept any signature; s3rver documents these keys, kinesalite ignores them.
const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface AwsClients {
  kinesis: KinesisClient;
  s3: S3Client;
}

const cache = new Map<string, AwsClients>();

/**
 * Builds new SDK clients (the one place they are built). Local mode points them at the emulators; Kinesis gets an HTTP/1.1 handler
 * because its client defaults to HTTP/2, which kinesalite does not speak.
 */
export function createAwsClients(config: TributaryConfig): AwsClients {
  let clients: AwsClients;
  if (config.mode === 'local' && config.endpoints) {
    const requestHandler = () =>
      new NodeHttpHandler({ httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 64 }), requestTimeout: 30_000 });
    clients = {
      kinesis: new KinesisClient({
        region: config.region,
        endpoint: config.endpoints.kinesis,
        credentials: LOCAL_CREDENTIALS,
        requestHandler: requestHandler(),
      }),
      s3: new S3Client({
        region: config.region,
        endpoint: config.endpoints.s3,
        forcePathStyle: true,
        credentials: LOCAL_CREDENTIALS,
        requestHandler: requestHandler(),
      }),
    };
  } else {
    clients = {
      kinesis: new KinesisClient({ region: config.region, requestHandler: new NodeHttpHandler() }),
      s3: new S3Client({ region: config.region }),
    };
  }
  return clients;
}

const presigners = new Map<string, S3Client>();

/**
 * An S3 client for presigning uploads a browser sends (lib/imports/uploads.ts). The SDK's default flexible checksums
 * would sign the CRC32 of an empty body into the URL, and S3 would refuse every real file against it; here a checksum
 * is added only where an operation requires one, and PutObject does not.
 */
export function presigningS3Client(config: TributaryConfig): S3Client {
  const local = config.mode === 'local' && config.endpoints;
  const key = `${config.mode}|${config.region}|${local ? config.endpoints!.s3 : ''}`;
  let client = presigners.get(key);
  if (!client)
    presigners.set(
      key,
      (client = new S3Client({
        region: config.region,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        ...(local ? { endpoint: config.endpoints!.s3, forcePathStyle: true, credentials: LOCAL_CREDENTIALS } : {}),
      })),
    );
  return client;
}

/** Clients for a configuration, shared by everything in the process that uses the same configuration. */
export function awsClients(config: TributaryConfig): AwsClients {
  const cacheKey = `${config.mode}|${config.region}|${config.endpoints?.kinesis ?? ''}|${config.endpoints?.s3 ?? ''}`;
  let clients = cache.get(cacheKey);
  if (!clients) cache.set(cacheKey, (clients = createAwsClients(config)));
  return clients;
}

/** AWS-only clients (Athena, CloudWatch, Lambda): one per class and region, destroyed with the others. */
const regional = new Map<string, { destroy(): void }>();

function regionalClient<T extends { destroy(): void }>(
  Ctor: new (cfg: { region: string }) => T,
  config: TributaryConfig,
): T {
  const key = `${Ctor.name}\u0000${config.region}`;
  let c = regional.get(key) as T | undefined;
  if (!c) regional.set(key, (c = new Ctor({ region: config.region })));
  return c;
}

/** The Athena client of a configuration (AWS mode only: locally DuckDB answers queries). */
export function athenaClient(config: TributaryConfig): AthenaClient {
  return regionalClient(AthenaClient, config);
}

/** The CloudWatch client of a configuration (AWS mode only: locally the runtime records its own metrics). */
export function cloudWatchClient(config: TributaryConfig): CloudWatchClient {
  return regionalClient(CloudWatchClient, config);
}

/** The Lambda client of a configuration (AWS mode only: the console hands re-drive jobs to the worker function). */
export function lambdaClient(config: TributaryConfig): LambdaClient {
  return regionalClient(LambdaClient, config);
}

/** The Secrets Manager client of a configuration (AWS mode only: the OLTP sink reads the Aurora password). */
export function secretsManagerClient(config: TributaryConfig): SecretsManagerClient {
  return regionalClient(SecretsManagerClient, config);
}

/** Closes sockets of every cached client (tests and the CLI call it so the process can exit). */
export function destroyAwsClients(): void {
  for (const c of cache.values()) {
    c.kinesis.destroy();
    c.s3.destroy();
  }
  cache.clear();
  for (const c of regional.values()) c.destroy();
  regional.clear();
}
