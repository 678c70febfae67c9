/**
 * The lake's SQL layer in AWS: a Glue database whose tables are generated from the same catalog the local DuckDB views
 * come from (lib/catalog: partition projection, JSON and Parquet SerDes, the views users query), an Athena workgroup
 * that enforces its result location and a per-query scan cutoff, the saved queries as named queries, and the compactor
 * on a schedule.
 */
import { Catalog } from '../lib/catalog/catalog.ts';
import { glueTables, type GlueTableInput } from '../lib/catalog/glue.ts';
import { loadSavedQueries, savedSql } from '../lib/query/saved.ts';
import { Registry } from '../lib/registry/registry.ts';
import { TableRegistry } from '../lib/imports/tables.ts';
import path from 'node:path';
import { grants, objects } from './access.ts';
import { lambdaDefaults, tributaryEnvironment } from './lambda.ts';
import { settings } from './settings.ts';
import { athenaResults, lake, quarantine } from './storage.ts';
import { events } from './stream.ts';

/** Glue names: lower case, digits and underscores. */
export const databaseName = `tributary_${$app.stage.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`;

export const database = new aws.glue.CatalogDatabase('LakeDatabase', {
  name: databaseName,
  description: `Tributary lake tables of stage ${$app.stage} (generated from lib/catalog)`,
});

// The catalog is built from plain strings; bucket names are only known at deploy time, so the generated inputs carry
// placeholders that are swapped for the real names here.
const PLACEHOLDER = { lake: '\u0000lake\u0000', quarantine: '\u0000quarantine\u0000' } as const;

function withBuckets(s: string): $util.Input<string> {
  if (!s.includes('\u0000')) return s;
  return $util
    .all([lake.name, quarantine.name])
    .apply(([l, q]) => s.replaceAll(PLACEHOLDER.lake, l).replaceAll(PLACEHOLDER.quarantine, q));
}

function resolve<T>(value: T): unknown {
  if (typeof value === 'string') return withBuckets(value);
  if (Array.isArray(value)) return value.map(resolve);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
  return value;
}

/** The generated table inputs (exported for the infra tests, which compare them with the catalog). */
// The SST program runs bundled, away from the sources: the schemas and saved queries are read from the app's root.
export const tableInputs: GlueTableInput[] = glueTables(
  new Catalog(
    new Registry(path.join($cli.paths.root, 'schemas')),
    new TableRegistry(path.join($cli.paths.root, 'tables')),
  ),
  databaseName,
  (role) => PLACEHOLDER[role],
);

export const tables = tableInputs.map(
  (t) =>
    new aws.glue.CatalogTable(`LakeTable_${t.name}`, resolve(t) as aws.glue.CatalogTableArgs, {
      dependsOn: [database],
    }),
);

/** Where the workgroup has Athena write query results, in the athena-results bucket. */
export const ATHENA_OUTPUT_PREFIX = 'athena-results/';

export const workgroup = new aws.athena.Workgroup('Workgroup', {
  name: `tributary-${$app.stage}`,
  forceDestroy: !settings.production,
  configuration: {
    enforceWorkgroupConfiguration: true,
    publishCloudwatchMetricsEnabled: true,
    bytesScannedCutoffPerQuery: settings.bytesScannedCutoffPerQuery,
    resultConfiguration: {
      outputLocation: $interpolate`s3://${athenaResults.name}/${ATHENA_OUTPUT_PREFIX}`,
      encryptionConfiguration: { encryptionOption: 'SSE_S3' },
    },
  },
});

/** Every saved query (queries/*.sql, the Athena variant where there is one) as an Athena named query. */
export const namedQueries = loadSavedQueries(path.join($cli.paths.root, 'queries')).map(
  (q) =>
    new aws.athena.NamedQuery(`Query_${q.name}`, {
      name: q.name,
      description: q.description.slice(0, 1024),
      database: database.name,
      workgroup: workgroup.name,
      query: savedSql(q, 'athena'),
    }),
);

/** Hourly compaction of closed partition-hours into Parquet (DuckDB in the function). */
export const compactor = new sst.aws.Cron('Compactor', {
  schedule: 'rate(1 hour)',
  function: {
    ...lambdaDefaults,
    handler: 'functions/compactor/handler.handler',
    timeout: '15 minutes',
    memory: '3008 MB',
    permissions: grants(
      {
        actions: ['s3:ListBucket'],
        resources: [lake.arn],
        why: "lists events/ and compacted/, and imported tables' changes/ and compacted/; a manifest it looks for may not exist (404 only with ListBucket)",
      },
      {
        actions: ['s3:GetObject', 's3:DeleteObject'],
        resources: objects(lake, 'events/', 'imports/*/changes/'),
        why: "reads the JSONL of closed hours (events, imported tables' operations), deletes it once a Parquet object covers it",
      },
      {
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: objects(lake, 'compacted/', 'imports/*/compacted/'),
        why: 'writes the Parquet objects; reads those already in an hour, so late copies of an event they hold are not compacted again (one row per id)',
      },
      {
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: objects(lake, '_tributary/compaction/'),
        why: 'manifests, written before their Parquet object and read to finish an interrupted run',
      },
    ),
    environment: tributaryEnvironment(events.name),
    // DuckDB is native: installed for the function's platform (linux-arm64 bindings exist for this version) rather
    // than bundled.
    nodejs: { install: { '@duckdb/node-api': '1.5.6-r.1' } },
  },
});

/** What the console needs to run queries in this workgroup. */
export const analyticsEnvironment = {
  TRIBUTARY_ATHENA_WORKGROUP: workgroup.name,
  TRIBUTARY_GLUE_DATABASE: databaseName,
};
