import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:http';
import path from 'node:path';
import { createHandler as createIngestHandler } from '../functions/ingest/handler.ts';
import { createHandler as createLakeWriterHandler } from '../functions/lake-writer/handler.ts';
import { createHandler as createOltpSinkHandler } from '../functions/oltp-sink/handler.ts';
import { createHandler as createImportApplierHandler } from '../functions/import-applier/handler.ts';
import { awsClients, createAwsClients } from '../lib/aws/clients.ts';
import {
  LOCAL_DEFAULTS,
  LOCAL_STACK_FILE,
  type LocalStack,
  loadConfig,
  localApiKey,
  readSettings,
  runningStack,
  type TributaryConfig,
} from '../lib/config.ts';
import { ConfigError, errorMessage } from '../lib/errors.ts';
import { localMetricsRecorder, type LocalMetricsRecorder } from '../lib/metrics/local-recorder.ts';
import { importApplierDeps, importJobDeps, ingestDeps, lakeWriterDeps, oltpSinkDeps } from '../lib/composition.ts';
import type { ImportApplierDeps } from '../lib/imports/applier.ts';
import type { S3NotificationRecord } from '../lib/imports/drops.ts';
import { IMPORT_NOTIFICATION_PREFIXES } from '../lib/imports/drops.ts';
import { createHandler as createImportJobHandler } from '../functions/import-job/handler.ts';
import { S3NotificationSource } from './s3-notifications.ts';
import { ensureMigrated, type OltpSinkDeps } from '../lib/oltp/sink.ts';
import { redactUrl } from '../lib/oltp/db.ts';
import { CheckpointStore } from './checkpoints.ts';
import { ensureConsoleBuild } from './console-build.ts';
import { startConsole, startKinesis, startPglite, startS3, type RunningEmulator } from './emulators/index.ts';
import { addS3Faults, parseFaults, withInvocationFaults, type Faults } from './faults.ts';
import { serveHttpApi } from './gateway.ts';
import {
  IMPORT_APPLIER_MAPPING,
  LAKE_WRITER_MAPPING,
  OLTP_SINK_MAPPING,
  type KinesisMapping,
} from '../lib/stream/mappings.ts';
import { ShardPoller, type EventSourceMapping } from './poller.ts';

/**
 * Where the local event-source mappings differ from the deployed ones (lib/stream/mappings.ts), and why: the only
 * difference. Everything else — batch size, retries, record age, bisecting, partial batch responses, starting
 * position, the sink's event filter — is the same locally as in AWS (README, "Local and AWS mappings").
 */
export const LOCAL_MAPPING_OVERRIDES = {
  // Lambda waits up to 5 s to fill a batch (fewer, bigger objects); on a laptop events show in the lake within a second.
  maximumBatchingWindowInSeconds: 0.5,
} as const satisfies Partial<KinesisMapping>;

/** Each consumer's mapping as `tributary dev` runs it. */
export const LOCAL_MAPPINGS = {
  'lake-writer': { ...LAKE_WRITER_MAPPING, ...LOCAL_MAPPING_OVERRIDES },
  'oltp-sink': { ...OLTP_SINK_MAPPING, ...LOCAL_MAPPING_OVERRIDES },
  'import-applier': { ...IMPORT_APPLIER_MAPPING, ...LOCAL_MAPPING_OVERRIDES },
} as const satisfies Record<string, KinesisMapping>;

/** Every invocation's time limit locally (in AWS the function's timeout: lake writer 2 min, OLTP sink 1 min). */
const LOCAL_FUNCTION_TIMEOUT_MS = 60_000;

/**
 * The origins a browser opens the local console at, which the imports bucket's CORS rule allows for uploads: its
 * host, and both loopback names when it listens on loopback or on every address.
 */
function consoleOrigins(host: string, port: number): string[] {
  const hosts = new Set([host]);
  if (['127.0.0.1', 'localhost', '0.0.0.0', '::', '::1'].includes(host)) hosts.add('localhost').add('127.0.0.1');
  hosts.delete('0.0.0.0');
  hosts.delete('::');
  return [...hosts].map((h) => `http://${h.includes(':') ? `[${h}]` : h}:${port}`);
}

export interface DevOptions {
  dataDir: string;
  host?: string;
  /** 0 picks a free port (tests). */
  ports?: Partial<TributaryConfig['ports']>;
  reset?: boolean;
  console?: boolean;
  /** Serve the console with `next dev` instead of its production build (edits show at once; pages compile on first visit). */
  consoleDev?: boolean;
  shardCount?: number;
  apiKey?: string;
  /** Mapping settings to change for both consumers (tests' short batching windows), over `LOCAL_MAPPINGS`. */
  mapping?: Partial<KinesisMapping>;
  pollIntervalMs?: number;
  /** Run the stream consumers (default true); off leaves records on the stream to inspect them. */
  consumers?: boolean;
  /**
   * The OLTP sink (default true): a second consumer loading transactions into Postgres. The database is `databaseUrl`,
   * else DATABASE_URL, else an embedded PGlite server (data in `<dataDir>/pglite`, port `ports.pg`).
   */
  oltp?: boolean;
  databaseUrl?: string;
  /** The import job on the imports bucket's notifications and sweep (default true, with the OLTP database). */
  imports?: boolean;
  /** Between import sweeps (default 60 s, as the schedule in AWS). */
  importSweepMs?: number;
  /** Injected consumer faults (tests); defaults to TRIBUTARY_FAULTS. */
  faults?: Faults;
  log?: (msg: string) => void;
}

export interface DevRuntime {
  config: TributaryConfig;
  apiUrl: string;
  apiKey: string;
  consoleUrl?: string;
  poller: ShardPoller;
  /** The OLTP sink's poller (its own checkpoints), when the sink runs. */
  sinkPoller?: ShardPoller;
  /** The imports bucket's notifications and sweep, delivered to the import job (with the OLTP database). */
  imports?: S3NotificationSource;
  /** The OLTP database (password redacted) and whether it is the embedded PGlite. */
  database?: { url: string; embedded: boolean };
  /** Per-minute shard and ingest counts, flushed to `<dataDir>/metrics/` every few seconds (`flush()` at once). */
  metrics: LocalMetricsRecorder;
  emulators: RunningEmulator[];
  /** Milliseconds from start to ready (emulators up, stream ACTIVE, API listening, poller running). */
  startupMs: number;
  stop(): Promise<void>;
}

/** Refuses, naming the flag to change, when a port `tributary dev` is about to listen on is taken (0: any free port). */
async function assertPortsFree(
  host: string,
  wanted: { port: number; what: string; flag: string; variable: string }[],
): Promise<void> {
  for (const w of wanted) {
    if (!w.port) continue;
    const problem = await new Promise<string | undefined>((resolve) => {
      const probe = createServer();
      probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      probe.listen(w.port, host, () => probe.close(() => resolve(undefined)));
    });
    if (problem)
      throw new ConfigError(
        `Port ${w.port} on ${host} (${w.what}) is ${problem === 'EADDRINUSE' ? 'in use' : `not available (${problem})`}; pass ${w.flag} <port> or set ${w.variable}. Nothing was started or changed.`,
      );
  }
}

/**
 * Starts the whole pipeline on this machine: kinesalite and s3rver as child processes (data under `dataDir`), the
 * `events` stream and the buckets, the ingest handler behind an API Gateway v2-shaped HTTP server, the lake writer
 * behind a Lambda-semantics shard poller, and (optionally) the console.
 */
export async function startDev(options: DevOptions): Promise<DevRuntime> {
  const t0 = Date.now();
  const log = options.log ?? (() => {});
  const dataDir = path.resolve(options.dataDir);
  const host = options.host ?? LOCAL_DEFAULTS.host;
  const ports = { ...LOCAL_DEFAULTS.ports, ...options.ports };
  const settings = readSettings();
  const oltp = options.oltp !== false;
  const externalDb = options.databaseUrl ?? settings.DATABASE_URL;
  // Refused before anything is created or reset: a second stack on one data directory, or a port already taken.
  const running = runningStack(dataDir);
  if (running)
    throw new ConfigError(
      `tributary dev is already running on ${dataDir} (pid ${running.pid}, ingest API http://${running.host}:${running.ports.api}); stop it first, or pass --data-dir for a second stack (if no such process runs, delete ${path.join(dataDir, LOCAL_STACK_FILE)}).`,
    );
  await assertPortsFree(host, [
    { port: ports.api, what: 'the ingest API', flag: '--api-port', variable: 'TRIBUTARY_API_PORT' },
    { port: ports.kinesis, what: 'Kinesis', flag: '--kinesis-port', variable: 'TRIBUTARY_KINESIS_PORT' },
    { port: ports.s3, what: 'S3', flag: '--s3-port', variable: 'TRIBUTARY_S3_PORT' },
    ...(options.console
      ? [{ port: ports.console, what: 'the console', flag: '--console-port', variable: 'TRIBUTARY_CONSOLE_PORT' }]
      : []),
    ...(oltp && !externalDb
      ? [{ port: ports.pg, what: 'the embedded Postgres', flag: '--pg-port', variable: 'TRIBUTARY_PG_PORT' }]
      : []),
  ]);
  if (options.reset) rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const apiKey = localApiKey(dataDir, { given: options.apiKey, create: true })!;
  const buckets = Object.values(LOCAL_DEFAULTS.buckets);
  // The console's production build (when its sources changed since the last one) runs while the emulators start.
  const consoleBuild = options.console && !options.consoleDev ? ensureConsoleBuild(log) : undefined;
  consoleBuild?.catch(() => {}); // awaited below; a failure elsewhere first must not leave it unhandled

  const emulators: RunningEmulator[] = [];
  const servers: Server[] = [];
  let poller: ShardPoller | undefined;
  let sinkPoller: ShardPoller | undefined;
  let applierPoller: ShardPoller | undefined;
  let sinkDeps: OltpSinkDeps | undefined;
  let applierDeps: ImportApplierDeps | undefined;
  let imports: S3NotificationSource | undefined;
  let metrics: LocalMetricsRecorder | undefined;
  const stackFile = path.join(dataDir, LOCAL_STACK_FILE);
  const stop = async () => {
    // Ours only: a stack that refused to start must not remove the file of the one that runs.
    if (runningStack(dataDir)?.pid === process.pid) rmSync(stackFile, { force: true });
    await Promise.all([poller?.stop(), sinkPoller?.stop(), applierPoller?.stop(), imports?.stop()]);
    await Promise.all([sinkDeps?.pool.end().catch(() => {}), applierDeps?.pool.end().catch(() => {})]);
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((r) => {
            s.close(() => r());
            s.closeAllConnections();
          }),
      ),
    );
    // After the API and the poller, so their last counts are written; metrics never keep the emulators running.
    try {
      metrics?.stop();
    } catch (err) {
      log(`cannot write the last metrics to ${metrics?.dir}: ${errorMessage(err)}`);
    }
    await Promise.all(emulators.map((e) => e.stop()));
  };
  try {
    const [kinesisEmu, s3Emu, pgEmu] = await Promise.all([
      startKinesis(host, ports.kinesis, path.join(dataDir, 'kinesis')),
      // The imports bucket notifies of new exports and raw files, as its notification configuration does in AWS.
      startS3(
        host,
        ports.s3,
        path.join(dataDir, 's3'),
        buckets,
        { bucket: LOCAL_DEFAULTS.buckets.imports, prefixes: IMPORT_NOTIFICATION_PREFIXES },
        // The console's uploads go from the browser straight to the bucket, allowed for its origin only (where it
        // runs, or would run: a console started later on the same port can upload).
        { bucket: LOCAL_DEFAULTS.buckets.imports, origins: consoleOrigins(host, ports.console) },
      ),
      oltp && !externalDb ? startPglite(host, ports.pg, path.join(dataDir, 'pglite')) : undefined,
    ]);
    emulators.push(kinesisEmu, s3Emu, ...(pgEmu ? [pgEmu] : []));
    const env = {
      ...process.env,
      TRIBUTARY_MODE: 'local',
      TRIBUTARY_HOST: host,
      TRIBUTARY_DATA_DIR: dataDir,
      TRIBUTARY_KINESIS_PORT: String(kinesisEmu.port),
      TRIBUTARY_S3_PORT: String(s3Emu.port),
      TRIBUTARY_KINESIS_ENDPOINT: `http://${host}:${kinesisEmu.port}`,
      TRIBUTARY_S3_ENDPOINT: `http://${host}:${s3Emu.port}`,
      TRIBUTARY_API_KEY: apiKey,
      ...(pgEmu ? { TRIBUTARY_PG_PORT: String(pgEmu.port) } : {}),
      ...(oltp && externalDb ? { DATABASE_URL: externalDb } : {}),
    };
    // With the embedded database the children must not follow a DATABASE_URL that this runtime did not use.
    if (pgEmu) delete env.DATABASE_URL;
    const config = loadConfig(env);
    const { kinesis, s3 } = awsClients(config);
    const { ensureStream } = await import('./setup.ts');
    await ensureStream(kinesis, config.streamName, options.shardCount ?? LOCAL_DEFAULTS.shardCount);

    // The same recorder the ingest deps count into (one per data directory and process).
    metrics = localMetricsRecorder(config.dataDir);
    const ingest = ingestDeps(config);
    const api = await serveHttpApi(
      createIngestHandler(() => ingest),
      host,
      ports.api,
      log,
    );
    servers.push(api);
    const apiAddr = api.address();
    const apiPort = typeof apiAddr === 'object' && apiAddr ? apiAddr.port : ports.api;

    const faults = (options.faults ?? parseFaults(settings.TRIBUTARY_FAULTS)).lakeWriter;
    const writerDeps = lakeWriterDeps(config);
    if (faults) {
      // A client of its own so injected faults hit only the lake writer.
      const faulty = createAwsClients(config).s3;
      addS3Faults(faulty, faults);
      writerDeps.s3 = faulty;
    }
    const lakeWriter = withInvocationFaults(
      createLakeWriterHandler(() => writerDeps),
      faults?.failInvocations,
    );
    // One event-source mapping per consumer, each with its own checkpoints (`.data/checkpoints/<name>.json`).
    const mapped = (name: keyof typeof LOCAL_MAPPINGS, handler: EventSourceMapping['handler']) =>
      new ShardPoller({
        kinesis,
        s3,
        streamName: config.streamName,
        region: config.region,
        checkpoints: new CheckpointStore(path.join(dataDir, 'checkpoints'), name),
        mapping: {
          ...LOCAL_MAPPINGS[name],
          ...options.mapping,
          name,
          handler,
          functionTimeoutMs: LOCAL_FUNCTION_TIMEOUT_MS,
          onFailure: { bucket: config.buckets.quarantine },
        },
        ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
        log,
        metrics,
      });
    poller = mapped('lake-writer', lakeWriter);
    let database: DevRuntime['database'];
    if (oltp) {
      sinkDeps = oltpSinkDeps(config);
      // The sink migrates on start: the console and `tributary db status` see the tables at once.
      await ensureMigrated(sinkDeps);
      const deps = sinkDeps;
      database = {
        url: redactUrl(externalDb ?? `postgres://postgres@${host}:${pgEmu!.port}/postgres`),
        embedded: !!pgEmu,
      };
      sinkPoller = mapped(
        'oltp-sink',
        createOltpSinkHandler(() => deps),
      );
      // Table imports' operations, applied to the imported tables of the same database.
      const applier = (applierDeps = importApplierDeps(config));
      applierPoller = mapped(
        'import-applier',
        createImportApplierHandler(() => applier),
      );
      // Dropped exports start the import job, the handler deployed in AWS, over the applier's pool (the embedded
      // database takes 8 connections: the sink's 4, these 2, the console's 2).
      if (options.imports !== false) {
        const jobDeps = importJobDeps(config, applier.pool);
        const importJob = createImportJobHandler(() => jobDeps);
        const source = (imports = new S3NotificationSource({
          handler: (e) => importJob(e),
          log,
          ...(options.importSweepMs !== undefined ? { sweepEveryMs: options.importSweepMs } : {}),
        }));
        s3Emu.child.on('message', (m: { s3Event?: { Records: S3NotificationRecord[] } }) => {
          if (m.s3Event) source.deliver(m.s3Event);
        });
      }
    }
    if (options.consumers !== false) {
      poller.start();
      sinkPoller?.start();
      applierPoller?.start();
      imports?.start();
    }
    const startupMs = Date.now() - t0;
    let consoleUrl: string | undefined;
    if (options.console) {
      const built = await consoleBuild;
      if (built?.built) log(`console: built in ${(built.ms / 1000).toFixed(1)} s`);
      emulators.push(await startConsole(host, ports.console, env, options.consoleDev ? 'dev' : 'production'));
      consoleUrl = `http://${host}:${ports.console}`;
    }
    // Where this stack listens, for every other command on this data directory (lib/config.ts runningStack).
    const stack: LocalStack = {
      pid: process.pid,
      host,
      ports: {
        api: apiPort,
        console: ports.console,
        kinesis: kinesisEmu.port,
        s3: s3Emu.port,
        pg: pgEmu?.port ?? ports.pg,
      },
      startedAt: new Date().toISOString(),
    };
    writeFileSync(stackFile, JSON.stringify(stack, null, 2));
    return {
      config: { ...config, ports: { ...config.ports, api: apiPort } },
      apiUrl: `http://${host}:${apiPort}`,
      apiKey,
      ...(consoleUrl ? { consoleUrl } : {}),
      poller,
      ...(sinkPoller ? { sinkPoller } : {}),
      ...(imports ? { imports } : {}),
      ...(database ? { database } : {}),
      metrics,
      emulators,
      startupMs,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
