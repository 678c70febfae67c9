import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { downloadToFile } from '../aws/s3.ts';
import type pg from 'pg';
import { errorMessage } from '../errors.ts';
import type { IngestDeps } from '../ingest/ingest.ts';
import { ExportKeyError } from './errors.ts';
import { importFileId } from './registry.ts';
import { loadRawFile, type RawLoadSummary } from './raw.ts';

/*
 * Raw event files dropped in the imports bucket under `raw/<event type>/<file>`: registered (migration 7, one row per
 * key and ETag, so a notification delivered twice is one file), claimed by one loader at a time, loaded through the
 * ingest path (lib/imports/raw.ts), and their counts kept. Exactly once as raw.ts is: a load that stopped (a crash,
 * records the stream refused) is run again over the whole file, its events stamped with the object's own time, so
 * what was already sent goes again with the same ids and is kept once. A claim older than 15 minutes is a loader that
 * died; the sweep takes it over.
 */

export const RAW_PREFIX = 'raw/';
const STALE_CLAIM = "interval '15 minutes'";
/** Loaders of one file that may stop before finishing (a timeout, a crash) before the file is failed. */
export const RAW_LOAD_CUT_OFFS = 3;

export type RawFileStatus = 'queued' | 'loading' | 'loaded' | 'failed';

export interface RawFile {
  id: string;
  type: string;
  key: string;
  etag: string;
  size: number;
  status: RawFileStatus;
  counts?: Pick<RawLoadSummary, 'events' | 'accepted' | 'rejected' | 'failed'>;
  firstErrors?: RawLoadSummary['firstErrors'];
  error?: string;
  registeredAt: string;
  /** When the loader working on it took it. */
  claimedAt?: string;
  /** Loaders that stopped before finishing it (their claim was taken over). */
  cutOff: number;
  finishedAt?: string;
}

/** The extensions of a raw file's name that say its format (`.csv`, `.ndjson.gz`, …), or none. */
function rawExtension(key: string): string {
  return /(\.[A-Za-z0-9]{1,10}){1,2}$/.exec(path.posix.basename(key))?.[0]?.toLowerCase() ?? '';
}

/** The event type of a raw file's key: `raw/<type>/<file>`. @throws ExportKeyError saying where raw files go. */
export function parseRawKey(key: string): { type: string; file: string } {
  const parts = key.startsWith(RAW_PREFIX) ? key.slice(RAW_PREFIX.length).split('/') : [];
  if (parts.length !== 2 || !parts[0] || !parts[1])
    throw new ExportKeyError(
      `${JSON.stringify(key)} is not ${RAW_PREFIX}<event type>/<file>; drop raw event files (CSV with a header, JSON, NDJSON, optionally .gz) there.`,
    );
  return { type: parts[0], file: parts[1] };
}

interface Row {
  id: string;
  event_type: string;
  object_key: string;
  etag: string;
  size: string;
  status: RawFileStatus;
  counts: RawFile['counts'] | null;
  first_errors: RawFile['firstErrors'] | null;
  error: string | null;
  registered_at: Date;
  claimed_at: Date | null;
  finished_at: Date | null;
  cut_off: number;
}

const fromRow = (r: Row): RawFile => ({
  id: r.id,
  type: r.event_type,
  key: r.object_key,
  etag: r.etag,
  size: Number(r.size),
  status: r.status,
  ...(r.counts ? { counts: r.counts } : {}),
  ...(r.first_errors ? { firstErrors: r.first_errors } : {}),
  ...(r.error ? { error: r.error } : {}),
  registeredAt: r.registered_at.toISOString(),
  ...(r.claimed_at ? { claimedAt: r.claimed_at.toISOString() } : {}),
  cutOff: Number(r.cut_off ?? 0),
  ...(r.finished_at ? { finishedAt: r.finished_at.toISOString() } : {}),
});

/** The newest raw files first (the console's Imports page). */
export async function listRawFiles(pool: pg.Pool, limit = 50): Promise<RawFile[]> {
  const { rows } = await pool.query<Row>('SELECT * FROM raw_file ORDER BY registered_at DESC, id LIMIT $1', [
    Math.max(1, Math.min(500, Math.floor(limit))),
  ]);
  return rows.map(fromRow);
}

export interface RawFilesDeps {
  pool: pg.Pool;
  s3: S3Client;
  importsBucket: string;
  ingest: IngestDeps;
  workDir?: string;
}

/** The raw files of the imports bucket (see the module comment). */
export class RawFiles {
  constructor(private readonly deps: RawFilesDeps) {}

  /**
   * Registers a dropped raw file (the same key and ETag once). A file that failed is queued again when it is dropped
   * again: its error says to fix the type or the file and drop it again.
   */
  async register(o: { key: string; etag: string; size: number }): Promise<RawFile> {
    const { type } = parseRawKey(o.key);
    const id = importFileId(o.key, o.etag);
    await this.deps.pool.query(
      `INSERT INTO raw_file (id, event_type, object_key, etag, size) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (id) DO UPDATE SET status = 'queued', error = NULL, finished_at = NULL, cut_off = 0
         WHERE raw_file.status = 'failed'`,
      [id, type, o.key, o.etag, o.size],
    );
    return this.get(id);
  }

  async get(id: string): Promise<RawFile> {
    const { rows } = await this.deps.pool.query<Row>('SELECT * FROM raw_file WHERE id = $1', [id]);
    if (!rows[0]) throw new ExportKeyError(`No raw file ${JSON.stringify(id)}.`);
    return fromRow(rows[0]);
  }

  /** Of these objects under raw/, the ones not registered (the sweep registers them). */
  async unregistered<T extends { key: string; etag: string }>(objects: T[]): Promise<T[]> {
    if (!objects.length) return [];
    const { rows } = await this.deps.pool.query<{ id: string }>('SELECT id FROM raw_file WHERE id = ANY($1::text[])', [
      objects.map((o) => importFileId(o.key, o.etag)),
    ]);
    const known = new Set(rows.map((r) => r.id));
    return objects.filter((o) => !known.has(importFileId(o.key, o.etag)));
  }

  /** Files to load: queued, or claimed by a loader that died. */
  async pending(): Promise<string[]> {
    const { rows } = await this.deps.pool.query<{ id: string }>(
      `SELECT id FROM raw_file
        WHERE status = 'queued' OR (status = 'loading' AND claimed_at < now() - ${STALE_CLAIM})
        ORDER BY registered_at`,
    );
    return rows.map((r) => r.id);
  }

  /**
   * Loads a file unless another loader holds it: claims it, downloads it, loads it through the ingest path and keeps
   * the counts. Events the stream refused after its retries leave it queued (the next sweep loads it again); a file
   * that cannot be read as its type's events fails, saying why.
   */
  async load(id: string): Promise<RawFile | undefined> {
    const claimed = await this.deps.pool.query<Row>(
      // Milliseconds, so the mark reads back exactly as a JavaScript Date (Postgres keeps microseconds).
      // Taking over a stale claim counts its loader as cut off.
      `UPDATE raw_file SET status = 'loading', claimed_at = date_trunc('milliseconds', clock_timestamp()),
              cut_off = cut_off + CASE WHEN status = 'loading' THEN 1 ELSE 0 END
        WHERE id = $1 AND (status = 'queued' OR (status = 'loading' AND claimed_at < now() - ${STALE_CLAIM}))
        RETURNING *`,
      [id],
    );
    const row = claimed.rows[0];
    if (!row) return undefined;
    const f = fromRow(row);
    // This claim's mark: every later write checks it, so a loader whose claim was taken over changes nothing.
    const claim = row.claimed_at!;
    let work: string | undefined;
    try {
      if (f.cutOff >= RAW_LOAD_CUT_OFFS)
        return await this.#finish(f.id, claim, 'failed', {
          error: `Loading ${f.key} stopped before the end ${f.cutOff} times (in AWS a load must finish within one run of the import function, 15 minutes): split the file and drop the parts, or load it with \`tributary import <file> --type ${f.type}\`. Dropping it again tries once more.`,
        });
      work = mkdtempSync(path.join(this.deps.workDir ?? os.tmpdir(), 'tributary-raw-'));
      if (!this.deps.ingest.registry.has(f.type))
        return await this.#finish(f.id, claim, 'failed', {
          error: `Event type ${JSON.stringify(f.type)} is not registered (${this.deps.ingest.registry.names().join(', ')}); drop the file under raw/<event type>/, or add the type's schema under schemas/${f.type}/.`,
        });
      // A name of our own with the file's extensions: the reader knows CSV, JSON and NDJSON by them (gzip by the
      // bytes), and a key's last segment may be anything S3 takes (`..`, 300 bytes).
      const file = path.join(work, `file${rawExtension(f.key)}`);
      const got = await downloadToFile(this.deps.s3, this.deps.importsBucket, f.key, file);
      if (got?.etag !== f.etag)
        return await this.#finish(f.id, claim, 'failed', {
          error: `${f.key} is gone or was replaced since it was dropped; a replacement is loaded as a file of its own.`,
        });
      const arrived = got.lastModified ?? new Date(f.registeredAt);
      let summary: RawLoadSummary;
      try {
        summary = await loadRawFile(this.deps.ingest, {
          type: f.type,
          file,
          source: `${f.key}@${f.etag}`,
          receivedAt: arrived.toISOString(),
        });
      } catch (err) {
        return await this.#finish(f.id, claim, 'failed', { error: `${f.key}: ${errorMessage(err)}` });
      }
      const counts = {
        events: summary.events,
        accepted: summary.accepted,
        rejected: summary.rejected,
        failed: summary.failed,
      };
      return await this.#finish(f.id, claim, summary.failed ? 'queued' : 'loaded', {
        counts,
        firstErrors: summary.firstErrors,
        ...(summary.failed
          ? {
              error: `The stream refused ${summary.failed} events after retries; the file is loaded again on the next sweep.`,
            }
          : {}),
      });
    } catch (err) {
      // Back in the queue for the next sweep: nothing of a load is lost by running it again.
      await this.deps.pool
        .query(
          `UPDATE raw_file SET status = 'queued', error = $2 WHERE id = $1 AND status = 'loading' AND claimed_at = $3`,
          [f.id, errorMessage(err), claim],
        )
        .catch(() => {});
      throw err;
    } finally {
      if (work) rmSync(work, { recursive: true, force: true });
    }
  }

  async #finish(
    id: string,
    claim: Date,
    status: RawFileStatus,
    fields: { counts?: RawFile['counts']; firstErrors?: RawFile['firstErrors']; error?: string },
  ): Promise<RawFile> {
    await this.deps.pool.query(
      `UPDATE raw_file SET status = $2, counts = $3::jsonb, first_errors = $4::jsonb, error = $5,
              finished_at = CASE WHEN $2 IN ('loaded', 'failed') THEN now() END
        WHERE id = $1 AND status = 'loading' AND claimed_at = $6`,
      [
        id,
        status,
        fields.counts ? JSON.stringify(fields.counts) : null,
        fields.firstErrors ? JSON.stringify(fields.firstErrors) : null,
        fields.error ?? null,
        claim,
      ],
    );
    return this.get(id);
  }
}
