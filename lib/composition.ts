import { athenaClient, awsClients, cloudWatchClient, lambdaClient, presigningS3Client } from './aws/clients.ts';
import { Catalog } from './catalog/catalog.ts';
import { s3rverLayout } from './catalog/duckdb.ts';
import { AthenaEngine } from './query/athena-engine.ts';
import { DuckDbEngine } from './query/duckdb-engine.ts';
import type { QueryLimits } from './query/query-info.ts';
import { QueryService } from './query/service.ts';
import { ConfigError } from './errors.ts';
import { loadConfig, type TributaryConfig } from './config.ts';
import type { IngestApiDeps } from './ingest/api.ts';
import type { IngestDeps } from './ingest/ingest.ts';
import type { LakeWriterDeps } from './lake/writer.ts';
import { databasePool } from './oltp/db.ts';
import { DatabaseUnavailableError } from './oltp/errors.ts';
import type { OltpStatus } from './oltp/status.ts';
import {
  answerValue,
  type ConsoleDbAnswer,
  consoleDbAnswer,
  type ConsoleDbRequest,
  type ConsoleDbValues,
} from './console/database.ts';
import type { OltpSinkDeps } from './oltp/sink.ts';
import type { ImportApplierDeps } from './imports/applier.ts';
import type { ImportTriggerDeps } from './imports/drops.ts';
import { ImportRegistry } from './imports/registry.ts';
import { ImportService } from './imports/service.ts';
import { TableRegistry } from './imports/tables.ts';
import type { UploadDeps } from './imports/uploads.ts';
import type pg from 'pg';
import { defaultRegistry } from './registry/registry.ts';
import { QuarantineIndex } from './quarantine/quarantine-index.ts';
import { RedriveJobFailedError } from './quarantine/errors.ts';
import { QuarantineService, type JobState } from './quarantine/service.ts';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import type { CompactDeps } from './compact/types.ts';
import { CloudWatchMetricsSource } from './metrics/cloudwatch.ts';
import { metricsDir } from './metrics/local-files.ts';
import { localMetricsRecorder, type LocalMetricsRecorder } from './metrics/local-recorder.ts';
import { LocalMetricsSource } from './metrics/local-source.ts';
import type { MetricsSource } from './metrics/types.ts';
import { INVENTORY_CACHE_KEY, PipelineInventory } from './pipeline-status.ts';
import { SavedViews } from './console/saved-views.ts';
import { Masker, masksFor } from './masking.ts';
import { ReadAudit, type ReadSurface } from './quarantine/read-audit.ts';
import type { Actor } from './quarantine/access.ts';

/*
 * The composition root: builds each entry point's dependencies (SDK clients, engines, stores, services) from a
 * configuration, for AWS and local mode alike. Handlers, routes and the CLI call one function here; nothing in lib/
 * below this file knows which mode it runs in.
 */

/**
 * Dependencies of the ingest API for a configuration. The API key comes from TRIBUTARY_API_KEY (comma-separated for
 * rotation); the local runtime sets it, the AWS stack passes the secret.
 */
export function ingestDeps(config: TributaryConfig = loadConfig()): IngestApiDeps {
  const keys = config.apiKeys;
  if (!keys.length) throw new ConfigError('TRIBUTARY_API_KEY is not set; the ingest API refuses to run without a key.');
  return { ...ingestWriterDeps(config), apiKeys: keys };
}

/** What puts events on the stream the way ingest does, without the API (raw-file loads). */
export function ingestWriterDeps(config: TributaryConfig = loadConfig()): IngestDeps {
  const { kinesis, s3 } = awsClients(config);
  const metrics = metricsRecorder(config);
  return {
    registry: defaultRegistry(),
    kinesis,
    s3,
    streamName: config.streamName,
    quarantineBucket: config.buckets.quarantine,
    ...(metrics ? { metrics, putOptions: { metrics } } : {}),
  };
}

/**
 * The shard and pipeline metrics recorder of a configuration: in local mode the data directory's (one per process),
 * in AWS none, since Kinesis and CloudWatch publish the same metrics themselves. Anything that puts records locally
 * passes it to `putRecordsReliably` as `putOptions.metrics`.
 */
export function metricsRecorder(config: TributaryConfig = loadConfig()): LocalMetricsRecorder | undefined {
  return config.mode === 'local' ? localMetricsRecorder(config.dataDir) : undefined;
}

/** Where the console's charts read from: CloudWatch in AWS, the files the local runtime records into locally. */
export function metricsSource(config: TributaryConfig = loadConfig()): MetricsSource {
  if (config.mode === 'local') return new LocalMetricsSource(metricsDir(config.dataDir));
  return new CloudWatchMetricsSource({
    cloudwatch: cloudWatchClient(config),
    kinesis: awsClients(config).kinesis,
    streamName: config.streamName,
  });
}

/** Dependencies of the lake writer for a configuration. */
export function lakeWriterDeps(config: TributaryConfig = loadConfig()): LakeWriterDeps {
  return {
    s3: awsClients(config).s3,
    registry: defaultRegistry(),
    tables: new TableRegistry(),
    buckets: { lake: config.buckets.lake, quarantine: config.buckets.quarantine },
  };
}

/** Dependencies of the OLTP sink for a configuration (the database pool of `databasePool`). */
export function oltpSinkDeps(config: TributaryConfig = loadConfig()): OltpSinkDeps {
  const pool = () => databasePool(config);
  return {
    pool: pool(),
    s3: awsClients(config).s3,
    quarantineBucket: config.buckets.quarantine,
    ...(config.mode === 'aws' ? { recycle: pool } : {}),
  };
}

/** The lake's tables: the event types', the quarantine's, and each imported table's changes and current rows. */
export function lakeCatalog(): Catalog {
  return new Catalog(defaultRegistry(), new TableRegistry());
}

/** Dependencies of the import applier: its own pool of the OLTP database (small: a batch is a few statements). */
export function importApplierDeps(config: TributaryConfig = loadConfig()): ImportApplierDeps {
  return {
    pool: databasePool(config, 2),
    s3: awsClients(config).s3,
    quarantineBucket: config.buckets.quarantine,
    tables: new TableRegistry(),
  };
}

/** Dependencies of the import job, over a pool of the OLTP database (where the registry lives). */
export function importJobDeps(
  config: TributaryConfig = loadConfig(),
  pool: pg.Pool = databasePool(config, 2),
): ImportTriggerDeps {
  const { s3, kinesis } = awsClients(config);
  const metrics = metricsRecorder(config);
  return {
    ingest: ingestWriterDeps(config),
    ...(metrics ? { put: { metrics } } : {}),
    registry: new ImportRegistry(pool),
    tables: new TableRegistry(),
    s3,
    kinesis,
    streamName: config.streamName,
    buckets: { imports: config.buckets.imports, lake: config.buckets.lake, quarantine: config.buckets.quarantine },
  };
}

/**
 * The imports of the CLI: the registry over a pool of its own (the caller closes it with `close()`), the tables, the
 * imports bucket.
 */
export function importService(config: TributaryConfig = loadConfig()): ImportService & { close(): Promise<void> } {
  const pool = databasePool(config, 2);
  return Object.assign(importServiceOver(pool, config), { close: () => pool.end() });
}

const SHARED_POOL = Symbol.for('tributary.oltpPool');

/** The console's OLTP database pool: one per process, small (the page reads counts and a few rows). */
export function sharedOltpPool(): pg.Pool {
  const g = globalThis as { [SHARED_POOL]?: pg.Pool };
  return (g[SHARED_POOL] ??= databasePool(loadConfig(), 2));
}

/** Reads the OLTP status (`tributary db status`, the console's OLTP page). */
export type OltpStatusReader = (options: { latest?: number }) => Promise<OltpStatus>;

/** Asks the operational database one of the console's requests (lib/console/database.ts). */
export type ConsoleDb = <R extends ConsoleDbRequest>(request: R) => Promise<ConsoleDbValues[R['op']]>;

/** The import service over a pool of the database (its S3 client is only used to drop files, by the CLI). */
function importServiceOver(pool: pg.Pool, config: TributaryConfig): ImportService {
  return new ImportService({
    registry: new ImportRegistry(pool),
    tables: new TableRegistry(),
    s3: awsClients(config).s3,
    importsBucket: config.buckets.imports,
  });
}

/**
 * Where the console asks the operational database: locally, and wherever the database is reachable, over the
 * console's own pool. In AWS the database lives in a private VPC the console's server function is not in, so the
 * console invokes the console database function in that VPC (TRIBUTARY_CONSOLE_DB_FUNCTION), which answers the same
 * requests the same way (`consoleDbAnswer`). The function failing as a whole (timeout, crash) is the database being
 * unavailable (503).
 */
export function consoleDatabase(config: TributaryConfig = loadConfig()): ConsoleDb {
  const fn = config.console.consoleDbFunction;
  if (config.mode !== 'aws' || !fn)
    return async (request) =>
      answerValue(await consoleDbAnswer(sharedOltpPool(), () => importServiceOver(sharedOltpPool(), config), request));
  return async (request) => {
    const res = await lambdaClient(config).send(
      new InvokeCommand({
        FunctionName: fn,
        InvocationType: 'RequestResponse',
        Payload: Buffer.from(JSON.stringify(request)),
      }),
    );
    const text = Buffer.from(res.Payload ?? new Uint8Array()).toString('utf8');
    if (res.FunctionError) {
      let message = text;
      try {
        message = (JSON.parse(text) as { errorMessage?: string }).errorMessage ?? text;
      } catch {
        // not JSON: keep the raw text
      }
      throw new DatabaseUnavailableError(`The console database function failed: ${message}`);
    }
    return answerValue(JSON.parse(text) as ConsoleDbAnswer);
  };
}

/** What the console's upload of an import file is signed with: the imports bucket, the tables and the event types. */
export function importUploadDeps(config: TributaryConfig = loadConfig()): UploadDeps {
  return {
    s3: presigningS3Client(config),
    bucket: config.buckets.imports,
    tables: new TableRegistry(),
    types: defaultRegistry(),
  };
}

/** The OLTP status the console's OLTP page reads ({@link consoleDatabase}). */
export function oltpStatusReader(config: TributaryConfig = loadConfig()): OltpStatusReader {
  const db = consoleDatabase(config);
  return (options) => db({ op: 'oltp-status', latest: options.latest ?? 0 });
}

/**
 * One answer of the console database function (AWS): a pool for this call only, ended before returning, so the
 * function holds no connection while frozen and Aurora can pause.
 */
export async function consoleDbOnce(event: unknown, config: TributaryConfig = loadConfig()): Promise<ConsoleDbAnswer> {
  const pool = databasePool(config, 1);
  try {
    return await consoleDbAnswer(pool, () => importServiceOver(pool, config), event);
  } finally {
    await pool.end().catch(() => {});
  }
}

/**
 * The query service of a configuration: Athena in AWS, DuckDB over the emulator's objects locally, with the same
 * catalog, guards and history either way.
 */
export function queryService(config: TributaryConfig = loadConfig(), limits: Partial<QueryLimits> = {}): QueryService {
  const catalog = lakeCatalog();
  const buckets = {
    lake: config.buckets.lake,
    quarantine: config.buckets.quarantine,
    athenaResults: config.buckets.athenaResults,
  };
  const engine =
    config.mode === 'local'
      ? new DuckDbEngine(catalog, s3rverLayout(config.dataDir, buckets))
      : new AthenaEngine({
          client: athenaClient(config),
          workGroup: config.analytics.workGroup,
          database: config.analytics.database,
        });
  return new QueryService({
    engine,
    catalog,
    s3: awsClients(config).s3,
    buckets,
    limits,
    masker: new Masker(defaultRegistry()),
    onUnmaskedRead: (actor, id) => auditUnmaskedRead(actor, 'sql result', id, config),
  });
}

/** Dependencies of the compactor; Lambda's writable scratch space is /tmp, which is also os.tmpdir() there. */
export function compactorDeps(config: TributaryConfig = loadConfig()): CompactDeps {
  return {
    s3: awsClients(config).s3,
    catalog: lakeCatalog(),
    buckets: { lake: config.buckets.lake, quarantine: config.buckets.quarantine },
  };
}

const SHARED = Symbol.for('tributary.queryService');

/**
 * The query service of a long-running server (the console): one per process, kept on globalThis so Next's module
 * reloads in development do not start a new DuckDB instance each time, and so running queries stay reachable.
 */
export function sharedQueryService(): QueryService {
  const g = globalThis as { [SHARED]?: QueryService };
  if (!g[SHARED]) {
    const config = loadConfig();
    const max = config.console.maxUnfilteredScanBytes;
    g[SHARED] = queryService(config, max === undefined ? {} : { maxUnfilteredScanBytes: max });
  }
  return g[SHARED];
}

/** The quarantine service of a configuration (browse, re-drive, discard, export, audit). */
export function quarantineService(config: TributaryConfig = loadConfig()): QuarantineService {
  const { kinesis, s3 } = awsClients(config);
  const { exportEnabled, redriveRate, redriveFunction } = config.console;
  return new QuarantineService(
    {
      registry: defaultRegistry(),
      kinesis,
      s3,
      streamName: config.streamName,
      bucket: config.buckets.quarantine,
      index: new QuarantineIndex(s3, config.buckets.quarantine),
      // Re-driven records count in the shard charts like any other put (locally; CloudWatch sees them in AWS).
      putOptions: { metrics: metricsRecorder(config) },
    },
    {
      exportEnabled,
      ...(redriveRate !== undefined ? { defaultRate: redriveRate } : {}),
      // In AWS a console function is frozen once it has answered: jobs go to the re-drive worker function.
      ...(redriveFunction ? { dispatch: redriveDispatch(config, redriveFunction) } : {}),
    },
  );
}

let masker: Masker | undefined;

/** The masker an actor's answers go through: the shipped types' sensitive fields for a viewer, none for an operator. */
export function maskerFor(actor: Actor): Masker | undefined {
  if (!masksFor(actor)) return undefined;
  masker ??= new Masker(defaultRegistry());
  return masker;
}

const SHARED_READ_AUDIT = Symbol.for('tributary.readAudit');

/**
 * Records an unmasked read of sensitive data (an operator's; a viewer's reads are masked and not recorded), in the
 * quarantine bucket's audit log, one line per reader, surface and subject per 15 minutes.
 */
export async function auditUnmaskedRead(
  actor: Actor,
  surface: ReadSurface,
  subject: string,
  config: TributaryConfig = loadConfig(),
): Promise<void> {
  if (masksFor(actor)) return;
  // One per quarantine bucket (a test's runtime has its own), kept across Next's module reloads.
  const g = globalThis as { [SHARED_READ_AUDIT]?: Map<string, ReadAudit> };
  const audits = (g[SHARED_READ_AUDIT] ??= new Map());
  const key = `${config.endpoints?.s3 ?? config.region}/${config.buckets.quarantine}`;
  let audit = audits.get(key);
  if (!audit) {
    audit = new ReadAudit({ s3: awsClients(config).s3, bucket: config.buckets.quarantine });
    audits.set(key, audit);
  }
  await audit.record(actor, surface, subject);
}

/** The console's saved views (shared filters), kept in the athena-results bucket. */
export function savedViews(config: TributaryConfig = loadConfig()): SavedViews {
  return new SavedViews({ s3: awsClients(config).s3, bucket: config.buckets.athenaResults });
}

const SHARED_QUARANTINE = Symbol.for('tributary.quarantineService');

/** The console's quarantine service: one per process (its index and running jobs survive Next's module reloads). */
export function sharedQuarantineService(): QuarantineService {
  const g = globalThis as { [SHARED_QUARANTINE]?: QuarantineService };
  return (g[SHARED_QUARANTINE] ??= quarantineService());
}

/**
 * The pipeline inventory of a configuration (stream, lake, quarantine, on-failure counts), for a one-off reader
 * (`tributary status`): it starts from the counts the console saved and reads the objects written since.
 */
export function pipelineInventory(config: TributaryConfig = loadConfig()): PipelineInventory {
  const quarantine = quarantineService(config);
  return new PipelineInventory({
    config,
    ...awsClients(config),
    quarantineTotals: () => quarantine.totals(),
    cache: { bucket: config.buckets.athenaResults, key: INVENTORY_CACHE_KEY },
  });
}

const SHARED_INVENTORY = Symbol.for('tributary.pipelineInventory');

/**
 * The console's pipeline inventory: one per process, over the console's quarantine index, so a render costs the
 * bucket listings and the objects written since the last one, not a read of every object.
 */
export function sharedPipelineInventory(): PipelineInventory {
  const g = globalThis as { [SHARED_INVENTORY]?: PipelineInventory };
  if (!g[SHARED_INVENTORY]) {
    const config = loadConfig();
    const quarantine = sharedQuarantineService();
    g[SHARED_INVENTORY] = new PipelineInventory({
      config,
      ...awsClients(config),
      quarantineTotals: () => quarantine.totals(),
      cache: { bucket: config.buckets.athenaResults, key: INVENTORY_CACHE_KEY },
    });
  }
  return g[SHARED_INVENTORY];
}

/** Hands a re-drive job to the worker function (asynchronous invoke: the caller does not wait for the job). */
export function redriveDispatch(config: TributaryConfig, functionName: string): (job: string) => Promise<void> {
  return async (job) => {
    await lambdaClient(config).send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify({ job })),
      }),
    );
  };
}

/**
 * One invocation of the re-drive worker: runs the job until it is done or the invocation is about to time out
 * (`remainingMs`, keeping 30 s for the last chunk and the state write), then hands the rest to a new invocation.
 *
 * @throws RedriveJobFailedError when the job ended in this invocation on an error or with records the stream refused.
 */
export async function redriveWorkerStep(
  job: string,
  remainingMs: number,
  functionName: string,
  config: TributaryConfig = loadConfig(),
): Promise<JobState> {
  const started = Date.now();
  const { state, more } = await quarantineService(config).resume(job, started + Math.max(0, remainingMs - 30_000));
  if (more) await redriveDispatch(config, functionName)(job);
  // A job that ended in this invocation without delivering (it stopped on an error, or the stream refused records)
  // fails the invocation, so the worker's error alarm fires; the job's state is saved first. Lambda's retry of the
  // invocation finds the job ended and returns without throwing again.
  const endedNow = state.finishedAt !== undefined && Date.parse(state.finishedAt) >= started;
  if (endedNow && state.status === 'failed') throw new RedriveJobFailedError(job, state.message ?? 'see the job');
  if (endedNow && state.errors > 0) {
    throw new RedriveJobFailedError(
      job,
      `the stream refused ${state.errors} of ${state.total} records; they stay in quarantine, open: re-drive them again once the stream takes writes.`,
    );
  }
  return state;
}
