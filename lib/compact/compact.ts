// About 300 lines: the compaction run (tables, partition-hours, chunks) in one file, top to bottom; the DuckDB copy,
// the repair of unreadable objects and the run's report are parquet.ts, repair.ts and report.ts.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, PutObjectCommand, type S3Client, type _Object } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { deleteKeys, getJsonOrNull, listAll, putJson } from '../aws/s3.ts';
import { partitionValuesOf } from '../catalog/catalog.ts';
import { objectGlob, type LocalObjectLayout } from '../catalog/duckdb.ts';
import { errorMessage } from '../errors.ts';
import { manifestKey } from '../layout/partition.ts';
import { chunkConsecutive } from '../util/chunks.ts';
import { mapLimit } from '../util/concurrency.ts';
import { cleanFileError, copyToParquet, refusal, type Copied } from './parquet.ts';
import { repairObject } from './repair.ts';
import {
  CompactionError,
  DEFAULT_TARGET_BYTES,
  type CompactDeps,
  type CompactOptions,
  type CompactResult,
  type Manifest,
  type Run,
} from './types.ts';

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
 *
 * Partition-hours are independent: one that fails is reported in `failed` and the others go on. An object DuckDB
 * cannot read (a line written before ingest refused lone surrogates) is left as it is and reported in `unreadable`,
 * and the rest of its partition-hour is compacted; `quarantineUnreadable` repairs it instead (see `repairObject`).
 */
export async function compactLake(deps: CompactDeps, options: CompactOptions = {}): Promise<CompactResult> {
  const started = Date.now();
  const before = options.before ?? defaultBefore(options.now);
  if (!HOUR_RE.test(before))
    throw new CompactionError(
      'bad_before',
      `--before must be an hour YYYY-MM-DDTHH (UTC), got ${JSON.stringify(before)}.`,
    );
  const tables = deps.catalog
    .tables()
    .filter((t) => t.compactedPrefix && t.bucket === 'lake' && (!options.tables || options.tables.includes(t.name)));
  if (options.tables) {
    const unknown = options.tables.filter((n) => !tables.some((t) => t.name === n));
    if (unknown.length)
      throw new CompactionError(
        'bad_table',
        `Cannot compact ${unknown.join(', ')}; compactable tables: ${deps.catalog
          .tables()
          .filter((t) => t.compactedPrefix)
          .map((t) => t.name)
          .join(', ')}.`,
      );
  }
  if (options.quarantineUnreadable && !deps.buckets.quarantine)
    throw new CompactionError(
      'no_quarantine',
      'Quarantining unreadable lines needs the quarantine bucket (TRIBUTARY_QUARANTINE_BUCKET).',
    );
  const result: CompactResult = {
    before,
    partitions: 0,
    sourceObjects: 0,
    parquetObjects: 0,
    rows: 0,
    duplicates: 0,
    bytesIn: 0,
    bytesOut: 0,
    resumed: 0,
    quarantined: 0,
    failed: [],
    unreadable: [],
    ms: 0,
  };
  const work = mkdtempSync(path.join(deps.workDir ?? os.tmpdir(), 'tributary-compact-'));
  const db = await DuckDBInstance.create(':memory:', { threads: '2' });
  try {
    for (const t of tables) await compactTable({ deps, options, db, t, work, result }, before);
  } finally {
    db.closeSync();
    rmSync(work, { recursive: true, force: true });
  }
  result.ms = Date.now() - started;
  return result;
}

async function compactTable(run: Run, before: string): Promise<void> {
  const { deps, t, result } = run;
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
  // A Parquet object lives in the directory of the JSONL objects it replaced, so each partition-hour needs only its own.
  const parquetByDir = new Map<string, string[]>();
  for (const o of await listAll(deps.s3, bucket, t.compactedPrefix!)) {
    if (!o.Key!.endsWith('.parquet')) continue;
    const dir = o.Key!.slice(t.compactedPrefix!.length, o.Key!.lastIndexOf('/') + 1);
    parquetByDir.set(dir, [...(parquetByDir.get(dir) ?? []), o.Key!]);
  }
  const partitions = [...byPartition].sort(([a], [b]) => a.localeCompare(b));
  let done = 0;
  // Partition-hours are independent: several at once keep S3 round trips and DuckDB busy, and one that fails is
  // reported while the others go on (the next run tries it again).
  await mapLimit(partitions, deps.concurrency ?? 4, async ([dir, objects]) => {
    result.partitions++;
    try {
      await compactPartition(run, dir, objects, parquetByDir.get(dir) ?? []);
    } catch (err) {
      result.failed.push({ table: t.name, partition: dir, error: errorMessage(err) });
    }
    run.options.onProgress?.({ table: t.name, partition: dir, done: ++done, total: byPartition.size });
  });
}

async function compactPartition(run: Run, dir: string, objects: _Object[], parquet: string[]): Promise<void> {
  const { deps, result } = run;
  const bucket = deps.buckets.lake;
  const covered = await coveredSources(deps, parquet);
  const leftovers = objects.filter((o) => covered.has(o.Key!));
  if (leftovers.length) {
    await deleteOrThrow(
      deps.s3,
      bucket,
      leftovers.map((o) => o.Key!),
    );
    result.resumed += leftovers.length;
  }
  const pending = objects.filter((o) => !covered.has(o.Key!)).sort((a, b) => a.Key!.localeCompare(b.Key!));
  if (!pending.length) return;
  // The Parquet already in this partition-hour (late records arrive after it) and what each chunk adds: a copy of an
  // event they hold that ranks first keeps its place, and a pending copy it beats is not compacted again.
  const held = mkdtempSync(path.join(run.work, 'held-'));
  try {
    const competitors = await mapLimit(parquet, 4, async (key) => {
      const file = path.join(held, path.basename(key));
      const res = await deps.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      writeFileSync(file, await res.Body!.transformToByteArray());
      return file;
    });
    for (const chunk of chunkBySize(pending, deps.targetBytes ?? DEFAULT_TARGET_BYTES)) {
      const written = await compactChunk(run, dir, chunk, competitors, held);
      if (written) competitors.push(written);
    }
  } finally {
    rmSync(held, { recursive: true, force: true });
  }
}

/** JSONL keys already inside the given Parquet objects, from their manifests. */
async function coveredSources(deps: CompactDeps, parquet: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  await mapLimit(parquet, 8, async (key) => {
    const manifest = await getJsonOrNull<Manifest>(deps.s3, deps.buckets.lake, manifestKey(key));
    if (!manifest)
      throw new CompactionError(
        'manifest_missing',
        `Compacted object ${key} has no manifest ${manifestKey(key)}; restore it or delete the object after checking its rows.`,
      );
    for (const s of manifest.sources) out.add(s);
  });
  return out;
}

/** Compacts one chunk; returns where it kept a copy of the Parquet object it wrote (in `keep`), if it wrote one. */
async function compactChunk(
  run: Run,
  dir: string,
  chunk: _Object[],
  competitors: string[],
  keep: string,
): Promise<string | undefined> {
  const { deps, t, result } = run;
  const bucket = deps.buckets.lake;
  const root = mkdtempSync(path.join(run.work, 'chunk-'));
  // The objects keep their keys under the scratch root, so the same view SQL reads them with their partitions.
  const layout: LocalObjectLayout = { bucketDir: () => root, suffix: '' };
  const fileOf = (key: string) => path.join(root, key);
  const out = path.join(root, 'out.parquet');
  const c = await run.db.connect();
  try {
    const etags = new Map<string, string>();
    await mapLimit(chunk, 8, async (o) => {
      mkdirSync(path.dirname(fileOf(o.Key!)), { recursive: true });
      const res = await deps.s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }));
      writeFileSync(fileOf(o.Key!), await res.Body!.transformToByteArray());
      etags.set(o.Key!, res.ETag ?? '');
    });
    const all = objectGlob(t, layout, t.prefix, '.jsonl.gz');
    let included = chunk;
    let copied: Copied;
    try {
      copied = await copyToParquet(c, t, layout, all, out, competitors);
    } catch (err) {
      // Which objects does DuckDB refuse on their own? Those stay out (or are repaired); the rest is compacted.
      const refused = new Map<string, string>();
      for (const o of chunk) {
        const e = await refusal(c, t, layout, fileOf(o.Key!));
        if (e !== undefined) refused.set(o.Key!, e);
      }
      if (!refused.size) throw err;
      const repaired = new Set<string>();
      for (const [key, error] of refused) {
        const quarantined = run.options.quarantineUnreadable
          ? await repairObject(run, c, layout, key, etags.get(key)!, error)
          : undefined;
        result.unreadable.push({
          table: t.name,
          key,
          error: cleanFileError(error, root),
          ...(quarantined !== undefined ? { quarantined } : {}),
        });
        if (quarantined === undefined) rmSync(fileOf(key));
        else {
          repaired.add(key);
          result.quarantined += quarantined;
        }
      }
      included = chunk.filter((o) => !refused.has(o.Key!) || repaired.has(o.Key!));
      if (!included.length) return undefined;
      copied = await copyToParquet(c, t, layout, all, out, competitors);
    }
    const sources = included.map((o) => o.Key!);
    const parquetKey = `${t.compactedPrefix}${dir}part-${createHash('sha256').update(sources.join('\n')).digest('hex').slice(0, 20)}.parquet`;
    const { rows, duplicates } = copied;
    if (rows === 0) {
      // Nothing to keep (every row a later copy of an event already compacted, or quarantined): no empty Parquet object.
      await deleteOrThrow(deps.s3, bucket, sources);
      result.sourceObjects += sources.length;
      result.duplicates += duplicates;
      return undefined;
    }
    const manifest: Manifest = { parquet: parquetKey, sources, rows, duplicates, createdAt: new Date().toISOString() };
    // Manifest first: a Parquet object without one would leave a later run unable to tell what it covers.
    await putJson(deps.s3, bucket, manifestKey(parquetKey), manifest);
    await deps.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: parquetKey,
        Body: readFileSync(out),
        ContentType: 'application/vnd.apache.parquet',
      }),
    );
    await deps.afterWrite?.(parquetKey);
    await deleteOrThrow(deps.s3, bucket, sources);
    result.parquetObjects++;
    result.sourceObjects += sources.length;
    result.rows += rows;
    result.duplicates += duplicates;
    result.bytesIn += included.reduce((a, o) => a + (o.Size ?? 0), 0);
    result.bytesOut += statSync(out).size;
    const kept = path.join(keep, path.basename(parquetKey));
    copyFileSync(out, kept);
    return kept;
  } catch (err) {
    if (err instanceof CompactionError) throw err;
    throw new CompactionError(
      'compact_failed',
      `Compacting ${t.name} ${dir} (${chunk.length} objects) failed: ${cleanFileError(errorMessage(err), root)}. Run compaction again; it resumes where it stopped.`,
      { cause: err },
    );
  } finally {
    c.closeSync();
    rmSync(root, { recursive: true, force: true });
  }
}

/** Consecutive groups of objects whose sizes add up to at most `target` (a single larger object is its own group). */
export function chunkBySize<T extends { Size?: number }>(objects: T[], target: number): T[][] {
  return chunkConsecutive(objects, (o) => o.Size ?? 0, target);
}

async function deleteOrThrow(s3: S3Client, bucket: string, keys: string[]): Promise<void> {
  const failed = await deleteKeys(s3, bucket, keys);
  if (failed.length)
    throw new CompactionError(
      'delete_failed',
      `Could not delete ${failed.length} compacted objects (first: ${failed[0]!.key}: ${failed[0]!.message}); run compaction again.`,
    );
}
