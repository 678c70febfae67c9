import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import { secretsManagerClient } from '../aws/clients.ts';
import { ConfigError, errorMessage, TributaryError } from '../errors.ts';
import type { TributaryConfig } from '../config.ts';
import { DatabaseUnavailableError } from './errors.ts';

/**
 * Where the OLTP database is: DATABASE_URL when set (a real Postgres, locally or anywhere); otherwise, locally, the
 * embedded PGlite server of `tributary dev` (TRIBUTARY_PG_PORT, default 4570). In AWS the stack passes the Aurora
 * endpoint (TRIBUTARY_DB_HOST, _PORT, _NAME, _USER) and the secret holding its password (`auroraPassword`).
 */
export function databaseUrl(config: Pick<TributaryConfig, 'mode' | 'host' | 'ports' | 'database'>): string {
  const db = config.database;
  if (db.url) return db.url;
  if (config.mode === 'aws') {
    if (!db.host)
      throw new ConfigError(
        'TRIBUTARY_DB_HOST is not set; the database stack passes it to the OLTP sink (stacks/database.ts).',
      );
    return `postgres://${encodeURIComponent(db.user)}@${db.host}:${db.port}/${encodeURIComponent(db.name)}`;
  }
  return `postgres://postgres@${config.host}:${config.ports.pg}/postgres`;
}

/** A connection URL with any password replaced, for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable database URL)';
  }
}

export interface PoolOptions {
  max?: number;
  /** Resolves the password when the URL has none (AWS: the Aurora secret). */
  password?: () => Promise<string>;
  ssl?: pg.PoolConfig['ssl'];
  connectionTimeoutMillis?: number;
}

/**
 * A pg client that never turns a dying server into an uncaught exception. pg emits 'error' on a client that loses its
 * server while no query is running; pg-pool listens only while a client is idle, so a backend terminated in the
 * moment between two statements (or while a new connection starts) would crash the process. The statement that
 * follows fails anyway ("not queryable"), and that failure is what the sink handles.
 */
class ResilientClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    this.on('error', () => {});
  }
}

/** A pg pool for a URL, with a short connect timeout so an outage fails a batch quickly instead of hanging it. */
export function createPool(url: string, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    Client: ResilientClient,
    connectionString: url,
    max: options.max ?? 4,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5_000,
    idleTimeoutMillis: 30_000,
    ...(options.password ? { password: options.password } : {}),
    ...(options.ssl !== undefined ? { ssl: options.ssl } : {}),
  });
  // An idle client losing its server (a restart) emits here; without a listener that would crash the process.
  pool.on('error', () => {});
  return pool;
}

/**
 * Runs a read of the database, a lost connection (also half-way through) answered as the database being unavailable
 * (503, saying what to check) rather than as a bug.
 */
export async function readingDatabase<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof TributaryError || !isConnectionError(err)) throw err;
    throw new DatabaseUnavailableError(
      `The database stopped answering: ${errorMessage(err)}. Is \`tributary dev\` running, or DATABASE_URL set?`,
      { cause: err },
    );
  }
}

/** What a failed statement means for the event(s) it carried. */
export type FailureKind =
  /** The data cannot go into the database as it is (bad value, constraint): the event's fault, quarantine it. */
  | 'rejected'
  /** A conflict with a concurrent transaction (deadlock, serialization): try the same work again at once. */
  | 'conflict'
  /** Anything else (the database is down, restarting, unreachable, not migrated): fail the batch, retry later. */
  | 'unavailable';

/**
 * Classifies an error from pg. SQLSTATE classes 22 (data exception), 23 (integrity constraint violation) and 54
 * (program limit exceeded: a key too long for its index, say) are the data's fault — retrying the same row can only
 * fail again; a connection error has no SQLSTATE and everything unknown counts as an outage, so it is retried rather
 * than quarantined or skipped.
 */
export function failureKind(err: unknown): FailureKind {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    if (code.startsWith('22') || code.startsWith('23') || code.startsWith('54')) return 'rejected';
    if (code === '40001' || code === '40P01') return 'conflict';
  }
  return 'unavailable';
}

/** A failure of the connection rather than of the statement: no SQLSTATE at all, or class 08, 53 or 57. */
export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    !(typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) ||
    code.startsWith('08') ||
    code.startsWith('53') ||
    code.startsWith('57')
  );
}

/**
 * Runs `fn` in one database transaction: COMMIT when it resolves, ROLLBACK when it throws (and the error is rethrown,
 * never swallowed). A client whose connection broke is destroyed instead of going back to the pool.
 */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw new DatabaseUnavailableError(`Cannot connect to the database: ${errorMessage(err)}`, { cause: err });
  }
  let broken: Error | undefined;
  // A checked-out client has no pool listener: a server dying between two statements would otherwise be an uncaught
  // 'error' event. The next statement fails with it anyway, and that is where it is handled.
  const onError = (err: Error) => (broken = err);
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    if (isConnectionError(err)) broken = err instanceof Error ? err : new Error(String(err));
    else await client.query('ROLLBACK').catch((e: unknown) => (broken = e instanceof Error ? e : new Error(String(e))));
    throw err;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

let secretCache: { arn: string; password: string; until: number } | undefined;

/**
 * The Aurora password from its Secrets Manager secret (JSON with a `password` field), cached for five minutes so a
 * rotated password is picked up by new connections without a fetch per connection. Never logged.
 */
export async function auroraPassword(config: TributaryConfig, secretArn: string): Promise<string> {
  if (secretCache && secretCache.arn === secretArn && secretCache.until > Date.now()) return secretCache.password;
  const res = await secretsManagerClient(config).send(new GetSecretValueCommand({ SecretId: secretArn }));
  let password: unknown;
  try {
    password = (JSON.parse(res.SecretString ?? '{}') as { password?: unknown }).password;
  } catch {
    password = undefined;
  }
  if (typeof password !== 'string' || !password)
    throw new ConfigError(`The database secret ${secretArn} holds no "password" field.`);
  secretCache = { arn: secretArn, password, until: Date.now() + 5 * 60_000 };
  return password;
}

/**
 * The OLTP database pool of a configuration. In AWS (without DATABASE_URL) it connects to Aurora over TLS, verified
 * against the RDS certificate authorities the Lambda runtime ships (NODE_EXTRA_CA_CERTS, set by the stack), with
 * the password from TRIBUTARY_DB_SECRET_ARN.
 */
export function databasePool(config: TributaryConfig, max?: number): pg.Pool {
  const url = databaseUrl(config);
  if (config.mode !== 'aws' || config.database.url) return createPool(url, max !== undefined ? { max } : {});
  const arn = config.database.secretArn;
  if (!arn)
    throw new ConfigError(
      'TRIBUTARY_DB_SECRET_ARN is not set; the database stack passes it to the OLTP sink (stacks/database.ts).',
    );
  // Aurora scaled to 0 ACU takes some seconds to resume on the first connection.
  return createPool(url, {
    password: () => auroraPassword(config, arn),
    ssl: { rejectUnauthorized: true },
    max: max ?? 2,
    connectionTimeoutMillis: 30_000,
  });
}
