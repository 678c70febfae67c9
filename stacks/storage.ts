/**
 * The four buckets of architecture.md §6, §7 and §12. Logical names are PascalCase (SST `Resource.<Name>`); the physical names are
 * generated per app/stage and reach the functions through TRIBUTARY_*_BUCKET (see stacks/lambda.ts).
 *
 * Every bucket: public access blocked and HTTPS-only (SST's defaults, kept), SSE-S3 encryption with bucket keys,
 * incomplete multipart uploads cleaned up. On production the data buckets are retained when the stage is removed.
 */
import { settings } from './settings.ts';

type Rule = aws.types.input.s3.BucketLifecycleConfigurationRule;

const ABORT_UPLOADS: Rule = {
  id: 'abort-incomplete-uploads',
  status: 'Enabled',
  filter: {},
  abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
};

function bucket(name: string, opts: { keepData: boolean; rules: Rule[]; cors?: false }): sst.aws.Bucket {
  const b = new sst.aws.Bucket(name, {
    ...(opts.cors === false ? { cors: false } : {}),
    transform: {
      bucket: (args, resourceOpts) => {
        // Data outlives a removed production stage; elsewhere `sst remove` empties and deletes the bucket.
        args.forceDestroy = !(opts.keepData && settings.production);
        resourceOpts.retainOnDelete = opts.keepData && settings.production;
      },
    },
  });
  new aws.s3.BucketServerSideEncryptionConfiguration(`${name}Encryption`, {
    bucket: b.name,
    rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' }, bucketKeyEnabled: true }],
  });
  new aws.s3.BucketLifecycleConfiguration(`${name}Lifecycle`, {
    bucket: b.name,
    rules: [ABORT_UPLOADS, ...opts.rules],
  });
  return b;
}

/** `events/<type>/dt=…/hour=…/…jsonl.gz` plus compacted Parquet (architecture.md §6). */
export const lake = bucket('Lake', { keepData: true, rules: [] });

/**
 * Quarantined records, the re-drive ledger, jobs and audit log (architecture.md §7); also the lake writer's on-failure
 * destination. Records are rarely read after a month: they move to Infrequent Access, then Glacier Instant Retrieval
 * (still browsable by the console); nothing quarantined is ever deleted.
 */
export const quarantine = bucket('Quarantine', {
  keepData: true,
  rules: [
    {
      id: 'records-to-colder-storage',
      status: 'Enabled',
      filter: { prefix: 'records/' },
      transitions: [
        { days: 30, storageClass: 'STANDARD_IA' },
        { days: 180, storageClass: 'GLACIER_IR' },
      ],
    },
  ],
});

/**
 * Athena query results and the records queries are answered from (expire after 7 days: a record points at its result,
 * whose CSV is then gone too), the console's query history (kept 90 days) and its sign-in state: sessions (12 h) and
 * failed sign-in counters (15 min windows), expired after 2 days.
 */
export const athenaResults = bucket('AthenaResults', {
  keepData: false,
  rules: [
    { id: 'expire-results', status: 'Enabled', filter: { prefix: 'athena-results/' }, expiration: { days: 7 } },
    { id: 'expire-csv', status: 'Enabled', filter: { prefix: 'query-results/' }, expiration: { days: 7 } },
    { id: 'expire-records', status: 'Enabled', filter: { prefix: 'queries/' }, expiration: { days: 7 } },
    { id: 'expire-history', status: 'Enabled', filter: { prefix: 'history/' }, expiration: { days: 90 } },
    { id: 'expire-console-state', status: 'Enabled', filter: { prefix: 'console/' }, expiration: { days: 2 } },
  ],
});

/**
 * Dropped table exports (`exports/`) and raw event files (`raw/`), each starting its import (stacks/imports.ts). Its
 * CORS rule is the console's (stacks/console.ts `importsUploadCors`, for the Imports page's uploads), not SST's
 * default of any origin and method.
 */
export const imports = bucket('Imports', { keepData: true, rules: [], cors: false });
