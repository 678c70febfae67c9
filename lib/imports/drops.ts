import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { listAll } from '../aws/s3.ts';
import { errorMessage } from '../errors.ts';
import type { IngestDeps } from '../ingest/ingest.ts';
import { logger, recordImports } from '../observability.ts';
import { parseRawKey, RAW_PREFIX, type RawFile, RawFiles } from './raw-files.ts';
import { ExportKeyError } from './errors.ts';
import { ImportJob, type ImportJobDeps, type TableRunResult } from './job.ts';
import { EXPORTS_PREFIX, type ImportFile, parseExportKey } from './registry.ts';

/*
 * What starts an import: an object created under `exports/` (or `raw/`, a raw event file) in the imports bucket (an S3 event notification, in AWS
 * and from the local S3 alike), and a sweep on a schedule. The event registers the file and runs its table's queue at
 * once; the sweep runs every table with work left — an import that stopped at its deadline, one whose job crashed (its
 * lease expires), a held one an operator approved, an event that never arrived (S3 delivers at least once, not
 * always promptly). So no import depends on one delivery or one invocation.
 */

/** The keys of the imports bucket whose creation is announced: exports, and raw event files. */
export const IMPORT_NOTIFICATION_PREFIXES = [EXPORTS_PREFIX, RAW_PREFIX];

/** One record of an S3 event notification, the fields used here. */
export interface S3NotificationRecord {
  eventName?: string;
  s3?: { bucket?: { name?: string }; object?: { key?: string; size?: number; eTag?: string } };
}

/** An S3 event notification (Records), or the sweep's scheduled event. */
export type ImportTrigger = { Records: S3NotificationRecord[] } | { sweep: true };

export interface TriggerResult {
  registered: ImportFile[];
  /** Objects that are not where exports go (logged with where they belong). */
  misplaced: { key: string; error: string }[];
  runs: (TableRunResult & { tenant: string; table: string })[];
  /** Raw event files loaded (or tried) by this invocation. */
  raw: RawFile[];
}

/** What the trigger needs: the import job's dependencies, and ingest's writer for raw event files. */
export type ImportTriggerDeps = ImportJobDeps & { ingest: IngestDeps };

/** How far back the sweep looks for exports the registry lacks (a lost notification is found within this). */
const SWEEP_LOOKBACK_MS = 7 * 24 * 3600 * 1000;

/**
 * True when `key` is one `parse` takes (an export's, a raw file's); otherwise listed, and logged when asked (a
 * notification: the sweep meets the same misplaced object every minute for a week, and it was said once).
 */
function wellPlaced(parse: (key: string) => unknown, key: string, result: TriggerResult, log: boolean): boolean {
  try {
    parse(key);
    return true;
  } catch (err) {
    if (!(err instanceof ExportKeyError)) throw err;
    if (log) logger.warn('imports: an object is not where its kind of file goes', { key, error: err.message });
    result.misplaced.push({ key, error: err.message });
    return false;
  }
}

/** The objects under a prefix written since `since` (epoch ms), with their ETag and size. */
async function recentObjects(
  deps: Pick<ImportJobDeps, 's3' | 'buckets'>,
  prefix: string,
  since: number,
): Promise<{ key: string; etag: string; size: number }[]> {
  return (await listAll(deps.s3, deps.buckets.imports, prefix))
    .filter((o) => o.Key && o.ETag && (o.LastModified?.getTime() ?? 0) >= since)
    .map((o) => ({ key: o.Key!, etag: o.ETag!, size: o.Size ?? 0 }));
}

/**
 * The object key of an event record: S3 sends it URL-encoded, with spaces as `+` (the local S3 does as well).
 */
export function notificationKey(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, ' '));
}

/**
 * Registers the exports an S3 event announces and runs their tables, or (the sweep) runs every table with work left,
 * each until `deadline` (epoch ms). A table another job holds is left to it.
 */
export async function handleImportTrigger(
  trigger: ImportTrigger,
  deps: ImportTriggerDeps,
  options: { deadline?: number } = {},
): Promise<TriggerResult> {
  const result: TriggerResult = { registered: [], misplaced: [], runs: [], raw: [] };
  const tables = new Map<string, { tenant: string; table: string }>();
  const rawFiles = new RawFiles({
    pool: deps.registry.pool,
    s3: deps.s3,
    importsBucket: deps.buckets.imports,
    ingest: deps.ingest,
    ...(deps.workDir ? { workDir: deps.workDir } : {}),
  });
  const rawToLoad = new Set<string>();
  if ('Records' in trigger) {
    for (const r of trigger.Records) {
      if (!r.eventName?.startsWith('ObjectCreated:') || r.s3?.bucket?.name !== deps.buckets.imports) continue;
      let key: string;
      try {
        key = notificationKey(r.s3.object?.key ?? '');
      } catch {
        result.misplaced.push({ key: r.s3.object?.key ?? '', error: 'the key is not URL-encoded UTF-8' });
        continue;
      }
      if (key.startsWith(RAW_PREFIX)) {
        if (!wellPlaced(parseRawKey, key, result, true)) continue;
        const id = await objectIdentity(deps, key, r.s3.object);
        if (id.etag !== undefined) rawToLoad.add((await rawFiles.register({ key, etag: id.etag, size: id.size })).id);
        continue;
      }
      if (!key.startsWith(EXPORTS_PREFIX) || !wellPlaced(parseExportKey, key, result, true)) continue;
      const { etag, size } = await objectIdentity(deps, key, r.s3.object);
      if (etag === undefined) continue; // deleted since: nothing to import
      const file = await deps.registry.register({ key, etag, size });
      result.registered.push(file);
      tables.set(`${file.tenant}/${file.table}`, { tenant: file.tenant, table: file.table });
    }
  } else {
    // Exports whose notification never came (or could not be registered): the recent objects not in the registry.
    const since = Date.now() - SWEEP_LOOKBACK_MS;
    for (const o of await deps.registry.unregistered(await recentObjects(deps, EXPORTS_PREFIX, since))) {
      if (!wellPlaced(parseExportKey, o.key, result, false)) continue;
      result.registered.push(await deps.registry.register(o));
    }
    for (const t of await deps.registry.pendingTables()) tables.set(`${t.tenant}/${t.table}`, t);
    for (const o of await rawFiles.unregistered(await recentObjects(deps, RAW_PREFIX, since)))
      if (wellPlaced(parseRawKey, o.key, result, false)) await rawFiles.register(o);
    for (const id of await rawFiles.pending()) rawToLoad.add(id);
  }
  const job = new ImportJob(deps);
  for (const t of tables.values()) {
    try {
      result.runs.push({ ...t, ...(await job.runTable(t.tenant, t.table, options)) });
    } catch (err) {
      // One table's failure (a stream refusing, a lost snapshot) must not keep the others from running; the file stays
      // where it was and the next sweep tries again.
      logger.error('imports: a table run failed; the next sweep resumes it', { ...t, error: errorMessage(err) });
      result.runs.push({ ...t, done: [], more: true });
    }
  }
  // After the tables (a long raw load must not starve a resumed or approved import), and not past the deadline: a
  // file left queued is the next sweep's.
  for (const id of rawToLoad) {
    if (options.deadline !== undefined && Date.now() >= options.deadline) break;
    try {
      const f = await rawFiles.load(id);
      if (f) result.raw.push(f);
    } catch (err) {
      logger.error('imports: a raw file load failed; the next sweep loads it again', { id, error: errorMessage(err) });
    }
  }
  const ended = result.runs.flatMap((r) => r.done);
  recordImports({
    published: ended.filter((f) => f.status === 'published').length,
    held: ended.filter((f) => f.status === 'held').length,
    refused: ended.filter((f) => f.status === 'refused').length,
    failed: ended.filter((f) => f.status === 'failed').length,
  });
  for (const f of ended.filter((x) => x.status !== 'published'))
    logger.warn(`imports: ${f.tenant}/${f.table} version ${f.version} is ${f.status}`, { id: f.id, error: f.error });
  return result;
}

/**
 * The ETag and size of a created object: from the event when it has them (S3 always does; the local S3 leaves the
 * ETag out of copy events), else from the object itself. No ETag: the object is gone.
 */
async function objectIdentity(
  deps: Pick<ImportJobDeps, 's3' | 'buckets'>,
  key: string,
  object: { size?: number; eTag?: string } | undefined,
): Promise<{ etag?: string; size: number }> {
  if (object?.eTag && object.size !== undefined) return { etag: quoted(object.eTag), size: object.size };
  try {
    const head = await deps.s3.send(new HeadObjectCommand({ Bucket: deps.buckets.imports, Key: key }));
    return { etag: head.ETag, size: head.ContentLength ?? 0 };
  } catch (err) {
    if ((err as { name?: string }).name === 'NotFound' || (err as { name?: string }).name === 'NoSuchKey')
      return { size: 0 };
    throw err;
  }
}

/** S3 events give the ETag bare, GetObject and HeadObject quoted: the registry keeps the quoted form. */
const quoted = (etag: string): string => (etag.startsWith('"') ? etag : `"${etag}"`);
