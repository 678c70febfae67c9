/**
 * The operations console (Next.js, OpenNext on Lambda behind CloudFront) and the re-drive worker it hands jobs to.
 * The console is not in the database's VPC: its OLTP and Imports pages ask the console database function there
 * (stacks/database.ts).
 * Sign-in is mandatory in AWS (lib/console/auth.ts): the operator password is a secret, the viewer password optional.
 * The server function is reachable only through CloudFront (origin access control, POST bodies signed at the edge).
 */
import { CLIENT_ADDRESS_INJECTION } from '../lib/console/auth.ts';
import { UPLOAD_CORS } from '../lib/imports/uploads.ts';
import { grants, objects } from './access.ts';
import { analyticsEnvironment, ATHENA_OUTPUT_PREFIX, databaseName, workgroup } from './analytics.ts';
import { consoleDb } from './database.ts';
import { lambdaDefaults, tributaryEnvironment } from './lambda.ts';
import { athenaResults, imports, lake, quarantine } from './storage.ts';
import { events } from './stream.ts';

/** `npx sst secret set ConsolePassword <at least 8 characters> --stage <stage>` (role operator). */
export const consolePassword = new sst.Secret('ConsolePassword');
/** Optional read-only sign-in (role viewer); an empty value disables it. */
export const consoleViewerPassword = new sst.Secret('ConsoleViewerPassword', '');

const region = aws.getRegionOutput().name;
const account = aws.getCallerIdentityOutput().accountId;

/**
 * The worker's function name, fixed (not generated) so its role can name the one function it invokes, itself, by ARN:
 * a role cannot refer to the generated ARN of the function that uses it.
 */
const redriveWorkerName = `${$app.name}-${$app.stage}-RedriveWorker`;
if (redriveWorkerName.length > 64) {
  throw new Error(
    `The re-drive worker's function name ${redriveWorkerName} is longer than Lambda's 64 characters: use a stage name of at most ${64 - redriveWorkerName.length + $app.stage.length} characters.`,
  );
}

/**
 * Runs re-drive jobs: a console function is frozen once it has answered, so the console invokes this one
 * asynchronously; it continues itself in a new invocation before its time runs out.
 */
export const redriveWorker = new sst.aws.Function('RedriveWorker', {
  ...lambdaDefaults,
  name: redriveWorkerName,
  handler: 'functions/redrive/handler.handler',
  timeout: '15 minutes',
  memory: '1024 MB',
  environment: tributaryEnvironment(events.name),
  permissions: grants(
    {
      actions: ['kinesis:PutRecords'],
      resources: [events.arn],
      why: 're-driven records back onto the stream (lib/quarantine/redrive.ts redriveChunk)',
    },
    {
      actions: ['s3:ListBucket'],
      resources: [quarantine.arn],
      why: 'the quarantine index lists records/ and ledger/; the cancel marker it polls is usually absent (404 only with ListBucket)',
    },
    {
      actions: ['s3:GetObject'],
      resources: objects(quarantine, 'records/', 'ledger/'),
      why: 'the index reads the quarantined records and their ledger',
    },
    {
      actions: ['s3:GetObject', 's3:PutObject'],
      resources: objects(quarantine, 'jobs/'),
      why: 'the job: its request and state (read, updated), the cancel marker (read)',
    },
    {
      actions: ['s3:GetObject', 's3:PutObject'],
      resources: objects(quarantine, 'claims/'),
      why: 'claims a record before putting it on the stream, by conditional PutObject (If-None-Match / If-Match), and reads the holder of a taken one (lib/quarantine/claims.ts)',
    },
    {
      actions: ['s3:PutObject'],
      resources: objects(quarantine, 'ledger/', 'records/', 'audit/'),
      why: 'each outcome in the ledger, a refused fix quarantined again, the audit line of the job',
    },
    {
      actions: ['lambda:InvokeFunction'],
      resources: [$interpolate`arn:aws:lambda:${region}:${account}:function:${redriveWorkerName}`],
      why: 'continues a job in a new invocation before its time runs out (lib/composition.ts redriveWorkerStep)',
    },
  ),
});

export const consoleSite = new sst.aws.Nextjs('Console', {
  path: '.',
  // SST 4.17.1's default for Next 16, pinned so an SST upgrade does not change the build unseen; `npm run test:infra`
  // runs this build for real and checks what the server function ships (tests/infra/console-build.test.ts).
  openNextVersion: '3.9.14',
  protection: 'oac-with-edge-signing',
  // The client's address for the sign-in throttle (lib/console/auth.ts CLIENT_ADDRESS_HEADER): set by CloudFront from
  // the viewer's IP, overwriting any value the client sent, so no one can spread guesses over made-up addresses.
  edge: { viewerRequest: { injection: CLIENT_ADDRESS_INJECTION } },
  environment: {
    ...tributaryEnvironment(events.name),
    ...analyticsEnvironment,
    TRIBUTARY_REDRIVE_FUNCTION: redriveWorker.name,
    TRIBUTARY_STAGE: $app.stage,
    TRIBUTARY_CONSOLE_DB_FUNCTION: consoleDb.name,
    TRIBUTARY_CONSOLE_PASSWORD: consolePassword.value,
    TRIBUTARY_CONSOLE_VIEWER_PASSWORD: consoleViewerPassword.value,
    // The saved queries, like the schemas (stacks/lambda.ts), at the root of the server function, where next.config.ts
    // has the build put them.
    ...($dev ? {} : { TRIBUTARY_QUERIES_DIR: '/var/task/queries' }),
  },
  // The console guards every query with DuckDB's parser before Athena runs it: open-next.config.ts installs DuckDB's
  // binding for this function's platform.
  // 45 s (CloudFront allows up to 60 s without a quota request; SST sets the origin read timeout to match): the OLTP
  // page's first read after Aurora paused waits for it to resume (~15 s) plus the console database function's cold start.
  server: { architecture: 'arm64', timeout: '45 seconds' },
  permissions: grants(
    // The stream page, the shard charts and the re-drive rate cap (lib/stream/browse.ts, lib/metrics/cloudwatch.ts,
    // lib/quarantine/redrive.ts streamRecordLimit). Re-drives themselves run in the worker.
    {
      actions: ['kinesis:ListShards'],
      resources: [events.arn],
      why: 'the shards of the stream page and charts, and the re-drive rate cap',
    },
    {
      actions: ['kinesis:GetShardIterator', 'kinesis:GetRecords'],
      resources: [events.arn],
      why: 'the stream page reads records of a shard',
    },
    // GetMetricData has no resource-level permissions: "*" is the only resource AWS accepts for it.
    { actions: ['cloudwatch:GetMetricData'], resources: ['*'], why: 'the Overview charts (lib/metrics/cloudwatch.ts)' },
    {
      actions: ['lambda:InvokeFunction'],
      resources: [redriveWorker.arn],
      why: 'hands re-drive jobs to the worker (lib/composition.ts redriveDispatch)',
    },
    {
      actions: ['lambda:InvokeFunction'],
      resources: [consoleDb.arn],
      why: 'the OLTP and Imports pages ask the console database function in the VPC (lib/composition.ts consoleDatabase)',
    },
    // Queries: Athena runs them with the caller's permissions, so what Athena reads and writes is granted here too.
    {
      actions: [
        'athena:StartQueryExecution',
        'athena:GetQueryExecution',
        'athena:GetQueryResults',
        'athena:StopQueryExecution',
      ],
      resources: [workgroup.arn],
      why: 'runs, polls, pages and cancels queries in its workgroup (lib/query/athena-engine.ts)',
    },
    {
      actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartitions'],
      resources: [
        $interpolate`arn:aws:glue:${region}:${account}:catalog`,
        $interpolate`arn:aws:glue:${region}:${account}:database/${databaseName}`,
        $interpolate`arn:aws:glue:${region}:${account}:table/${databaseName}/*`,
      ],
      why: 'Athena resolves the database, tables and views of a query with the permissions of its caller',
    },
    {
      actions: ['s3:ListBucket', 's3:GetBucketLocation'],
      resources: [lake.arn, quarantine.arn],
      why: 'Athena lists and locates table data; the query guard sizes tables; the quarantine index lists records/, ledger/, jobs/ and audit/ (404 only with ListBucket)',
    },
    {
      actions: ['s3:GetObject'],
      resources: [
        ...objects(lake, 'events/', 'compacted/', 'imports/*/changes/', 'imports/*/compacted/'),
        ...objects(quarantine, 'records/', 'ledger/'),
      ],
      why: "Athena reads table data (events, and imported tables' changes); the freshness KPI reads the newest lake object; the quarantine index reads records and ledger",
    },
    {
      actions: ['s3:PutObject'],
      resources: objects(imports, 'exports/', 'raw/'),
      why: "the Imports page's upload: a presigned PUT the browser sends straight to the drop location, signed with this role (lib/imports/uploads.ts)",
    },
    {
      actions: ['s3:GetObject', 's3:PutObject'],
      resources: objects(quarantine, 'jobs/', 'audit/'),
      why: 're-drive jobs (request, state, cancel marker), the audit log and its lines for unmasked reads (lib/quarantine/jobs.ts, audit.ts, read-audit.ts)',
    },
    {
      actions: ['s3:PutObject'],
      resources: objects(quarantine, 'ledger/'),
      why: 'a discard is written to the ledger (lib/quarantine/discard.ts)',
    },
    {
      actions: ['s3:GetObject', 's3:PutObject'],
      resources: objects(quarantine, 'claims/'),
      why: 'a discard claims its records (conditional PutObject, lib/quarantine/claims.ts) so it never acts on one a running re-drive holds',
    },
    {
      actions: ['s3:ListBucket', 's3:GetBucketLocation', 's3:ListBucketMultipartUploads'],
      resources: [athenaResults.arn],
      why: 'Athena writes results to the workgroup location; the query history is listed (lib/query/service.ts history)',
    },
    {
      actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      resources: objects(athenaResults, ATHENA_OUTPUT_PREFIX),
      why: 'Athena writes and reads query results with the permissions of its caller',
    },
    {
      actions: ['s3:GetObject', 's3:PutObject'],
      resources: objects(athenaResults, 'history/'),
      why: 'the query history (lib/query/service.ts)',
    },
    {
      actions: ['s3:GetObject', 's3:PutObject'],
      resources: objects(athenaResults, 'queries/'),
      why: 'the record of each query, written when it starts, from which any instance answers for it (lib/query/service.ts)',
    },
    {
      actions: ['s3:GetObject', 's3:PutObject'],
      resources: objects(athenaResults, 'console/'),
      why: 'sign-in sessions (created, checked on every request, revoked at sign-out) and the failed sign-in counters, by conditional PutObject (lib/console/sessions.ts, throttle.ts)',
    },
    {
      actions: ['s3:GetObject', 's3:PutObject'],
      resources: objects(athenaResults, 'inventory/'),
      why: "the Overview's counts of the lake objects already read, so a new instance reads only what was written since (lib/pipeline-status.ts)",
    },
    {
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      resources: objects(athenaResults, 'views/'),
      why: 'the saved views of the quarantine and stream pages, shared by everyone signed in (lib/console/saved-views.ts)',
    },
  ),
});

/**
 * The Imports page uploads straight from the browser to the imports bucket (a presigned PUT, lib/imports/uploads.ts):
 * the bucket answers the browser's CORS preflight for the console's origin only, for PUT only, and shows it the ETag.
 * Its own resource, since the bucket exists before the console and its URL.
 */
export const importsUploadCors = new aws.s3.BucketCorsConfiguration('ImportsUploadCors', {
  bucket: imports.name,
  corsRules: [
    {
      allowedOrigins: [consoleSite.url],
      allowedMethods: [...UPLOAD_CORS.allowedMethods],
      allowedHeaders: [...UPLOAD_CORS.allowedHeaders],
      exposeHeaders: [...UPLOAD_CORS.exposeHeaders],
      maxAgeSeconds: UPLOAD_CORS.maxAgeSeconds,
    },
  ],
});
