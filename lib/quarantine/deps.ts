import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Registry } from '../registry/registry.ts';
import type { PutOptions } from '../stream/put-records.ts';
import type { ClaimTimes } from './claims.ts';
import type { QuarantineIndex } from './quarantine-index.ts';

/** What the quarantine's jobs need: the registry to re-validate, the stream to put on, the quarantine bucket and its index. */
export interface QuarantineDeps {
  registry: Registry;
  kinesis: KinesisClient;
  s3: S3Client;
  streamName: string;
  bucket: string;
  index: QuarantineIndex;
  putOptions?: PutOptions;
  /** Claim lease and takeover times (tests shorten them). */
  claims?: Partial<ClaimTimes>;
  now?: () => Date;
}
