/**
 * Who may do what: the expected IAM of every Lambda function of the app, statement by statement, with the reason for
 * each (stacks/access.ts is the other side; the README's "Deploy to AWS" shows Tributary's rows). Written out here, not
 * read from stacks/, so a grant added or widened there fails access.test.ts until it is added here with its reason.
 *
 * Resources are named, then resolved against the deployment (`resolveResource`): `stream`, a bucket (`lake`,
 * `quarantine`, `athenaResults`, `consoleAssets`) or its objects under a prefix (`lake/events/` = `<arn>/events/*`,
 * `consoleAssets/` = every object), `workgroup`, `glue:catalog` / `glue:database` / `glue:tables`, `secret` (the
 * database password), `fn:<Name>` (a function's ARN), SST's `revalidationQueue` / `revalidationTable`, and `*`.
 */
import type { Infra, Statement } from './harness.ts';
import { allow, BASIC_EXECUTION_ROLE, VPC_ACCESS_EXECUTION_ROLE } from './checks.ts';

export interface ExpectedGrant {
  actions: string[];
  on: string[];
  why: string;
}

export interface FunctionAccess {
  /** As the README names it. */
  label: string;
  /** The `aws:lambda/function:Function` resource. */
  lambda: RegExp;
  /** Tributary's own function, or one SST's Nextjs component creates for OpenNext (listed, not chosen by us). */
  owner: 'tributary' | 'sst';
  /** AWS-managed policies attached to the role. */
  managed: ('basic' | 'vpc')[];
  grants: ExpectedGrant[];
  /** Why a function with no grants needs none. */
  none?: string;
}

const EVENT_SOURCE: ExpectedGrant = {
  actions: [
    'kinesis:DescribeStream',
    'kinesis:DescribeStreamSummary',
    'kinesis:GetRecords',
    'kinesis:GetShardIterator',
    'kinesis:ListShards',
  ],
  on: ['stream'],
  why: 'its event source mapping polls the stream with this role (no SubscribeToShard: that is for enhanced fan-out consumers)',
};
const ON_FAILURE: ExpectedGrant[] = [
  {
    actions: ['s3:PutObject'],
    on: ['quarantine/aws/lambda/'],
    why: 'Lambda writes a batch it gives up on to the S3 on-failure destination with this role',
  },
  { actions: ['s3:ListBucket'], on: ['quarantine'], why: 'Lambda requires it of an S3 on-failure destination' },
];
const DB_SECRET: ExpectedGrant = {
  actions: ['secretsmanager:GetSecretValue'],
  on: ['secret'],
  why: 'the database password, read at run time (lib/oltp/db.ts)',
};
const CONSOLE_ASSETS_READ: ExpectedGrant = {
  actions: ['s3:GetObject'],
  on: ['consoleAssets/'],
  why: 'SST: images and files to optimize, from the assets bucket',
};

export const ACCESS: FunctionAccess[] = [
  {
    label: 'Ingest',
    lambda: /^IngestFunction$/,
    owner: 'tributary',
    managed: ['basic'],
    grants: [
      {
        actions: ['kinesis:PutRecords'],
        on: ['stream'],
        why: 'puts accepted events on the stream (lib/stream/put-records.ts)',
      },
      {
        actions: ['kinesis:DescribeStreamSummary'],
        on: ['stream'],
        why: '`GET /health` reports the stream status (lib/ingest/api.ts)',
      },
      {
        actions: ['s3:PutObject'],
        on: ['quarantine/records/'],
        why: 'quarantines rejected events and unreadable bodies (lib/ingest/ingest.ts)',
      },
    ],
  },
  {
    label: 'IngestAuthorizer',
    lambda: /^IngestAuthorizerFunction$/,
    owner: 'tributary',
    managed: ['basic'],
    grants: [],
    none: 'compares `x-api-key` with the keys in its environment: no AWS call',
  },
  {
    label: 'LakeWriter',
    lambda: /^LakeWriterFunction$/,
    owner: 'tributary',
    managed: ['basic'],
    grants: [
      EVENT_SOURCE,
      {
        actions: ['s3:GetObject', 's3:PutObject'],
        on: ['lake/_tributary/journal/'],
        why: 'its per-shard journal of objects written by attempts not yet checkpointed (lib/lake/writer.ts)',
      },
      {
        actions: ['s3:DeleteObject', 's3:PutObject'],
        on: ['lake/events/'],
        why: 'writes the JSONL objects of a batch; a retried batch first deletes what an earlier attempt wrote',
      },
      {
        actions: ['s3:DeleteObject', 's3:PutObject'],
        on: ['lake/imports/*/changes/'],
        why: "writes a table import's operations with their table's changes; a retried batch first deletes what an earlier attempt wrote",
      },
      {
        actions: ['s3:ListBucket'],
        on: ['lake'],
        why: 'the first batch of a shard reads a journal that does not exist yet: S3 answers 404 only with ListBucket, else 403',
      },
      {
        actions: ['s3:DeleteObject', 's3:PutObject'],
        on: ['quarantine/records/'],
        why: 'quarantines undecodable records (and deletes those of an earlier attempt of the batch)',
      },
      ...ON_FAILURE,
    ],
  },
  {
    label: 'Compactor',
    lambda: /^CompactorHandlerFunction$/,
    owner: 'tributary',
    managed: ['basic'],
    grants: [
      {
        actions: ['s3:ListBucket'],
        on: ['lake'],
        why: "lists `events/` and `compacted/`, and imported tables' `changes/` and `compacted/`; looks for manifests that may not exist (404 only with ListBucket)",
      },
      {
        actions: ['s3:DeleteObject', 's3:GetObject'],
        on: ['lake/events/', 'lake/imports/*/changes/'],
        why: "reads the JSONL of closed hours (events, imported tables' operations), deletes it once a Parquet object covers it (lib/compact/compact.ts)",
      },
      {
        actions: ['s3:GetObject', 's3:PutObject'],
        on: ['lake/compacted/', 'lake/imports/*/compacted/'],
        why: 'writes the Parquet objects; reads those already in an hour, so late copies of an event they hold are not compacted again (one row per id)',
      },
      {
        actions: ['s3:GetObject', 's3:PutObject'],
        on: ['lake/_tributary/compaction/'],
        why: 'manifests: written before their Parquet object, read to finish an interrupted run',
      },
    ],
  },
  {
    label: 'OltpSink',
    lambda: /^OltpSinkFunction$/,
    owner: 'tributary',
    managed: ['basic', 'vpc'],
    grants: [
      DB_SECRET,
      EVENT_SOURCE,
      {
        actions: ['s3:PutObject'],
        on: ['quarantine/records/'],
        why: 'quarantines the events the database refuses (lib/oltp/sink.ts)',
      },
      ...ON_FAILURE,
    ],
  },
  {
    label: 'ImportApplier',
    lambda: /^ImportApplierFunction$/,
    owner: 'tributary',
    managed: ['basic', 'vpc'],
    grants: [
      DB_SECRET,
      EVENT_SOURCE,
      {
        actions: ['s3:PutObject'],
        on: ['quarantine/records/'],
        why: 'quarantines the operations the database refuses (lib/imports/applier.ts)',
      },
      ...ON_FAILURE,
    ],
  },
  {
    label: 'ImportJob',
    lambda: /^ImportJobFunction$/,
    owner: 'tributary',
    managed: ['basic', 'vpc'],
    grants: [
      DB_SECRET,
      {
        actions: ['s3:GetObject'],
        on: ['imports/exports/', 'imports/raw/'],
        why: 'reads the dropped exports and raw event files (lib/imports/job.ts, drops.ts)',
      },
      {
        actions: ['s3:ListBucket'],
        on: ['imports'],
        why: 'a file deleted before its import answers 404 only with ListBucket, else 403',
      },
      {
        actions: ['s3:GetObject', 's3:PutObject'],
        on: ['lake/imports/*/snapshots/'],
        why: "writes each published export's Parquet snapshot and reads the last one as the next delta's base",
      },
      {
        actions: ['s3:ListBucket'],
        on: ['lake'],
        why: 'a missing snapshot answers 404 only with ListBucket, else 403 (the import then waits, saying so)',
      },
      {
        actions: ['s3:PutObject'],
        on: ['quarantine/records/'],
        why: 'quarantines the rows of a refused export (lib/imports/job.ts)',
      },
      {
        actions: ['kinesis:ListShards', 'kinesis:PutRecords'],
        on: ['stream'],
        why: 'puts the operations of an export on the stream, aggregated by the shard their keys hash into (lib/imports/job.ts)',
      },
    ],
  },
  {
    label: 'ConsoleDb',
    lambda: /^ConsoleDbFunction$/,
    owner: 'tributary',
    managed: ['basic', 'vpc'],
    grants: [DB_SECRET],
  },
  {
    label: 'RedriveWorker',
    lambda: /^RedriveWorkerFunction$/,
    owner: 'tributary',
    managed: ['basic'],
    grants: [
      {
        actions: ['kinesis:PutRecords'],
        on: ['stream'],
        why: 'puts re-driven records back on the stream (lib/quarantine/redrive.ts)',
      },
      {
        actions: ['s3:ListBucket'],
        on: ['quarantine'],
        why: 'the quarantine index lists `records/` and `ledger/`; the cancel marker it polls is usually absent (404 only with ListBucket)',
      },
      {
        actions: ['s3:GetObject'],
        on: ['quarantine/records/', 'quarantine/ledger/'],
        why: 'the index reads the quarantined records and their ledger',
      },
      {
        actions: ['s3:GetObject', 's3:PutObject'],
        on: ['quarantine/jobs/'],
        why: 'reads and updates the job (request, state), reads the cancel marker (lib/quarantine/jobs.ts)',
      },
      {
        actions: ['s3:GetObject', 's3:PutObject'],
        on: ['quarantine/claims/'],
        why: 'claims each record before putting it on the stream (conditional PutObject: If-None-Match, If-Match) and reads who holds a taken one (lib/quarantine/claims.ts)',
      },
      {
        actions: ['s3:PutObject'],
        on: ['quarantine/ledger/', 'quarantine/records/', 'quarantine/audit/'],
        why: 'writes each outcome to the ledger, quarantines a refused fix again, writes the audit line of the job',
      },
      {
        actions: ['lambda:InvokeFunction'],
        on: ['fn:RedriveWorker'],
        why: 'continues a job in a new invocation before its time runs out (lib/composition.ts); its name is fixed so the role can name it',
      },
    ],
  },
  {
    label: 'Console server',
    lambda: /^ConsoleServerUseast1Function$/,
    owner: 'tributary',
    managed: ['basic'],
    grants: [
      {
        actions: ['kinesis:ListShards'],
        on: ['stream'],
        why: 'the shards of the stream page and of the charts, and the re-drive rate cap',
      },
      {
        actions: ['kinesis:GetRecords', 'kinesis:GetShardIterator'],
        on: ['stream'],
        why: 'the stream page reads the records of a shard (lib/stream/browse.ts)',
      },
      {
        actions: ['cloudwatch:GetMetricData'],
        on: ['*'],
        why: 'the Overview charts (lib/metrics/cloudwatch.ts); GetMetricData has no resource-level permissions',
      },
      {
        actions: ['lambda:InvokeFunction'],
        on: ['fn:RedriveWorker'],
        why: 'hands re-drive jobs to the worker (asynchronous invoke)',
      },
      {
        actions: ['lambda:InvokeFunction'],
        on: ['fn:ConsoleDb'],
        why: 'the OLTP and Imports pages ask the console database function, which is in the VPC',
      },
      {
        actions: [
          'athena:GetQueryExecution',
          'athena:GetQueryResults',
          'athena:StartQueryExecution',
          'athena:StopQueryExecution',
        ],
        on: ['workgroup'],
        why: 'runs, polls, pages and cancels queries in its workgroup (lib/query/athena-engine.ts)',
      },
      {
        actions: ['glue:GetDatabase', 'glue:GetPartitions', 'glue:GetTable', 'glue:GetTables'],
        on: ['glue:catalog', 'glue:database', 'glue:tables'],
        why: 'Athena resolves the database, tables and views of a query with the permissions of its caller',
      },
      {
        actions: ['s3:GetBucketLocation', 's3:ListBucket'],
        on: ['lake', 'quarantine'],
        why: 'Athena lists and locates table data; the query guard sizes tables; the quarantine index lists its prefixes (404 only with ListBucket)',
      },
      {
        actions: ['s3:GetObject'],
        on: [
          'lake/events/',
          'lake/compacted/',
          'lake/imports/*/changes/',
          'lake/imports/*/compacted/',
          'quarantine/records/',
          'quarantine/ledger/',
        ],
        why: "Athena reads table data (events, and imported tables' changes); the freshness KPI reads the newest lake object; the quarantine index reads records and ledger",
      },
      {
        actions: ['s3:PutObject'],
        on: ['imports/exports/', 'imports/raw/'],
        why: "the Imports page's upload: a presigned PUT the browser sends straight to the drop location, signed with this role (lib/imports/uploads.ts)",
      },
      {
        actions: ['s3:GetObject', 's3:PutObject'],
        on: ['quarantine/jobs/', 'quarantine/audit/'],
        why: 're-drive jobs (request, state, cancel marker), the audit log and its lines for unmasked reads',
      },
      { actions: ['s3:PutObject'], on: ['quarantine/ledger/'], why: 'a discard is written to the ledger' },
      {
        actions: ['s3:GetObject', 's3:PutObject'],
        on: ['quarantine/claims/'],
        why: 'a discard claims its records (conditional PutObject, lib/quarantine/claims.ts) so it never acts on one a running re-drive holds',
      },
      {
        actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
        on: ['athenaResults'],
        why: 'Athena writes results to the workgroup location; the query history is listed',
      },
      {
        actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject'],
        on: ['athenaResults/athena-results/'],
        why: 'Athena writes and reads query results with the permissions of its caller',
      },
      {
        actions: ['s3:GetObject', 's3:PutObject'],
        on: ['athenaResults/history/'],
        why: 'the query history (lib/query/service.ts)',
      },
      {
        actions: ['s3:GetObject', 's3:PutObject'],
        on: ['athenaResults/queries/'],
        why: 'the record of each query, written when it starts, from which any instance answers for it (lib/query/service.ts)',
      },
      {
        actions: ['s3:GetObject', 's3:PutObject'],
        on: ['athenaResults/console/'],
        why: 'sign-in sessions (created, checked on every request, revoked at sign-out) and the failed sign-in counters, by conditional PutObject (lib/console/sessions.ts, throttle.ts)',
      },
      {
        actions: ['s3:GetObject', 's3:PutObject'],
        on: ['athenaResults/inventory/'],
        why: "the Overview's counts of the lake objects already read, so a new instance reads only what was written since (lib/pipeline-status.ts)",
      },
      {
        actions: ['s3:DeleteObject', 's3:GetObject', 's3:PutObject'],
        on: ['athenaResults/views/'],
        why: 'the saved views of the quarantine and stream pages, shared by everyone signed in (lib/console/saved-views.ts)',
      },
      // SST's Nextjs adds these for OpenNext (incremental cache, tag cache, revalidation queue, CDN invalidation).
      {
        actions: ['cloudfront:CreateInvalidation'],
        on: ['*'],
        why: 'SST: OpenNext invalidates CloudFront paths on revalidation; the distribution is created after the role',
      },
      {
        actions: ['s3:DeleteObject', 's3:GetObject', 's3:PutObject'],
        on: ['consoleAssets/'],
        why: 'SST: the incremental cache in the assets bucket',
      },
      { actions: ['s3:ListBucket'], on: ['consoleAssets'], why: 'SST: the incremental cache in the assets bucket' },
      {
        actions: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
        on: ['revalidationQueue'],
        why: 'SST: queues revalidations',
      },
      {
        actions: [
          'dynamodb:BatchGetItem',
          'dynamodb:BatchWriteItem',
          'dynamodb:ConditionCheckItem',
          'dynamodb:DeleteItem',
          'dynamodb:DescribeTable',
          'dynamodb:GetItem',
          'dynamodb:GetRecords',
          'dynamodb:GetShardIterator',
          'dynamodb:PutItem',
          'dynamodb:Query',
          'dynamodb:Scan',
          'dynamodb:UpdateItem',
        ],
        on: ['revalidationTable', 'revalidationTable/'],
        why: 'SST: the tag cache table',
      },
    ],
  },
  {
    label: 'Console image optimizer',
    lambda: /^ConsoleImageOptimizerFunction$/,
    owner: 'sst',
    managed: ['basic'],
    grants: [CONSOLE_ASSETS_READ],
  },
  {
    label: 'Console revalidation seeder',
    lambda: /^ConsoleRevalidationSeederFunction$/,
    owner: 'sst',
    managed: ['basic'],
    grants: [
      {
        actions: ['dynamodb:BatchWriteItem', 'dynamodb:DescribeTable', 'dynamodb:PutItem'],
        on: ['revalidationTable'],
        why: 'SST: seeds the tag cache table at deploy',
      },
    ],
  },
  {
    label: 'Console revalidation worker',
    lambda: /^ConsoleRevalidationEventsSubscriber\w+FunctionFunction$/,
    owner: 'sst',
    managed: ['basic'],
    // SST lists the queue-consumer statement twice (once from the queue subscriber, once from the Nextjs component).
    grants: [0, 1].map(() => ({
      actions: [
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
      ],
      on: ['revalidationQueue'],
      why: 'SST: consumes the revalidation queue',
    })),
  },
  {
    label: 'Console edge signer',
    lambda: /^ConsoleEdgeFunction$/,
    owner: 'sst',
    managed: ['basic'],
    grants: [],
    none: 'SST: signs request bodies at the edge for origin access control: no AWS call',
  },
];

/** The AWS-managed policies SST attaches, with their documents as AWS publishes them (for the wildcard check too). */
export const MANAGED_POLICIES = {
  basic: {
    arn: BASIC_EXECUTION_ROLE,
    statements: [allow(['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], ['*'])],
  },
  vpc: {
    arn: VPC_ACCESS_EXECUTION_ROLE,
    statements: [
      allow(
        [
          'logs:CreateLogGroup',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        ['*'],
      ),
    ],
  },
} as const;

const BUCKETS: Record<string, string> = {
  lake: 'Lake',
  quarantine: 'Quarantine',
  athenaResults: 'AthenaResults',
  imports: 'Imports',
  consoleAssets: 'ConsoleAssets',
};

/** The ARN a table entry names, in this deployment. */
export function resolveResource(infra: Infra, ref: string): string {
  if (ref === '*') return '*';
  const glue = /^glue:(catalog|database|tables)$/.exec(ref);
  if (glue) {
    const db = String(infra.one('aws:glue/catalogDatabase:CatalogDatabase', 'LakeDatabase').inputs.name);
    const base = String(infra.one('aws:athena/workgroup:Workgroup', 'Workgroup').state.arn).replace(
      /^arn:aws:athena:([^:]+):(\d+):.*$/,
      'arn:aws:glue:$1:$2',
    );
    return { catalog: `${base}:catalog`, database: `${base}:database/${db}`, tables: `${base}:table/${db}/*` }[
      glue[1] as 'catalog' | 'database' | 'tables'
    ];
  }
  const fn = /^fn:(\w+)$/.exec(ref);
  if (fn) return String(infra.lambda(new RegExp(`^${fn[1]}$`)).state.arn);
  const [name, ...rest] = ref.split('/');
  const prefix = rest.length ? `/${rest.join('/')}*` : '';
  const arn = (): unknown => {
    if (name === 'stream') return infra.part('sst:aws:KinesisStream', 'Events', 'aws:kinesis/stream:Stream').state.arn;
    if (name === 'workgroup') return infra.one('aws:athena/workgroup:Workgroup', 'Workgroup').state.arn;
    if (name === 'secret')
      return infra.part('sst:aws:Aurora', 'Database', 'aws:secretsmanager/secret:Secret').state.arn;
    if (name === 'revalidationQueue')
      return infra.one('aws:sqs/queue:Queue', 'ConsoleRevalidationEventsQueue').state.arn;
    if (name === 'revalidationTable')
      return infra.one('aws:dynamodb/table:Table', 'ConsoleRevalidationTable').state.arn;
    if (name && BUCKETS[name]) return infra.part('sst:aws:Bucket', BUCKETS[name], 'aws:s3/bucket:Bucket').state.arn;
    throw new Error(`tests/infra/access.ts: unknown resource ${JSON.stringify(ref)}`);
  };
  return `${String(arn())}${prefix}`;
}

/** The statements a table entry expects, with its resources resolved. */
export function expectedStatements(infra: Infra, access: FunctionAccess): Statement[] {
  return access.grants.map((g) =>
    allow(
      g.actions,
      g.on.map((r) => resolveResource(infra, r)),
    ),
  );
}

/** The table as the README's "Who may do what" rows: function, actions, resources, why. */
export function accessRows(): string[][] {
  return ACCESS.flatMap((a) => {
    const fn = `\`${a.label}\``;
    if (!a.grants.length) return [[fn, '—', '—', a.none ?? '']];
    return a.grants.map((g) => [
      fn,
      g.actions.map((x) => `\`${x}\``).join(', '),
      g.on.map((x) => `\`${x}\``).join(', '),
      g.why,
    ]);
  });
}
