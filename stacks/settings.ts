/**
 * Per-stage settings of the infrastructure, in one place. Defaults suit a small production pipeline; each can be
 * overridden per deploy through the environment (e.g. `TRIBUTARY_SHARDS=4 npx sst deploy --stage prod`).
 */

/** The seven shard-level metrics Kinesis can publish (the console's Overview charts five of them). */
export const SHARD_LEVEL_METRICS = [
  'IncomingBytes',
  'IncomingRecords',
  'OutgoingBytes',
  'OutgoingRecords',
  'WriteProvisionedThroughputExceeded',
  'ReadProvisionedThroughputExceeded',
  'IteratorAgeMilliseconds',
] as const;

export interface StageSettings {
  production: boolean;
  /** Open shards of the `events` stream (PROVISIONED mode). */
  shards: number;
  /** Stream retention in hours (24–8760). */
  retentionHours: number;
  /** Athena refuses a query that would scan more than this. */
  bytesScannedCutoffPerQuery: number;
  /** API Gateway stage throttling. */
  throttle: { rateLimit: number; burstLimit: number };
  /** Where alarm notifications go (an e-mail subscription is added when set). */
  alarmEmail?: string;
  /** Alarm thresholds. */
  alarms: { iteratorAgeMs: number; invalidRate: number; invalidRateMinEvents: number };
  /** The OLTP database (stacks/database.ts). */
  database: DatabaseSettings;
}

export interface DatabaseSettings {
  /**
   * Aurora Serverless v2 capacity ceiling in ACUs (1 ACU ≈ 2 GiB of memory). The floor is always 0 ACU: the cluster
   * pauses after `pauseAfterMinutes` without connections and bills storage only while paused.
   */
  maxAcu: number;
  /** Minutes without a connection before Aurora pauses the instance (5–60; it resumes on the next connection). */
  pauseAfterMinutes: number;
  /** Days of automated backups (point-in-time recovery window). */
  backupRetentionDays: number;
  /**
   * Availability Zones (private subnets) the Secrets Manager interface endpoint gets an ENI in; each one bills per
   * hour. The sink reaches an endpoint ENI in the other AZ too, so one is enough outside production.
   */
  secretsEndpointZones: number;
  /** A bastion host for `sst tunnel` (off unless TRIBUTARY_DB_BASTION=true; a t4g.nano with a public IP). */
  bastion: boolean;
}

function bool(env: Record<string, string | undefined>, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new Error(`${name}=${JSON.stringify(raw)}: expected true or false.`);
}

function int(
  env: Record<string, string | undefined>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`${name}=${JSON.stringify(raw)}: expected a whole number from ${min} to ${max}.`);
  return n;
}

/** The settings of a stage: `production` keeps data on removal and protects resources (sst.config.ts). */
export function stageSettings(stage: string, env: Record<string, string | undefined> = process.env): StageSettings {
  const production = stage === 'production';
  return {
    production,
    shards: int(env, 'TRIBUTARY_SHARDS', 2, 1, 500),
    retentionHours: int(env, 'TRIBUTARY_RETENTION_HOURS', production ? 168 : 24, 24, 8760),
    bytesScannedCutoffPerQuery: int(env, 'TRIBUTARY_ATHENA_CUTOFF_GB', 10, 1, 1_000_000) * 1024 ** 3,
    throttle: {
      rateLimit: int(env, 'TRIBUTARY_API_RATE', 500, 1, 100_000),
      burstLimit: int(env, 'TRIBUTARY_API_BURST', 1000, 1, 100_000),
    },
    ...(env.TRIBUTARY_ALARM_EMAIL ? { alarmEmail: env.TRIBUTARY_ALARM_EMAIL } : {}),
    alarms: { iteratorAgeMs: 5 * 60_000, invalidRate: 0.05, invalidRateMinEvents: 100 },
    database: {
      maxAcu: int(env, 'TRIBUTARY_DB_MAX_ACU', production ? 8 : 2, 1, 256),
      pauseAfterMinutes: 5,
      backupRetentionDays: production ? 7 : 1,
      secretsEndpointZones: production ? 2 : 1,
      bastion: bool(env, 'TRIBUTARY_DB_BASTION', false),
    },
  };
}

/** This deploy's settings. */
export const settings = stageSettings($app.stage);
