// Over 300 lines on purpose: it is the declaration of every variable Tributary reads (a schema entry and a refusal
// message each) and the one place they are turned into a configuration; split, a variable would have two homes.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Ajv, type ErrorObject, type JSONSchemaType } from 'ajv';
import { ConfigError } from './errors.ts';

/*
 * The one reader of the environment. Every variable Tributary understands is declared once below (type, range,
 * what to set), validated together with ajv the first time a process reads its settings, and handed out typed; no
 * other module reads process.env for a setting. A malformed value stops the process at start with a message naming
 * the variable and what to set it to, whichever part of the program would have used it.
 */

export type RuntimeMode = 'local' | 'aws';

/** Environment variables as read here (process.env, or a test's own). */
export type Env = Readonly<Record<string, string | undefined>>;

/** The variables of a Tributary process, validated and typed (absent when unset or empty). */
export interface Settings {
  TRIBUTARY_MODE?: RuntimeMode;
  AWS_LAMBDA_FUNCTION_NAME?: string;
  AWS_REGION?: string;
  AWS_DEFAULT_REGION?: string;
  TRIBUTARY_HOST?: string;
  TRIBUTARY_DATA_DIR?: string;
  TRIBUTARY_API_PORT?: number;
  TRIBUTARY_CONSOLE_PORT?: number;
  TRIBUTARY_KINESIS_PORT?: number;
  TRIBUTARY_S3_PORT?: number;
  TRIBUTARY_PG_PORT?: number;
  TRIBUTARY_KINESIS_ENDPOINT?: string;
  TRIBUTARY_S3_ENDPOINT?: string;
  TRIBUTARY_API_URL?: string;
  TRIBUTARY_API_KEY?: string;
  TRIBUTARY_STREAM_NAME?: string;
  TRIBUTARY_LAKE_BUCKET?: string;
  TRIBUTARY_QUARANTINE_BUCKET?: string;
  TRIBUTARY_ATHENA_RESULTS_BUCKET?: string;
  TRIBUTARY_IMPORTS_BUCKET?: string;
  TRIBUTARY_ATHENA_WORKGROUP?: string;
  TRIBUTARY_GLUE_DATABASE?: string;
  TRIBUTARY_SCHEMAS_DIR?: string;
  TRIBUTARY_TABLES_DIR?: string;
  TRIBUTARY_IMPORT_DELETE_GUARD?: number;
  TRIBUTARY_QUERIES_DIR?: string;
  DATABASE_URL?: string;
  TRIBUTARY_DB_HOST?: string;
  TRIBUTARY_DB_PORT?: number;
  TRIBUTARY_DB_USER?: string;
  TRIBUTARY_DB_NAME?: string;
  TRIBUTARY_DB_SECRET_ARN?: string;
  TRIBUTARY_STAGE?: string;
  TRIBUTARY_CONSOLE_PASSWORD?: string;
  TRIBUTARY_CONSOLE_VIEWER_PASSWORD?: string;
  TRIBUTARY_CONSOLE_EXPORT?: 'on' | 'off' | 'true' | 'false' | '1' | '0';
  TRIBUTARY_QUERY_MAX_UNFILTERED_SCAN_MB?: number;
  TRIBUTARY_REDRIVE_RATE?: number;
  TRIBUTARY_REDRIVE_FUNCTION?: string;
  TRIBUTARY_CONSOLE_DB_FUNCTION?: string;
  TRIBUTARY_FAULTS?: string;
}

type Name = keyof Settings;
/** How a refused value is explained: `<NAME>=<value> <problem>; <hint>.` (secrets are never echoed). */
interface Rule {
  problem: string;
  hint: string;
  secret?: boolean;
}

const PORT = { type: 'integer', minimum: 0, maximum: 65535, nullable: true } as const;
const TEXT = { type: 'string', minLength: 1, nullable: true } as const;
const URL_PATTERN = '^https?://[^\\s/]+';
// S3's naming rules for general purpose buckets (3–63 characters, lower case, digits, dots, hyphens).
const BUCKET = { type: 'string', pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$', nullable: true } as const;
const BUCKET_RULE: Rule = { problem: 'is not an S3 bucket name', hint: 'the stack passes the bucket name (stacks/)' };
const PORT_RULE: Rule = { problem: 'is not a TCP port', hint: 'set it to a whole number between 0 and 65535' };
const URL_RULE: Rule = { problem: 'is not an http(s) URL', hint: 'set it to a URL such as http://127.0.0.1:4567' };
const PASSWORD_RULE: Rule = {
  problem: 'is shorter than 8 characters',
  hint: 'console passwords must be at least 8 characters long',
  secret: true,
};

const SCHEMA: JSONSchemaType<Settings> = {
  type: 'object',
  properties: {
    TRIBUTARY_MODE: { type: 'string', enum: ['local', 'aws'], nullable: true },
    AWS_LAMBDA_FUNCTION_NAME: TEXT,
    AWS_REGION: { type: 'string', pattern: '^[a-z]{2}(-[a-z]+)+-\\d+$', nullable: true },
    AWS_DEFAULT_REGION: { type: 'string', pattern: '^[a-z]{2}(-[a-z]+)+-\\d+$', nullable: true },
    TRIBUTARY_HOST: TEXT,
    TRIBUTARY_DATA_DIR: TEXT,
    TRIBUTARY_API_PORT: PORT,
    TRIBUTARY_CONSOLE_PORT: PORT,
    TRIBUTARY_KINESIS_PORT: PORT,
    TRIBUTARY_S3_PORT: PORT,
    TRIBUTARY_PG_PORT: PORT,
    TRIBUTARY_KINESIS_ENDPOINT: { type: 'string', pattern: URL_PATTERN, nullable: true },
    TRIBUTARY_S3_ENDPOINT: { type: 'string', pattern: URL_PATTERN, nullable: true },
    TRIBUTARY_API_URL: { type: 'string', pattern: URL_PATTERN, nullable: true },
    TRIBUTARY_API_KEY: TEXT,
    // Kinesis stream names: 1–128 characters of a-z, A-Z, 0-9, '_', '-', '.'.
    TRIBUTARY_STREAM_NAME: { type: 'string', pattern: '^[a-zA-Z0-9_.-]{1,128}$', nullable: true },
    TRIBUTARY_LAKE_BUCKET: BUCKET,
    TRIBUTARY_QUARANTINE_BUCKET: BUCKET,
    TRIBUTARY_ATHENA_RESULTS_BUCKET: BUCKET,
    TRIBUTARY_IMPORTS_BUCKET: BUCKET,
    // Athena work group names: 1–128 characters of a-z, A-Z, 0-9, '.', '_', '-'.
    TRIBUTARY_ATHENA_WORKGROUP: { type: 'string', pattern: '^[a-zA-Z0-9._-]{1,128}$', nullable: true },
    TRIBUTARY_GLUE_DATABASE: { type: 'string', minLength: 1, maxLength: 255, nullable: true },
    TRIBUTARY_SCHEMAS_DIR: TEXT,
    TRIBUTARY_TABLES_DIR: TEXT,
    TRIBUTARY_IMPORT_DELETE_GUARD: { type: 'number', minimum: 0, maximum: 1, nullable: true },
    TRIBUTARY_QUERIES_DIR: TEXT,
    DATABASE_URL: { type: 'string', pattern: '^postgres(ql)?://', nullable: true },
    TRIBUTARY_DB_HOST: TEXT,
    TRIBUTARY_DB_PORT: { type: 'integer', minimum: 1, maximum: 65535, nullable: true },
    TRIBUTARY_DB_USER: TEXT,
    TRIBUTARY_DB_NAME: TEXT,
    TRIBUTARY_DB_SECRET_ARN: { type: 'string', pattern: '^arn:aws[a-z-]*:secretsmanager:', nullable: true },
    // SST stage names: letters, digits and hyphens.
    TRIBUTARY_STAGE: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9-]{0,63}$', nullable: true },
    TRIBUTARY_CONSOLE_PASSWORD: { type: 'string', minLength: 8, nullable: true },
    TRIBUTARY_CONSOLE_VIEWER_PASSWORD: { type: 'string', minLength: 8, nullable: true },
    TRIBUTARY_CONSOLE_EXPORT: { type: 'string', enum: ['on', 'off', 'true', 'false', '1', '0'], nullable: true },
    TRIBUTARY_QUERY_MAX_UNFILTERED_SCAN_MB: { type: 'number', minimum: 0, nullable: true },
    TRIBUTARY_REDRIVE_RATE: { type: 'integer', minimum: 1, nullable: true },
    TRIBUTARY_REDRIVE_FUNCTION: TEXT,
    TRIBUTARY_CONSOLE_DB_FUNCTION: TEXT,
    TRIBUTARY_FAULTS: TEXT,
  },
};

const RULES: Record<Name, Rule> = {
  TRIBUTARY_MODE: { problem: 'is not a mode', hint: 'use "local" or "aws"' },
  AWS_LAMBDA_FUNCTION_NAME: { problem: 'is empty', hint: 'Lambda sets it' },
  AWS_REGION: { problem: 'is not an AWS region', hint: 'set it to a region code such as eu-west-1' },
  AWS_DEFAULT_REGION: { problem: 'is not an AWS region', hint: 'set it to a region code such as eu-west-1' },
  TRIBUTARY_HOST: { problem: 'is empty', hint: 'set it to the address to listen on, such as 127.0.0.1' },
  TRIBUTARY_DATA_DIR: { problem: 'is empty', hint: 'set it to a directory' },
  TRIBUTARY_API_PORT: PORT_RULE,
  TRIBUTARY_CONSOLE_PORT: PORT_RULE,
  TRIBUTARY_KINESIS_PORT: PORT_RULE,
  TRIBUTARY_S3_PORT: PORT_RULE,
  TRIBUTARY_PG_PORT: PORT_RULE,
  TRIBUTARY_KINESIS_ENDPOINT: URL_RULE,
  TRIBUTARY_S3_ENDPOINT: URL_RULE,
  TRIBUTARY_API_URL: {
    problem: 'is not an http(s) URL',
    hint: 'set it to the ingest API, such as http://127.0.0.1:4000',
  },
  TRIBUTARY_API_KEY: { problem: 'is empty', hint: 'set it to the key (several keys: comma-separated)', secret: true },
  TRIBUTARY_STREAM_NAME: {
    problem: 'is not a Kinesis stream name',
    hint: 'use 1 to 128 letters, digits, "_", "-" or "."',
  },
  TRIBUTARY_LAKE_BUCKET: BUCKET_RULE,
  TRIBUTARY_QUARANTINE_BUCKET: BUCKET_RULE,
  TRIBUTARY_ATHENA_RESULTS_BUCKET: BUCKET_RULE,
  TRIBUTARY_IMPORTS_BUCKET: BUCKET_RULE,
  TRIBUTARY_ATHENA_WORKGROUP: {
    problem: 'is not an Athena work group name',
    hint: 'use 1 to 128 letters, digits, ".", "_" or "-"',
  },
  TRIBUTARY_GLUE_DATABASE: { problem: 'is not a Glue database name', hint: 'use 1 to 255 characters' },
  TRIBUTARY_SCHEMAS_DIR: { problem: 'is empty', hint: 'set it to the directory of the event schemas' },
  TRIBUTARY_TABLES_DIR: { problem: 'is empty', hint: 'set it to the directory of the table definitions' },
  TRIBUTARY_IMPORT_DELETE_GUARD: {
    problem: 'is not a share between 0 and 1',
    hint: 'set it to the share of the previous rows an import may delete without approval, e.g. 0.2',
  },
  TRIBUTARY_QUERIES_DIR: { problem: 'is empty', hint: 'set it to the directory of the saved queries' },
  DATABASE_URL: {
    problem: 'is not a Postgres URL',
    hint: 'set it like postgres://user:password@host:5432/database',
    secret: true,
  },
  TRIBUTARY_DB_HOST: { problem: 'is empty', hint: 'the database stack passes it (stacks/database.ts)' },
  TRIBUTARY_DB_PORT: { problem: 'is not a TCP port', hint: 'set it to a whole number between 1 and 65535' },
  TRIBUTARY_DB_USER: { problem: 'is empty', hint: 'the database stack passes it (stacks/database.ts)' },
  TRIBUTARY_DB_NAME: { problem: 'is empty', hint: 'the database stack passes it (stacks/database.ts)' },
  TRIBUTARY_DB_SECRET_ARN: {
    problem: 'is not a Secrets Manager ARN',
    hint: 'the database stack passes it (stacks/database.ts)',
  },
  TRIBUTARY_STAGE: {
    problem: 'is not a stage name',
    hint: 'use letters, digits and hyphens (the console stack passes it)',
  },
  TRIBUTARY_CONSOLE_PASSWORD: PASSWORD_RULE,
  TRIBUTARY_CONSOLE_VIEWER_PASSWORD: PASSWORD_RULE,
  TRIBUTARY_CONSOLE_EXPORT: { problem: 'is not a switch', hint: 'use on or off' },
  TRIBUTARY_QUERY_MAX_UNFILTERED_SCAN_MB: {
    problem: 'is not a number of megabytes',
    hint: 'set it to a number ≥ 0 (0 refuses every unfiltered scan)',
  },
  TRIBUTARY_REDRIVE_RATE: {
    problem: 'is not a whole number of records per second',
    hint: 'set it to a whole number ≥ 1',
  },
  TRIBUTARY_REDRIVE_FUNCTION: { problem: 'is empty', hint: 'the console stack passes it (stacks/console.ts)' },
  TRIBUTARY_CONSOLE_DB_FUNCTION: { problem: 'is empty', hint: 'the console stack passes it (stacks/console.ts)' },
  TRIBUTARY_FAULTS: { problem: 'is empty', hint: 'set it to JSON (local/faults.ts)' },
};

/** What each variable sets, one line each: the README's configuration table and every command's `--help` show it. */
const ABOUT: Record<Name, string> = {
  TRIBUTARY_MODE: '`local` or `aws`',
  AWS_LAMBDA_FUNCTION_NAME: 'set by Lambda; makes the mode `aws`',
  AWS_REGION: 'the AWS region (aws mode)',
  AWS_DEFAULT_REGION: 'the AWS region when `AWS_REGION` is unset',
  TRIBUTARY_HOST: 'address the local runtime listens on',
  TRIBUTARY_DATA_DIR: "the local runtime's data directory",
  TRIBUTARY_API_PORT: 'local ingest API port',
  TRIBUTARY_CONSOLE_PORT: 'local console port',
  TRIBUTARY_KINESIS_PORT: 'local Kinesis (kinesalite) port',
  TRIBUTARY_S3_PORT: 'local S3 (s3rver) port',
  TRIBUTARY_PG_PORT: 'local embedded Postgres (PGlite) port',
  TRIBUTARY_KINESIS_ENDPOINT: 'Kinesis endpoint (local mode)',
  TRIBUTARY_S3_ENDPOINT: 'S3 endpoint (local mode)',
  TRIBUTARY_API_URL: 'the ingest API `tributary produce` sends to',
  TRIBUTARY_API_KEY: "the ingest API's key; comma-separated keys are all accepted (rotation)",
  TRIBUTARY_STREAM_NAME: 'the Kinesis stream',
  TRIBUTARY_LAKE_BUCKET: 'the lake bucket (aws mode)',
  TRIBUTARY_QUARANTINE_BUCKET: 'the quarantine bucket (aws mode)',
  TRIBUTARY_ATHENA_RESULTS_BUCKET: 'Athena results, console sessions and query history (aws mode)',
  TRIBUTARY_IMPORTS_BUCKET: 'the imports bucket (aws mode)',
  TRIBUTARY_ATHENA_WORKGROUP: 'the Athena work group',
  TRIBUTARY_GLUE_DATABASE: 'the Glue database',
  TRIBUTARY_SCHEMAS_DIR: 'where the event schemas are read from',
  TRIBUTARY_TABLES_DIR: 'where the definitions of imported tables are read from',
  TRIBUTARY_IMPORT_DELETE_GUARD:
    "the share of a table's rows an import may delete before it waits for an operator's approval",
  TRIBUTARY_QUERIES_DIR: 'where the saved queries are read from',
  DATABASE_URL: 'the OLTP database, a `postgres://` URL',
  TRIBUTARY_DB_HOST: 'the Aurora endpoint (aws mode, set by the database stack)',
  TRIBUTARY_DB_PORT: 'its port',
  TRIBUTARY_DB_USER: 'its user',
  TRIBUTARY_DB_NAME: 'its database',
  TRIBUTARY_DB_SECRET_ARN: 'the secret holding its password (read at run time, never in the environment)',
  TRIBUTARY_STAGE: "the deployment's stage, shown in the console's header (set by the console stack)",
  TRIBUTARY_CONSOLE_PASSWORD: "the console's operator password (at least 8 characters; required in AWS)",
  TRIBUTARY_CONSOLE_VIEWER_PASSWORD: "the console's viewer password (at least 8 characters)",
  TRIBUTARY_CONSOLE_EXPORT: '`on`/`off`: the quarantine export in the console and CLI',
  TRIBUTARY_QUERY_MAX_UNFILTERED_SCAN_MB: "the console's limit for a query without a partition filter, MB",
  TRIBUTARY_REDRIVE_RATE: 'default re-drive pace, records/s',
  TRIBUTARY_REDRIVE_FUNCTION: 'the re-drive worker function (aws mode, set by the console stack)',
  TRIBUTARY_CONSOLE_DB_FUNCTION:
    "the console database function in the database's VPC: the OLTP and Imports pages' reads, decisions on held imports (aws mode, set by the console stack)",
  TRIBUTARY_FAULTS: 'injected consumer faults for tests, JSON (`local/faults.ts`)',
};

/** Every variable Tributary reads, in the order the README's configuration table lists them. */
export const SETTING_NAMES = Object.keys(RULES) as readonly Name[];

/** What a variable sets (Markdown: names in backticks), as the README's configuration table says it. */
export function settingAbout(name: Name): string {
  return ABOUT[name];
}

export type SettingName = Name;
const validate = new Ajv({ coerceTypes: true, allErrors: true }).compile(SCHEMA);

function refusal(e: ErrorObject, raw: Record<string, string>): string {
  const name = e.instancePath.slice(1) as Name;
  const rule = RULES[name];
  const shown = rule.secret ? '' : `=${JSON.stringify(raw[name])}`;
  return `${name}${shown} ${rule.problem}; ${rule.hint}.`;
}

let last: { key: string; settings: Settings } | undefined;

/**
 * The validated settings of an environment: every variable Tributary understands, typed, unset and empty ones left
 * out. Read once per environment (a process asking again gets the same object, and a changed environment is read
 * anew).
 *
 * @throws ConfigError naming every malformed variable and what to set it to.
 * @example
 * readSettings({ TRIBUTARY_API_PORT: '4100' }).TRIBUTARY_API_PORT; // 4100
 */
export function readSettings(env: Env = process.env): Settings {
  const raw: Record<string, string> = {};
  for (const name of SETTING_NAMES) {
    const v = env[name];
    if (v !== undefined && v !== '') raw[name] = name === 'TRIBUTARY_CONSOLE_EXPORT' ? v.trim().toLowerCase() : v;
  }
  const key = JSON.stringify(raw);
  if (last?.key === key) return last.settings;
  const settings: Record<string, unknown> = { ...raw };
  if (!validate(settings)) {
    const messages = [...new Set((validate.errors ?? []).map((e) => refusal(e, raw)))];
    throw new ConfigError(messages.join(' '));
  }
  last = { key, settings: settings as Settings };
  return last.settings;
}

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

/** Where the OLTP database is: a URL (local, tests), or the parts the database stack passes in AWS. */
export interface DatabaseSettings {
  url?: string;
  host?: string;
  port: number;
  user: string;
  name: string;
  /** The secret holding the password (AWS; read at run time, never in the environment). */
  secretArn?: string;
}

/** The console's settings (its sign-in passwords are read by lib/console/auth.ts alone). */
export interface ConsoleSettings {
  /** The stage the console belongs to (`local` for `tributary dev`), shown in its header. */
  stage: string;
  exportEnabled: boolean;
  /** The SQL guard's limit on a query without a partition filter (default in lib/query/service.ts). */
  maxUnfilteredScanBytes?: number;
  /** Default re-drive pace, records per second. */
  redriveRate?: number;
  /** AWS: the re-drive worker function jobs are handed to. */
  redriveFunction?: string;
  /** AWS: the function inside the database's VPC that answers the console's requests of the database. */
  consoleDbFunction?: string;
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
  /** The ingest API's keys (TRIBUTARY_API_KEY, comma-separated so a key can be rotated without downtime). */
  apiKeys: string[];
  database: DatabaseSettings;
  console: ConsoleSettings;
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

/**
 * The mode of this process, worked out here only: TRIBUTARY_MODE when set (`local` or `aws`), else `aws` inside
 * Lambda, else `local`.
 *
 * @throws ConfigError for any other TRIBUTARY_MODE.
 */
export function runtimeMode(env: Env = process.env): RuntimeMode {
  const s = readSettings(env);
  return s.TRIBUTARY_MODE ?? (s.AWS_LAMBDA_FUNCTION_NAME ? 'aws' : 'local');
}

/** The local runtime's data directory, absolute: the CLI's `--data-dir`, else TRIBUTARY_DATA_DIR, else `./.data`. */
export function dataDirFrom(env: Env = process.env, flag?: string): string {
  return path.resolve(/*turbopackIgnore: true*/ flag || readSettings(env).TRIBUTARY_DATA_DIR || '.data');
}

/** The ingest API's keys: TRIBUTARY_API_KEY split at commas (a rotation keeps the old key beside the new one). */
export function apiKeysFrom(env: Env = process.env): string[] {
  return (readSettings(env).TRIBUTARY_API_KEY ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
}

/**
 * The API key a client of the local runtime uses, worked out here only: the one given (a flag), else the first of
 * TRIBUTARY_API_KEY, else the key the runtime keeps in its data directory. With `create`, a missing key file is
 * written with a new key (what `tributary dev` does on first start); without, a missing one gives undefined.
 */
export function localApiKey(
  dataDir: string,
  options: { given?: string; create?: boolean; env?: Env } = {},
): string | undefined {
  const key = options.given || apiKeysFrom(options.env)[0];
  if (key) return key;
  const file = path.join(dataDir, 'api-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  if (!options.create) return undefined;
  const created = `trib_local_${randomBytes(18).toString('base64url')}`;
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${created}\n`, { mode: 0o600 });
  return created;
}

/** Where a running `tributary dev` listens, as it records it in its data directory so other commands find it. */
export interface LocalStack {
  pid: number;
  host: string;
  ports: LocalPorts;
  startedAt: string;
}

/** The file, in the data directory, where `tributary dev` records its {@link LocalStack} while it runs. */
export const LOCAL_STACK_FILE = 'runtime.json';

/**
 * The stack `tributary dev` runs on this data directory, or undefined when none does (no file, or one left by a
 * process that is gone).
 */
export function runningStack(dataDir: string): LocalStack | undefined {
  let stack: LocalStack;
  try {
    stack = JSON.parse(readFileSync(path.join(dataDir, LOCAL_STACK_FILE), 'utf8')) as LocalStack;
  } catch {
    return undefined;
  }
  if (!Number.isInteger(stack?.pid) || stack.pid <= 0 || !stack.ports) return undefined;
  try {
    process.kill(stack.pid, 0);
  } catch (err) {
    // EPERM: alive, but another user's.
    if ((err as { code?: string }).code !== 'EPERM') return undefined;
  }
  return stack;
}

function required<K extends Name>(s: Settings, name: K): NonNullable<Settings[K]> {
  const v = s[name];
  if (v === undefined)
    throw new ConfigError(`${name} is not set; in AWS mode the stack must pass it to the function (see stacks/).`);
  return v as NonNullable<Settings[K]>;
}

/**
 * Resolves the runtime configuration from the environment and fails fast with a message naming the variable to fix.
 * Mode is `aws` inside Lambda (or when TRIBUTARY_MODE=aws) and `local` otherwise.
 *
 * @throws ConfigError for a malformed variable, or a resource name AWS mode needs and the stack did not pass.
 */
export function loadConfig(env: Env = process.env): TributaryConfig {
  const s = readSettings(env);
  const mode = runtimeMode(env);
  const dataDir = dataDirFrom(env);
  // Locally, a running `tributary dev` on this data directory says where it listens; variables still win.
  const stack = mode === 'local' ? runningStack(dataDir) : undefined;
  const defaults = stack?.ports ?? LOCAL_DEFAULTS.ports;
  const ports: LocalPorts = {
    api: s.TRIBUTARY_API_PORT ?? defaults.api,
    console: s.TRIBUTARY_CONSOLE_PORT ?? defaults.console,
    kinesis: s.TRIBUTARY_KINESIS_PORT ?? defaults.kinesis,
    s3: s.TRIBUTARY_S3_PORT ?? defaults.s3,
    pg: s.TRIBUTARY_PG_PORT ?? defaults.pg,
  };
  const host = s.TRIBUTARY_HOST ?? stack?.host ?? LOCAL_DEFAULTS.host;
  const shared = {
    ports,
    host,
    dataDir,
    apiKeys: apiKeysFrom(env),
    database: {
      ...(s.DATABASE_URL ? { url: s.DATABASE_URL } : {}),
      ...(s.TRIBUTARY_DB_HOST ? { host: s.TRIBUTARY_DB_HOST } : {}),
      port: s.TRIBUTARY_DB_PORT ?? 5432,
      user: s.TRIBUTARY_DB_USER ?? 'postgres',
      name: s.TRIBUTARY_DB_NAME ?? 'tributary',
      ...(s.TRIBUTARY_DB_SECRET_ARN ? { secretArn: s.TRIBUTARY_DB_SECRET_ARN } : {}),
    },
    console: {
      stage: s.TRIBUTARY_STAGE ?? (mode === 'local' ? 'local' : 'aws'),
      exportEnabled: !['off', 'false', '0'].includes(s.TRIBUTARY_CONSOLE_EXPORT ?? 'on'),
      ...(s.TRIBUTARY_QUERY_MAX_UNFILTERED_SCAN_MB !== undefined
        ? { maxUnfilteredScanBytes: s.TRIBUTARY_QUERY_MAX_UNFILTERED_SCAN_MB * 1024 * 1024 }
        : {}),
      ...(s.TRIBUTARY_REDRIVE_RATE !== undefined ? { redriveRate: s.TRIBUTARY_REDRIVE_RATE } : {}),
      ...(s.TRIBUTARY_REDRIVE_FUNCTION ? { redriveFunction: s.TRIBUTARY_REDRIVE_FUNCTION } : {}),
      ...(s.TRIBUTARY_CONSOLE_DB_FUNCTION ? { consoleDbFunction: s.TRIBUTARY_CONSOLE_DB_FUNCTION } : {}),
    },
  };
  if (mode === 'local') {
    return {
      mode,
      region: LOCAL_DEFAULTS.region,
      streamName: s.TRIBUTARY_STREAM_NAME ?? LOCAL_DEFAULTS.streamName,
      buckets: { ...LOCAL_DEFAULTS.buckets },
      endpoints: {
        kinesis: s.TRIBUTARY_KINESIS_ENDPOINT ?? `http://${host}:${ports.kinesis}`,
        s3: s.TRIBUTARY_S3_ENDPOINT ?? `http://${host}:${ports.s3}`,
      },
      analytics: { workGroup: 'local', database: 'tributary' },
      ...shared,
    };
  }
  return {
    mode,
    region: s.AWS_REGION ?? s.AWS_DEFAULT_REGION ?? required(s, 'AWS_REGION'),
    streamName: required(s, 'TRIBUTARY_STREAM_NAME'),
    buckets: {
      lake: required(s, 'TRIBUTARY_LAKE_BUCKET'),
      quarantine: required(s, 'TRIBUTARY_QUARANTINE_BUCKET'),
      athenaResults: s.TRIBUTARY_ATHENA_RESULTS_BUCKET ?? '',
      imports: s.TRIBUTARY_IMPORTS_BUCKET ?? '',
    },
    analytics: {
      workGroup: s.TRIBUTARY_ATHENA_WORKGROUP ?? 'primary',
      database: s.TRIBUTARY_GLUE_DATABASE ?? 'tributary',
    },
    ...shared,
  };
}
