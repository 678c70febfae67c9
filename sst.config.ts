/// <reference path="./.sst/platform/config.d.ts" />

/**
 * Tributary on AWS: HTTP ingest API → Kinesis `events` → lake-writer Lambda → partitioned S3 lake (architecture.md §1, §6),
 * and the OLTP sink → Aurora PostgreSQL (stacks/database.ts).
 * No top-level imports: SST evaluates `app()` before the platform is loaded, so the stacks are imported inside `run()`.
 */
export default $config({
  app(input) {
    const production = input?.stage === 'production';
    return {
      name: 'tributary',
      home: 'aws',
      removal: production ? 'retain' : 'remove',
      protect: production,
    };
  },
  async run() {
    (await import('./stacks/iam.ts')).restrictFunctionRoles();
    const storage = await import('./stacks/storage.ts');
    const stream = await import('./stacks/stream.ts');
    const api = await import('./stacks/api.ts');
    const analytics = await import('./stacks/analytics.ts');
    const database = await import('./stacks/database.ts');
    const importsStack = await import('./stacks/imports.ts');
    const monitoring = await import('./stacks/monitoring.ts');
    const consoleStack = await import('./stacks/console.ts');

    return {
      api: api.api.url,
      console: consoleStack.consoleSite.url,
      lakeBucket: storage.lake.name,
      quarantineBucket: storage.quarantine.name,
      athenaResultsBucket: storage.athenaResults.name,
      importsBucket: storage.imports.name,
      stream: stream.events.name,
      glueDatabase: analytics.databaseName,
      athenaWorkgroup: analytics.workgroup.name,
      alarmsTopic: monitoring.alarmsTopic.arn,
      // Where the OLTP database is; the password stays in the secret (read it with
      // `aws secretsmanager get-secret-value --secret-id <databaseSecretArn>`), never in the outputs.
      databaseHost: database.database.host,
      databasePort: database.database.port,
      databaseName: database.database.database,
      databaseUser: database.database.username,
      databaseSecretArn: database.database.secretArn,
      oltpSink: database.oltpSinkFunction.name,
      importJob: importsStack.importJobFunction.name,
    };
  },
});
