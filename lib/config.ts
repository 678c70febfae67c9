import path from 'node:path';
import { ConfigError } from './errors.ts';

export type RuntimeMode = 'local' | 'aws';

/** Environment variables as read here (process.env, or a test's own). */
export type Env = Readonly<Record<string, string | undefined>>;

export interface BucketNames {
  lake: string;
  quarantine: string;
  athenaResults: string;
  imports: string;
}

export interface LocalPorts {
  api: number;
  console: number;
  kinesis: number;
  s3: number;
  /** The embedded PGlite server (used when DATABASE_URL is not set). */
  pg: number;
}

/** Everything a Tributary process needs to reach its resources, resolved once at start-up. */
export interface TributaryConfig {
  mode: RuntimeMode;
  region: string;
  streamName: string;
  buckets: BucketNames;
  /** Emulator endpoints (local mode only); AWS mode uses the SDK's regional endpoints. */
  endpoints?: { kinesis: string; s3: string };
  ports: LocalPorts;
  host: string;
  dataDir: string;
  /** Athena workgroup and Glue database (AWS mode; the local engine is DuckDB). */
  analytics: { workGroup: string; database: string };
}

/** Default names and ports of the local runtime (architecture.md §12). */
export const LOCAL_DEFAULTS = {
  host: '127.0.0.1',
  ports: { api: 4000, console: 3000, kinesis: 4567, s3: 4569, pg: 4570 } satisfies LocalPorts,
  streamName: 'events',
  shardCount: 2,
  buckets: {
    lake: 'lake',
    quarantine: 'quarantine',
    athenaResults: 'athena-results',
    imports: 'imports',
  } satisfies BucketNames,
  region: 'us-east-1',
} as const;

function port(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new ConfigError(
      `${name}=${JSON.stringify(raw)} is not a TCP port; set it to a whole number between 0 and 65535.`,
    );
  }
  return n;
}

function required(env: Env, name: string): string {
  const v = env[name];
  if (!v)
    throw new ConfigError(`${name} is not set; in AWS mode the stack must pass it to the function (see stacks/).`);
  return v;
}

/**
 * The mode of this process, worked out here only: TRIBUTARY_MODE when set (`local` or `aws`), else `aws` inside
 * Lambda, else `local`.
 *
 * @throws ConfigError for any other TRIBUTARY_MODE.
 */
export function runtimeMode(env: Env = process.env): RuntimeMode {
  const explicit = env.TRIBUTARY_MODE;
  if (explicit && explicit !== 'local' && explicit !== 'aws') {
    throw new ConfigError(`TRIBUTARY_MODE=${JSON.stringify(explicit)} is not a mode; use "local" or "aws".`);
  }
  return (explicit as RuntimeMode | undefined) || (env.AWS_LAMBDA_FUNCTION_NAME ? 'aws' : 'local');
}

/** The local runtime's data directory, absolute: the CLI's `--data-dir`, else TRIBUTARY_DATA_DIR, else `./.data`. */
export function dataDirFrom(env: Env = process.env, flag?: string): string {
  return path.resolve(/*turbopackIgnore: true*/ flag || env.TRIBUTARY_DATA_DIR || '.data');
}

/**
 * Resolves the runtime configuration from the environment and fails fast with a message naming the variable to fix.
 * Mode is `aws` inside Lambda (or when TRIBUTARY_MODE=aws) and `local` otherwise.
 */
export function loadConfig(env: Env = process.env): TributaryConfig {
  const mode = runtimeMode(env);
  const ports: LocalPorts = {
    api: port(env, 'TRIBUTARY_API_PORT', LOCAL_DEFAULTS.ports.api),
    console: port(env, 'TRIBUTARY_CONSOLE_PORT', LOCAL_DEFAULTS.ports.console),
    kinesis: port(env, 'TRIBUTARY_KINESIS_PORT', LOCAL_DEFAULTS.ports.kinesis),
    s3: port(env, 'TRIBUTARY_S3_PORT', LOCAL_DEFAULTS.ports.s3),
    pg: port(env, 'TRIBUTARY_PG_PORT', LOCAL_DEFAULTS.ports.pg),
  };
  const host = env.TRIBUTARY_HOST || LOCAL_DEFAULTS.host;
  const dataDir = dataDirFrom(env);
  if (mode === 'local') {
    return {
      mode,
      region: LOCAL_DEFAULTS.region,
      streamName: env.TRIBUTARY_STREAM_NAME || LOCAL_DEFAULTS.streamName,
      buckets: { ...LOCAL_DEFAULTS.buckets },
      endpoints: {
        kinesis: env.TRIBUTARY_KINESIS_ENDPOINT || `http://${host}:${ports.kinesis}`,
        s3: env.TRIBUTARY_S3_ENDPOINT || `http://${host}:${ports.s3}`,
      },
      ports,
      host,
      dataDir,
      analytics: { workGroup: 'local', database: 'tributary' },
    };
  }
  return {
    mode,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || required(env, 'AWS_REGION'),
    streamName: required(env, 'TRIBUTARY_STREAM_NAME'),
    buckets: {
      lake: required(env, 'TRIBUTARY_LAKE_BUCKET'),
      quarantine: required(env, 'TRIBUTARY_QUARANTINE_BUCKET'),
      athenaResults: env.TRIBUTARY_ATHENA_RESULTS_BUCKET || '',
      imports: env.TRIBUTARY_IMPORTS_BUCKET || '',
    },
    ports,
    host,
    dataDir,
    analytics: {
      workGroup: env.TRIBUTARY_ATHENA_WORKGROUP || 'primary',
      database: env.TRIBUTARY_GLUE_DATABASE || 'tributary',
    },
  };
}
