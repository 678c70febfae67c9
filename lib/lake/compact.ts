import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand, type S3Client, type _Object } from '@aws-sdk/client-s3';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { deleteKeys, getJsonOrNull, lostConditionalWrite, putJson } from '../aws/s3.ts';
import {
  SOURCE_COLUMN,
  dedupeRank,
  dedupeRanksFirst,
  partitionValuesOf,
  type Catalog,
  type TableDef,
} from '../catalog/catalog.ts';
import { duckRawSelect, objectGlob, type LocalObjectLayout } from '../catalog/duckdb.ts';
import { quoteIdent, quoteString } from '../catalog/types.ts';
import { TributaryError, errorMessage } from '../errors.ts';
import { logger, recordCompaction } from '../observability.ts';
import { deterministicId } from '../ids.ts';
import { quarantineObjects, quarantineRecord, type QuarantineRecord } from '../quarantine/record.ts';
import { listAll } from '../aws/s3.ts';
import { manifestKey } from './partition.ts';
import { mapLimit } from '../util/concurrency.ts';

/** Errors of the compactor. */
export class CompactionError extends TributaryError {}

export interface CompactDeps {
  s3: S3Client;
  catalog: Catalog;
  /** The quarantine bucket is needed only to quarantine unreadable lines (`quarantineUnreadable`). */
  buckets: { lake: string; quarantine?: string };
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
  /** The run's clock: the default cut-off and the time a repair quarantines at. */
  now?: Date;
  /**
   * Repair: move the lines of unreadable objects that DuckDB cannot read into the quarantine (stage `lake-writer`,
   * reason `malformed_json`, source `compactor`), from where they are fixed and re-driven, rewrite those objects
   * without them and compact them with the rest.
   */
  quarantineUnreadable?: boolean;
  onProgress?: (p: { table: string; partition: string; done: number; total: number }) => void;
}

/** A partition-hour whose compaction failed (S3, scratch space, a missing manifest …); the next run tries it again. */
export interface CompactFailure {
  table: string;
  partition: string;
  error: string;
}

/** A JSONL object DuckDB cannot read: left as it is (and reported every run) until it is repaired. */
export interface UnreadableObject {
  table: string;
  key: string;
  /** DuckDB's error for the object on its own. */
  error: string;
  /** Lines moved to the quarantine by a `quarantineUnreadable` run (the object was then compacted). */
  quarantined?: number;
}

export interface CompactResult {
  before: string;
  /** Partition-hours that held JSONL objects before the cut-off. */
  partitions: number;
  /** JSONL objects turned into Parquet (and deleted). */
  sourceObjects: number;
  parquetObjects: number;
  rows: number;
  /** Rows left out as copies of an event that another row ranks before (see the tables' dedupe rule). */
  duplicates: number;
  bytesIn: number;
  bytesOut: number;
  /** JSONL objects a Parquet object already covered (left behind by an interrupted run) that were deleted now. */
  resumed: number;
  /** Unreadable lines moved to the quarantine (only with `quarantineUnreadable`). */
  quarantined: number;
  failed: CompactFailure[];
  /** Objects left as JSONL because DuckDB cannot read them; their partition's other objects were compacted. */
  unreadable: UnreadableObject[];
  ms: number;
}

interface Manifest {
  parquet: string;
  sources: string[];
  rows?: number;
  /** Rows of the sources left out as copies of an event another row ranks before. */
  duplicates?: number;
  createdAt: string;
}

/**
 * What a repair decided for one unreadable object, written before anything is quarantined so an interrupted repair
 * writes the same quarantine object again (same key, same records) instead of a second copy.
 */
interface RepairMarker {
  key: string;
  quarantinedAt: string;
  /** 1-based numbers of the lines DuckDB cannot read, with its error for each. */
  lines: { line: number; error: string }[];
}

export const DEFAULT_TARGET_BYTES = 128 * 1024 * 1024;
const HOUR_RE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}$/;

/** Where a repair records which lines of a JSONL object it quarantines (kept: the record of the repair). */
export function repairMarkerKey(jsonlKey: string): string {
  return `_tributary/compaction/unreadable/${jsonlKey}.json`;
}

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

interface Run {
  deps: CompactDeps;
  options: CompactOptions;
  db: DuckDBInstance;
  t: TableDef;
  work: string;
  result: CompactResult;
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

interface Copied {
  /** Rows written. */
  rows: number;
  /** Rows read but not written: copies of an event that another copy (in the chunk or in `competitors`) ranks before. */
  duplicates: number;
}

/**
 * Writes the rows of the JSONL files matching `glob` as one Parquet file sorted by event time, one row per event under
 * the table's dedupe rule: among the chunk's copies of an event the first-ranked, and none where a row of the Parquet
 * files `competitors` (the same partition-hour, so the same partition values) ranks at or before it.
 */
async function copyToParquet(
  c: DuckDBConnection,
  t: TableDef,
  layout: LocalObjectLayout,
  glob: string,
  to: string,
  competitors: string[] = [],
): Promise<Copied> {
  const cols = [...t.columns.map((col) => `r.${quoteIdent(col.name)}`), `r._key AS ${quoteIdent(SOURCE_COLUMN)}`];
  // The rows once, in a temporary table: counting them and sorting them for the COPY both need them all anyway.
  await c.run(`CREATE OR REPLACE TEMP TABLE _rows AS ${duckRawSelect(t, layout, glob)}`);
  try {
    const read = Number((await c.runAndReadAll('SELECT count(*) FROM _rows')).getRows()[0]![0]);
    const rule = t.dedupe;
    let filter = '';
    if (rule && competitors.length) {
      const held = `read_parquet([${competitors.map(quoteString).join(', ')}], hive_partitioning = false)`;
      filter = ` WHERE NOT EXISTS (SELECT 1 FROM ${held} h WHERE h.${quoteIdent(rule.key)} = r.${quoteIdent(rule.key)} AND ${dedupeRanksFirst(rule, { alias: 'h', source: SOURCE_COLUMN }, { alias: 'r', source: '_key' })})`;
    }
    const qualify = rule ? ` QUALIFY ${dedupeRank(rule, '_key')} = 1` : '';
    // COPY answers with the number of rows it wrote.
    const copied = await c.runAndReadAll(
      `COPY (SELECT ${cols.join(', ')} FROM _rows r${filter}${qualify} ORDER BY r.${quoteIdent(t.timeColumn)}, r._key) TO ${quoteString(to)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`,
    );
    const rows = Number(copied.getRows()[0]![0]);
    return { rows, duplicates: read - rows };
  } finally {
    await c.run('DROP TABLE IF EXISTS _rows');
  }
}

/**
 * DuckDB's refusal to read a JSONL file as the table (every column converted, nothing written), or undefined when it
 * reads. Only refusals caused by the bytes count; any other failure (memory, scratch space) is thrown.
 */
async function refusal(
  c: DuckDBConnection,
  t: TableDef,
  layout: LocalObjectLayout,
  file: string,
): Promise<string | undefined> {
  const cols = t.columns.map((col) => quoteIdent(col.name)).join(', ');
  try {
    await c.runAndReadAll(`SELECT count(hash(${cols})) FROM (${duckRawSelect(t, layout, file)})`);
    return undefined;
  } catch (err) {
    const message = errorMessage(err);
    if (/^(Invalid Input|Conversion) Error/.test(message) || /not a GZIP stream/i.test(message)) return message;
    throw err;
  }
}

/**
 * Repairs an unreadable object in place: finds the lines DuckDB cannot read (halving the lines until each refused part
 * is one line, asking DuckDB itself each time), quarantines them, and writes the object again without them (same
 * key), so queries of its day read again and compaction goes on. Returns the number of lines quarantined, or
 * undefined when the object cannot be split into lines DuckDB reads.
 *
 * Exactly once: the decision (lines, quarantine time) is recorded in a marker before anything is written — by the first
 * repair only (`If-None-Match`), and kept as the record of the repair — and the quarantine object's key and content
 * follow from the marker, so a repair that stops anywhere, or runs beside another, writes the same quarantine object
 * again, never a second one. The lake object is rewritten only after its lines are in the quarantine, and only over
 * the bytes that were read (`If-Match`).
 */
async function repairObject(
  run: Run,
  c: DuckDBConnection,
  layout: LocalObjectLayout,
  key: string,
  etag: string,
  error: string,
): Promise<number | undefined> {
  const { deps, t } = run;
  const root = layout.bucketDir('lake');
  const file = path.join(root, key);
  let lines: Buffer[];
  try {
    lines = splitLines(gunzipSync(readFileSync(file)));
  } catch {
    return undefined; // Not gzip at all: there are no lines to tell apart; it stays reported as unreadable.
  }
  const gzipOf = (idx: number[]) => gzipSync(Buffer.concat(idx.flatMap((i) => [lines[i]!, NL])));
  const readAs = (idx: number[]) => {
    writeFileSync(file, gzipOf(idx));
    return refusal(c, t, layout, file);
  };
  const every = lines.map((_, i) => i);
  const markerKey = repairMarkerKey(key);
  let marker = await getJsonOrNull<RepairMarker>(deps.s3, deps.buckets.lake, markerKey);
  if (!marker) {
    const bad: RepairMarker['lines'] = [];
    const bisect = async (idx: number[], known?: string): Promise<void> => {
      const e = known ?? (await readAs(idx));
      if (e === undefined) return;
      if (idx.length === 1) {
        bad.push({ line: idx[0]! + 1, error: cleanFileError(e, root) });
        return;
      }
      const half = Math.ceil(idx.length / 2);
      await bisect(idx.slice(0, half));
      await bisect(idx.slice(half));
    };
    await bisect(every, error);
    if (!bad.length) return undefined;
    const mine: RepairMarker = { key, quarantinedAt: (run.options.now ?? new Date()).toISOString(), lines: bad };
    // Only the first repair decides: a concurrent one that decided first has its marker used instead.
    try {
      await deps.s3.send(
        new PutObjectCommand({
          Bucket: deps.buckets.lake,
          Key: markerKey,
          Body: JSON.stringify(mine),
          ContentType: 'application/json',
          IfNoneMatch: '*',
        }),
      );
      marker = mine;
    } catch (err) {
      if (!lostConditionalWrite(err)) throw err;
      marker = await getJsonOrNull<RepairMarker>(deps.s3, deps.buckets.lake, markerKey);
      if (!marker) throw new CompactionError('repair_race', `Another run is repairing ${key}; run compaction again.`);
    }
  }
  const removed = new Set(marker.lines.map((l) => l.line - 1));
  const kept = every.filter((i) => !removed.has(i));
  if ((await readAs(kept)) !== undefined) return undefined;
  const unique = `compactor-${createHash('sha256').update(key).digest('hex').slice(0, 20)}`;
  for (const o of quarantineObjects(repairRecords(marker, lines), 'lake-writer', unique)) {
    await deps.s3.send(
      new PutObjectCommand({
        Bucket: deps.buckets.quarantine!,
        Key: o.key,
        Body: o.body,
        ContentType: 'application/x-ndjson',
        ContentEncoding: 'gzip',
      }),
    );
  }
  // Only over the object as it was read: a run that repaired it (or compacted it away) first wins.
  try {
    await deps.s3.send(
      new PutObjectCommand({
        Bucket: deps.buckets.lake,
        Key: key,
        Body: gzipOf(kept),
        ContentType: 'application/x-ndjson',
        ContentEncoding: 'gzip',
        IfMatch: etag,
      }),
    );
  } catch (err) {
    if (lostConditionalWrite(err))
      throw new CompactionError('repair_race', `Another run repaired ${key} first; run compaction again.`);
    throw err;
  }
  return marker.lines.length;
}

/** The quarantine records of a repair: one per unreadable line, the line's bytes as the payload. */
function repairRecords(marker: RepairMarker, lines: Buffer[]): QuarantineRecord[] {
  return marker.lines.map(({ line, error }) => {
    const raw = lines[line - 1]!;
    let env: { type?: unknown; v?: unknown; received_at?: unknown } = {};
    try {
      // JavaScript reads a lone surrogate where DuckDB does not: the envelope's fields are still known.
      env = JSON.parse(raw.toString('utf8')) as typeof env;
    } catch {
      /* not JSON at all: the payload is all there is */
    }
    const receivedAt =
      typeof env.received_at === 'string' && !Number.isNaN(Date.parse(env.received_at))
        ? new Date(env.received_at).toISOString()
        : marker.quarantinedAt;
    return quarantineRecord({
      id: deterministicId('compactor', marker.key, String(line)),
      stage: 'lake-writer',
      reason: 'malformed_json',
      errors: [
        {
          path: '/',
          keyword: 'unreadable',
          message: `Line ${line} of lake object ${marker.key} cannot be read by the query engine (${error}); fix the event and re-drive it.`,
        },
      ],
      ...(typeof env.type === 'string' ? { type: env.type } : {}),
      ...(typeof env.v === 'number' ? { v: env.v } : {}),
      receivedAt,
      quarantinedAt: marker.quarantinedAt,
      payload: raw,
      source: 'compactor',
    });
  });
}

const NL = Buffer.from('\n');

function splitLines(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, start)) {
    out.push(buf.subarray(start, i));
    start = i + 1;
  }
  if (start < buf.length) out.push(buf.subarray(start));
  return out;
}

/** DuckDB names the scratch copy of an object; say the object's key instead, and drop the SQL it quotes. */
function cleanFileError(message: string, root: string): string {
  return message
    .split(`${root}${path.sep}`)
    .join('')
    .replace(/\n\nLINE \d+:[\s\S]*$/, '')
    .trim();
}

/** Unreadable objects a run left behind (not the ones it repaired). */
export function leftUnreadable(result: CompactResult): UnreadableObject[] {
  return result.unreadable.filter((u) => u.quarantined === undefined);
}

/**
 * Logs and counts what a run left behind (failed partition-hours, unreadable objects) and returns the error the
 * scheduled compactor fails with then, so its invocation errors and alarm; undefined when the run left nothing behind.
 */
export function reportCompaction(result: CompactResult): CompactionError | undefined {
  const unreadable = leftUnreadable(result);
  recordCompaction({
    partitions: result.partitions,
    rows: result.rows,
    failed: result.failed.length,
    unreadable: unreadable.length,
  });
  for (const f of result.failed)
    logger.error('compaction of a partition-hour failed; the next run tries it again', { ...f });
  for (const u of unreadable)
    logger.error(
      'lake object DuckDB cannot read left as JSONL; run `tributary compact --quarantine-unreadable` to quarantine its unreadable lines',
      { ...u },
    );
  if (!result.failed.length && !unreadable.length) return undefined;
  return new CompactionError(
    'compaction_incomplete',
    `Compaction before ${result.before} left ${result.failed.length} partition-hours uncompacted and ${unreadable.length} unreadable objects as JSONL ` +
      `(first: ${result.failed[0] ? `${result.failed[0].table} ${result.failed[0].partition}: ${result.failed[0].error}` : `${unreadable[0]!.key}: ${unreadable[0]!.error}`}); every other partition-hour was compacted.`,
  );
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
  if (failed.length)
    throw new CompactionError(
      'delete_failed',
      `Could not delete ${failed.length} compacted objects (first: ${failed[0]!.key}: ${failed[0]!.message}); run compaction again.`,
    );
}
