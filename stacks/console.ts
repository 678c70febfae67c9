/**
 * The operations console (Next.js, OpenNext on Lambda behind CloudFront) and the re-drive worker it hands jobs to.
 * The console is not in the database's VPC: its OLTP page asks the status function there (stacks/database.ts).
 * Sign-in is mandatory in AWS (lib/console/auth.ts): the operator password is a secret, the viewer password optional.
 * The server function is reachable only through CloudFront (origin access control, POST bodies signed at the edge).
 */
import { analyticsEnvironment, databaseName, workgroup } from './analytics.ts';
import { oltpStatus } from './database.ts';
import { lambdaDefaults, tributaryEnvironment } from './lambda.ts';
import { athenaResults, lake, quarantine } from './storage.ts';
import { events } from './stream.ts';

/** `npx sst secret set ConsolePassword <at least 8 characters> --stage <stage>` (role operator). */
export const consolePassword = new sst.Secret('ConsolePassword');
/** Optional read-only sign-in (role viewer); an empty value disables it. */
export const consoleViewerPassword = new sst.Secret('ConsoleViewerPassword', '');

/**
 * Runs re-drive jobs: a console function is frozen once it has answered, so the console invokes this one
 * asynchronously; it continues itself in a new invocation before its time runs out.
 */
export const redriveWorker = new sst.aws.Function('RedriveWorker', {
  ...lambdaDefaults,
  handler: 'functions/redrive/handler.handler',
  timeout: '15 minutes',
  memory: '1024 MB',
  link: [events, quarantine],
  environment: tributaryEnvironment(events.name),
  permissions: [
    // Its own continuation: the function's ARN cannot be linked to itself, so its name pattern is granted.
    { actions: ['lambda:InvokeFunction'], resources: [$interpolate`arn:aws:lambda:*:*:function:${$app.name}-${$app.stage}-RedriveWorker*`] },
  ],
});

const region = aws.getRegionOutput().name;
const account = aws.getCallerIdentityOutput().accountId;

export const consoleSite = new sst.aws.Nextjs('Console', {
  path: '.',
  // SST 4.17.1's default for Next 16, pinned so an SST upgrade does not change the build unseen; `npm run test:infra`
  // runs this build for real and checks what the server function ships (tests/infra/console-build.test.ts).
  openNextVersion: '3.9.14',
  protection: 'oac-with-edge-signing',
  // Linking a function grants lambda:InvokeFunction on that function's ARN only: the worker, and the OLTP status
  // function the OLTP page invokes synchronously (lib/runtime.ts oltpStatusReader).
  link: [lake, quarantine, athenaResults, events, redriveWorker, oltpStatus],
  environment: {
    ...tributaryEnvironment(events.name),
    ...analyticsEnvironment,
    TRIBUTARY_REDRIVE_FUNCTION: redriveWorker.name,
    TRIBUTARY_OLTP_STATUS_FUNCTION: oltpStatus.name,
    TRIBUTARY_CONSOLE_PASSWORD: consolePassword.value,
    TRIBUTARY_CONSOLE_VIEWER_PASSWORD: consoleViewerPassword.value,
    // The saved queries, like the schemas (stacks/lambda.ts), at the root of the server function, where next.config.ts
    // has the build put them.
    ...($dev ? {} : { TRIBUTARY_QUERIES_DIR: '/var/task/queries' }),
  },
  // In AWS the console queries through Athena; the DuckDB engine (local mode's) is loaded only on first use, so its
  // native binding is not needed in the server function.
  // 45 s (CloudFront allows up to 60 s without a quota request; SST sets the origin read timeout to match): the OLTP
  // page's first read after Aurora paused waits for it to resume (~15 s) plus the status function's cold start.
  server: { architecture: 'arm64', timeout: '45 seconds' },
  permissions: [
    {
      actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution'],
      resources: [workgroup.arn],
    },
    {
      actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartitions'],
      resources: [
        $interpolate`arn:aws:glue:${region}:${account}:catalog`,
        $interpolate`arn:aws:glue:${region}:${account}:database/${databaseName}`,
        $interpolate`arn:aws:glue:${region}:${account}:table/${databaseName}/*`,
      ],
    },
    // GetMetricData has no resource-level permissions: "*" is the only resource AWS accepts for it.
    { actions: ['cloudwatch:GetMetricData'], resources: ['*'] },
  ],
});
