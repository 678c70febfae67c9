import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, PutObjectCommand, type S3Client, type _Object } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { deleteKeys, getJsonOrNull } from '../aws/s3.ts';
import { SOURCE_COLUMN, partitionValuesOf, type Catalog, type TableDef } from '../catalog/catalog.ts';
import { duckRawSelect, objectGlob, type LocalObjectLayout } from '../catalog/duckdb.ts';
import { quoteIdent, quoteString } from '../catalog/types.ts';
import { TributaryError, errorMessage } from '../errors.ts';
import { listAll } from '../status.ts';
import { manifestKey } from './partition.ts';
import { mapLimit } from '../util/concurrency.ts';

/** Errors of the compactor. */
export class CompactionError extends TributaryError {}

export interface CompactDeps {
  s3: S3Client;
  catalog: Catalog;
  buckets: { lake: string };
  /** Scratch space for downloaded objects and the Parquet being written (Lambda: /tmp). */
  workDir?: string;
  /** Compressed JSONL bytes that go into one Parquet object (≈ its size; ZSTD Parquet is about as small as gzip JSON). */
  targetBytes?: number;
  /** Partition-hours compacted at the same time (default 4). */
  concurrency?: number;
  /** Test hook: runs after a Parquet object is written and before its sources are deleted (a crash point). */
  afterWrite?: (parquetKey: string) => Promise<void>;
}

export interface CompactOptions {
  /** Compact partition-hours strictly before this hour, `YYYY-MM-DDTHH` (UTC); default: hours that ended ≥ 1 h ago. */
  before?: string;
  /** Only these tables (default: every table with a compacted layout). */
  tables?: string[];
  now?: Date;
  onProgress?: (p: { table: string; partition: string; done: number; total: number }) => void;
}

export interface CompactResult {
  before: string;
  /** Partition-hours that held JSONL objects before the cut-off. */
  partitions: number;
  /** JSONL objects turned into Parquet (and deleted). */
  sourceObjects: number;
  parquetObjects: number;
  rows: number;
  bytesIn: number;
  bytesOut: number;
  /** JSONL objects a Parquet object already covered (left behind by an interrupted run) that were deleted now. */
  resumed: number;
  ms: number;
}

interface Manifest {
  parquet: string;
  sources: string[];
  rows?: number;
  createdAt: string;
}

export const DEFAULT_TARGET_BYTES = 128 * 1024 * 1024;
const HOUR_RE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}$/;

/** The default cut-off: the hour before the current one, so only hours that ended at least an hour ago are closed. */
export function defaultBefore(now = new Date()): string {
  return new Date(now.getTime() - 3600_000).toISOString().slice(0, 13);
}

/**
 * Rewrites the small JSONL objects of closed partition-hours as Parquet (ZSTD, sorted by event time), about one
 * object per `targetBytes` of input. Each Parquet row carries the key of the JSONL object it came from, and readers
 * hide JSONL objects named that way, so the switch is atomic for them: the Parquet object appears in one PUT, then
 * its sources are deleted. A run that stops anywhere is finished by the next one (sources already covered are
 * deleted, the rest compacted again under the same deterministic name); records that arrive late for a compacted
 * hour land in new JSONL objects and go into a further Parquet object on the next run.
 */
export async function compactLake(deps: CompactDeps, options: CompactOptions = {}): Promise<CompactResult> {
  const started = Date.now();
  const before = options.before ?? defaultBefore(options.now);
  if (!HOUR_RE.test(before)) throw new CompactionError('bad_before', `--before must be an hour YYYY-MM-DDTHH (UTC), got ${JSON.stringify(before)}.`);
  const tables = deps.catalog.tables().filter((t) => t.compactedPrefix && t.bucket === 'lake' && (!options.tables || options.tables.includes(t.name)));
  if (options.tables) {
    const unknown = options.tables.filter((n) => !tables.some((t) => t.name === n));
    if (unknown.length) throw new CompactionError('bad_table', `Cannot compact ${unknown.join(', ')}; compactable tables: ${deps.catalog.tables().filter((t) => t.compactedPrefix).map((t) => t.name).join(', ')}.`);
  }
  const result: CompactResult = { before, partitions: 0, sourceObjects: 0, parquetObjects: 0, rows: 0, bytesIn: 0, bytesOut: 0, resumed: 0, ms: 0 };
  const work = mkdtempSync(path.join(deps.workDir ?? os.tmpdir(), 'tributary-compact-'));
  const db = await DuckDBInstance.create(':memory:', { threads: '2' });
  try {
    for (const t of tables) await compactTable(deps, db, t, before, work, result, options.onProgress);
  } finally {
    db.closeSync();
    rmSync(work, { recursive: true, force: true });
  }
  result.ms = Date.now() - started;
  return result;
}

async function compactTable(deps: CompactDeps, db: DuckDBInstance, t: TableDef, before: string, work: string, result: CompactResult, onProgress: CompactOptions['onProgress']): Promise<void> {
  const bucket = deps.buckets.lake;
  const byPartition = new Map<string, _Object[]>();
  for (const o of await listAll(deps.s3, bucket, t.prefix)) {
    const values = partitionValuesOf(t, o.Key!);
    if (!values || !o.Key!.endsWith('.jsonl.gz') || `${values.dt}T${values.hour}` >= before) continue;
    const dir = o.Key!.slice(t.prefix.length, o.Key!.lastIndexOf('/') + 1);
    const list = byPartition.get(dir);
    if (list) list.push(o);
    else byPartition.set(dir, [o]);
  }
  if (!byPartition.size) return;
  const covered = await coveredSources(deps, t);
  const partitions = [...byPartition].sort(([a], [b]) => a.localeCompare(b));
  let done = 0;
  // Partition-hours are independent: several at once keep S3 round trips and DuckDB busy at the same time.
  // After a failure no new partition starts, and the ones in flight finish before the error surfaces (the caller
  // closes DuckDB and removes the scratch directory right after).
  let failure: unknown;
  await mapLimit(partitions, deps.concurrency ?? 4, async ([dir, objects]) => {
    if (failure) return;
    try {
      await compactPartition(dir, objects);
    } catch (err) {
      failure ??= err;
    }
  });
  if (failure) throw failure;

  async function compactPartition(dir: string, objects: _Object[]): Promise<void> {
    result.partitions++;
    const leftovers = objects.filter((o) => covered.has(o.Key!));
    if (leftovers.length) {
      await deleteOrThrow(deps.s3, bucket, leftovers.map((o) => o.Key!));
      result.resumed += leftovers.length;
    }
    const pending = objects.filter((o) => !covered.has(o.Key!)).sort((a, b) => a.Key!.localeCompare(b.Key!));
    for (const chunk of chunkBySize(pending, deps.targetBytes ?? DEFAULT_TARGET_BYTES)) {
      await compactChunk(deps, db, t, dir, chunk, work, result);
    }
    onProgress?.({ table: t.name, partition: dir, done: ++done, total: byPartition.size });
  }
}

/** JSONL keys already inside a Parquet object of the table: from the manifests, else from the Parquet itself. */
async function coveredSources(deps: CompactDeps, t: TableDef): Promise<Set<string>> {
  const bucket = deps.buckets.lake;
  const parquet = (await listAll(deps.s3, bucket, t.compactedPrefix!)).map((o) => o.Key!).filter((k) => k.endsWith('.parquet'));
  const out = new Set<string>();
  await mapLimit(parquet, 8, async (key) => {
    const manifest = await getJsonOrNull<Manifest>(deps.s3, bucket, manifestKey(key));
    if (!manifest) throw new CompactionError('manifest_missing', `Compacted object ${key} has no manifest ${manifestKey(key)}; restore it or delete the object after checking its rows.`);
    for (const s of manifest.sources) out.add(s);
  });
  return out;
}

async function compactChunk(deps: CompactDeps, db: DuckDBInstance, t: TableDef, dir: string, chunk: _Object[], work: string, result: CompactResult): Promise<void> {
  const bucket = deps.buckets.lake;
  const sources = chunk.map((o) => o.Key!);
  const name = `part-${createHash('sha256').update(sources.join('\n')).digest('hex').slice(0, 20)}.parquet`;
  const parquetKey = `${t.compactedPrefix}${dir}${name}`;
  const root = path.join(work, name.slice(0, -8));
  // The objects keep their keys under the scratch root, so the same view SQL reads them with their partitions.
  const layout: LocalObjectLayout = { bucketDir: () => root, suffix: '' };
  await mapLimit(chunk, 8, async (o) => {
    const file = path.join(root, o.Key!);
    mkdirSync(path.dirname(file), { recursive: true });
    const res = await deps.s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }));
    writeFileSync(file, await res.Body!.transformToByteArray());
  });
  const out = path.join(work, name);
  const c = await db.connect();
  try {
    const cols = [...t.columns.map((col) => quoteIdent(col.name)), `_key AS ${quoteIdent(SOURCE_COLUMN)}`];
    const select = duckRawSelect(t, layout, objectGlob(t, layout, t.prefix, '.jsonl.gz'));
    // COPY answers with the number of rows it wrote.
    const copied = await c.runAndReadAll(`COPY (SELECT ${cols.join(', ')} FROM (${select}) ORDER BY ${quoteIdent(t.timeColumn)}, ${quoteIdent(SOURCE_COLUMN)}) TO ${quoteString(out)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`);
    const rows = Number(copied.getRows()[0]![0]);
    const manifest: Manifest = { parquet: parquetKey, sources, rows, createdAt: new Date().toISOString() };
    // Manifest first: a Parquet object without one would leave a later run unable to tell what it covers.
    await deps.s3.send(new PutObjectCommand({ Bucket: bucket, Key: manifestKey(parquetKey), Body: JSON.stringify(manifest), ContentType: 'application/json' }));
    const body = readFileSync(out);
    await deps.s3.send(new PutObjectCommand({ Bucket: bucket, Key: parquetKey, Body: body, ContentType: 'application/vnd.apache.parquet' }));
    await deps.afterWrite?.(parquetKey);
    await deleteOrThrow(deps.s3, bucket, sources);
    result.parquetObjects++;
    result.sourceObjects += sources.length;
    result.rows += rows;
    result.bytesIn += chunk.reduce((a, o) => a + (o.Size ?? 0), 0);
    result.bytesOut += statSync(out).size;
  } catch (err) {
    if (err instanceof CompactionError) throw err;
    throw new CompactionError('compact_failed', `Compacting ${t.name} ${dir} (${sources.length} objects) failed: ${errorMessage(err)}. Run compaction again; it resumes where it stopped.`, { cause: err });
  } finally {
    c.closeSync();
    rmSync(root, { recursive: true, force: true });
    rmSync(out, { force: true });
  }
}

/** Consecutive groups of objects whose sizes add up to at most `target` (a single larger object is its own group). */
export function chunkBySize<T extends { Size?: number }>(objects: T[], target: number): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let size = 0;
  for (const o of objects) {
    const s = o.Size ?? 0;
    if (cur.length && size + s > target) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(o);
    size += s;
  }
  if (cur.length) out.push(cur);
  return out;
}

async function deleteOrThrow(s3: S3Client, bucket: string, keys: string[]): Promise<void> {
  const failed = await deleteKeys(s3, bucket, keys);
  if (failed.length) throw new CompactionError('delete_failed', `Could not delete ${failed.length} compacted objects (first: ${failed[0]!.key}: ${failed[0]!.message}); run compaction again.`);
}
