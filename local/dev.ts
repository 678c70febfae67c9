import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { createHandler as createIngestHandler } from '../functions/ingest/handler.ts';
import { createHandler as createLakeWriterHandler } from '../functions/lake-writer/handler.ts';
import { awsClients, createAwsClients } from '../lib/aws/clients.ts';
import { LOCAL_DEFAULTS, loadConfig, type TributaryConfig } from '../lib/config.ts';
import { errorMessage } from '../lib/errors.ts';
import { localMetricsRecorder, type LocalMetricsRecorder } from '../lib/metrics/local.ts';
import { ingestDeps, lakeWriterDeps } from '../lib/runtime.ts';
import { CheckpointStore } from './checkpoints.ts';
import { startConsole, startKinesis, startS3, type RunningEmulator } from './emulators/index.ts';
import { addS3Faults, parseFaults, withInvocationFaults, type Faults } from './faults.ts';
import { serveHttpApi } from './gateway.ts';
import { DEFAULT_MAPPING, ShardPoller, type EventSourceMapping } from './poller.ts';

export interface DevOptions {
  dataDir: string;
  host?: string;
  /** 0 picks a free port (tests). */
  ports?: Partial<TributaryConfig['ports']>;
  reset?: boolean;
  console?: boolean;
  shardCount?: number;
  apiKey?: string;
  mapping?: Partial<Omit<EventSourceMapping, 'name' | 'handler'>>;
  pollIntervalMs?: number;
  /** Run the stream consumers (default true); off leaves records on the stream to inspect them. */
  consumers?: boolean;
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
  /** Per-minute shard and ingest counts, flushed to `<dataDir>/metrics/` every few seconds (`flush()` at once). */
  metrics: LocalMetricsRecorder;
  emulators: RunningEmulator[];
  /** Milliseconds from start to ready (emulators up, stream ACTIVE, API listening, poller running). */
  startupMs: number;
  stop(): Promise<void>;
}

/** The local API key: TRIBUTARY_API_KEY, else the one kept in the data dir, else a new one (kept for next time). */
export function localApiKey(dataDir: string, explicit?: string): string {
  if (explicit) return explicit;
  if (process.env.TRIBUTARY_API_KEY) return process.env.TRIBUTARY_API_KEY;
  const file = path.join(dataDir, 'api-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const key = `trib_local_${randomBytes(18).toString('base64url')}`;
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
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
  if (options.reset) rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const host = options.host ?? LOCAL_DEFAULTS.host;
  const ports = { ...LOCAL_DEFAULTS.ports, ...options.ports };
  const apiKey = localApiKey(dataDir, options.apiKey);
  const buckets = Object.values(LOCAL_DEFAULTS.buckets);

  const emulators: RunningEmulator[] = [];
  const servers: Server[] = [];
  let poller: ShardPoller | undefined;
  let metrics: LocalMetricsRecorder | undefined;
  const stop = async () => {
    await poller?.stop();
    await Promise.all(servers.map((s) => new Promise<void>((r) => { s.close(() => r()); s.closeAllConnections(); })));
    // After the API and the poller, so their last counts are written; metrics never keep the emulators running.
    try {
      metrics?.stop();
    } catch (err) {
      log(`cannot write the last metrics to ${metrics?.dir}: ${errorMessage(err)}`);
    }
    await Promise.all(emulators.map((e) => e.stop()));
  };
  try {
    const [kinesisEmu, s3Emu] = await Promise.all([
      startKinesis(host, ports.kinesis, path.join(dataDir, 'kinesis')),
      startS3(host, ports.s3, path.join(dataDir, 's3'), buckets),
    ]);
    emulators.push(kinesisEmu, s3Emu);
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
    };
    const config = loadConfig(env);
    const { kinesis, s3 } = awsClients(config);
    const { ensureStream } = await import('./setup.ts');
    await ensureStream(kinesis, config.streamName, options.shardCount ?? LOCAL_DEFAULTS.shardCount);

    // The same recorder the ingest deps count into (one per data directory and process).
    metrics = localMetricsRecorder(config.dataDir);
    const ingest = ingestDeps(config, env);
    const api = await serveHttpApi(createIngestHandler(() => ingest), host, ports.api, log);
    servers.push(api);
    const apiAddr = api.address();
    const apiPort = typeof apiAddr === 'object' && apiAddr ? apiAddr.port : ports.api;

    const faults = (options.faults ?? parseFaults(process.env.TRIBUTARY_FAULTS)).lakeWriter;
    const writerDeps = lakeWriterDeps(config);
    if (faults) {
      // A client of its own so injected faults hit only the lake writer.
      const faulty = createAwsClients(config).s3;
      addS3Faults(faulty, faults);
      writerDeps.s3 = faulty;
    }
    const lakeWriter = withInvocationFaults(createLakeWriterHandler(() => writerDeps), faults?.failInvocations);
    poller = new ShardPoller({
      kinesis,
      s3,
      streamName: config.streamName,
      region: config.region,
      checkpoints: new CheckpointStore(path.join(dataDir, 'checkpoints'), 'lake-writer'),
      mapping: { ...DEFAULT_MAPPING, ...options.mapping, name: 'lake-writer', handler: lakeWriter, onFailure: { bucket: config.buckets.quarantine } },
      ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
      log,
      metrics,
    });
    if (options.consumers !== false) poller.start();
    const startupMs = Date.now() - t0;
    let consoleUrl: string | undefined;
    if (options.console) {
      emulators.push(await startConsole(host, ports.console, env));
      consoleUrl = `http://${host}:${ports.console}`;
    }
    return {
      config: { ...config, ports: { ...config.ports, api: apiPort } },
      apiUrl: `http://${host}:${apiPort}`,
      apiKey,
      ...(consoleUrl ? { consoleUrl } : {}),
      poller,
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
