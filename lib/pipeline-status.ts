import { DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, type S3Client, type _Object } from '@aws-sdk/client-s3';
import { getJsonOrNull, listAll, putJson, readJsonl } from './aws/s3.ts';
import { listAllShards } from './aws/kinesis.ts';
import { errorMessage } from './errors.ts';
import { manifestKey } from './layout/partition.ts';
import { mapLimit } from './util/concurrency.ts';
import type { TributaryConfig } from './config.ts';
import type { QuarantineTotals } from './quarantine/quarantine-index.ts';

export interface PipelineStatus {
  stream: { name: string; status: string; shards: { id: string; open: boolean; parent?: string }[]; error?: string };
  lake: {
    objects: number;
    bytes: number;
    rows: number;
    byType: Record<string, { objects: number; bytes: number; rows: number; partitions: number }>;
  };
  quarantine: QuarantineTotals;
  onFailure: { objects: number; records: number };
}

export interface InventoryDeps {
  config: Pick<TributaryConfig, 'streamName' | 'buckets'>;
  kinesis: KinesisClient;
  s3: S3Client;
  /** The quarantine's totals, from its index (lib/quarantine/quarantine-index.ts), which reads each object once. */
  quarantineTotals: () => Promise<QuarantineTotals>;
  /**
   * Where the counts of the objects already read are kept for the next process (a restart, another console instance,
   * a Lambda cold start), so it reads only what was written since instead of every object of the lake.
   */
  cache?: { bucket: string; key: string };
}

/** The counts cache: per object its key, the ETag its count was read at, and the count. */
interface CountsFile {
  version: 1;
  rows: [string, string, number][];
  manifests: [string, string, { sources: string[]; rows: number }][];
  failures: [string, string, number][];
}

/** The key of the counts cache in the athena-results bucket (console state, like saved views). */
export const INVENTORY_CACHE_KEY = 'inventory/pipeline-counts.json';

/** At most one cache write per this long: under traffic every refresh reads a few new objects. */
const CACHE_WRITE_MS = 60_000;

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isEntry = (e: unknown, value: (v: unknown) => boolean): e is [string, string, never] =>
  Array.isArray(e) && e.length === 3 && typeof e[0] === 'string' && typeof e[1] === 'string' && value(e[2]);
const isManifest = (v: unknown): boolean =>
  !!v &&
  typeof v === 'object' &&
  isCount((v as { rows?: unknown }).rows) &&
  Array.isArray((v as { sources?: unknown }).sources) &&
  (v as { sources: unknown[] }).sources.every((x) => typeof x === 'string');

/** A counts file as written by {@link PipelineInventory}, or undefined for anything else (then it is rebuilt). */
function parseCounts(v: unknown): CountsFile | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const f = v as Partial<CountsFile>;
  if (f.version !== 1 || !Array.isArray(f.rows) || !Array.isArray(f.manifests) || !Array.isArray(f.failures))
    return undefined;
  if (!f.rows.every((e) => isEntry(e, isCount)) || !f.failures.every((e) => isEntry(e, isCount))) return undefined;
  if (!f.manifests.every((e) => isEntry(e, isManifest))) return undefined;
  return f as CountsFile;
}

/** What was read from one object, kept while the listing shows the same ETag (a rewrite shows a new one). */
type Seen<T> = Map<string, { etag: string; value: T }>;

/**
 * Reads `read(key)` for the listed objects not seen with the same ETag before, and forgets objects no longer listed:
 * a refresh costs the listing plus the objects that are new or rewritten since the last one.
 */
async function readNew<T>(
  seen: Seen<T>,
  objects: _Object[],
  read: (key: string) => Promise<T>,
  onRead?: (n: number) => void,
): Promise<T[]> {
  const listed = new Set(objects.map((o) => o.Key!));
  for (const key of seen.keys()) if (!listed.has(key)) seen.delete(key);
  const fresh = objects.filter((o) => seen.get(o.Key!)?.etag !== o.ETag);
  await mapLimit(fresh, 16, async (o) => {
    seen.set(o.Key!, { etag: o.ETag ?? '', value: await read(o.Key!) });
  });
  onRead?.(fresh.length);
  return objects.map((o) => seen.get(o.Key!)!.value);
}

/**
 * What the pipeline holds: stream shards, lake objects, bytes, rows and partitions per type, quarantined records per
 * stage, reason and type, and on-failure batches. Exact: rows are counted in the objects, not estimated. It keeps
 * what it has counted, so a refresh lists the buckets and reads only what was written since; a long-running process
 * (the console) keeps one and answers every render from it (`maxAgeMs`), a one-off one (`tributary status`) reads
 * everything once.
 */
export class PipelineInventory {
  readonly #rows: Seen<number> = new Map();
  readonly #manifests: Seen<{ sources: string[]; rows: number }> = new Map();
  readonly #failures: Seen<number> = new Map();
  #last?: { at: number; status: Promise<PipelineStatus> };
  #loaded?: Promise<void>;
  /** Objects read since the cache was last written. */
  #unsaved = 0;
  #savedAt = 0;

  constructor(readonly deps: InventoryDeps) {}

  readonly #counted = (n: number): void => {
    this.#unsaved += n;
  };

  /**
   * The status, reusing one read at most `maxAgeMs` old; callers arriving during a read share it.
   *
   * @example
   * const status = await sharedPipelineInventory().status(5_000);
   */
  status(maxAgeMs = 0): Promise<PipelineStatus> {
    const last = this.#last;
    if (last && maxAgeMs > 0 && Date.now() - last.at <= maxAgeMs) return last.status;
    const status = this.#read();
    this.#last = { at: Date.now(), status };
    status.catch(() => {
      if (this.#last?.status === status) this.#last = undefined;
    });
    return status;
  }

  async #read(): Promise<PipelineStatus> {
    await (this.#loaded ??= this.#loadCache());
    const [stream, lake, quarantine, onFailure] = await Promise.all([
      this.#stream(),
      this.#lake(),
      this.deps.quarantineTotals(),
      this.#onFailure(),
    ]);
    await this.#saveCache();
    return { stream, lake, quarantine, onFailure };
  }

  /**
   * Starts from the counts another process saved. Safe whatever the file holds: a count is used only for an object
   * listed with the same ETag (objects are immutable; a rewrite has a new ETag), and a file of any other shape, or
   * none, is ignored and rebuilt.
   */
  async #loadCache(): Promise<void> {
    const cache = this.deps.cache;
    if (!cache) return;
    let file: CountsFile | undefined;
    try {
      file = parseCounts(await getJsonOrNull(this.deps.s3, cache.bucket, cache.key));
    } catch {
      // Unreadable (not JSON, or S3 refused): counted from the objects, as without a cache.
      return;
    }
    if (!file) return;
    for (const [key, etag, value] of file.rows) this.#rows.set(key, { etag, value });
    for (const [key, etag, value] of file.manifests) this.#manifests.set(key, { etag, value });
    for (const [key, etag, value] of file.failures) this.#failures.set(key, { etag, value });
  }

  /**
   * Saves the counts when objects were read since the last save (the first read at once, then at most once a minute).
   * Several instances write the same facts; whichever write lands last, every count in it is right for its ETag.
   */
  async #saveCache(): Promise<void> {
    const cache = this.deps.cache;
    if (!cache || this.#unsaved === 0 || (this.#savedAt && Date.now() - this.#savedAt < CACHE_WRITE_MS)) return;
    const entries = <T>(seen: Seen<T>) => [...seen].map(([k, v]) => [k, v.etag, v.value] as [string, string, T]);
    const file: CountsFile = {
      version: 1,
      rows: entries(this.#rows),
      manifests: entries(this.#manifests),
      failures: entries(this.#failures),
    };
    const unsaved = this.#unsaved;
    try {
      await putJson(this.deps.s3, cache.bucket, cache.key, file);
      this.#unsaved -= unsaved;
      this.#savedAt = Date.now();
    } catch {
      // A cache that could not be written costs the next process a re-read, never a wrong count.
    }
  }

  async #stream(): Promise<PipelineStatus['stream']> {
    const { kinesis, config } = this.deps;
    const stream: PipelineStatus['stream'] = { name: config.streamName, status: 'UNKNOWN', shards: [] };
    try {
      const sum = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: config.streamName }));
      stream.status = sum.StreamDescriptionSummary?.StreamStatus ?? 'UNKNOWN';
      stream.shards = (await listAllShards(kinesis, config.streamName)).map((s) => ({
        id: s.ShardId!,
        open: !s.SequenceNumberRange?.EndingSequenceNumber,
        ...(s.ParentShardId ? { parent: s.ParentShardId } : {}),
      }));
    } catch (err) {
      stream.error = errorMessage(err);
    }
    return stream;
  }

  async #lake(): Promise<PipelineStatus['lake']> {
    const { s3, config } = this.deps;
    const bucket = config.buckets.lake;
    // Compacted hours are Parquet objects whose manifests list the JSONL objects they replaced and their row counts;
    // JSONL objects still listed there (an interrupted compaction) are hidden from queries, so they are not counted.
    const compacted = (await listAll(s3, bucket, 'compacted/')).filter((o) => o.Key!.endsWith('.parquet'));
    const manifests = await readNew(
      this.#manifests,
      compacted,
      async (key) => {
        const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: manifestKey(key) }));
        return JSON.parse(await res.Body!.transformToString()) as { sources: string[]; rows: number };
      },
      this.#counted,
    );
    const covered = new Set(manifests.flatMap((m) => m.sources));
    const jsonl = (await listAll(s3, bucket, 'events/')).filter(
      (o) => o.Key!.endsWith('.jsonl.gz') && !covered.has(o.Key!),
    );
    const rows = await readNew(
      this.#rows,
      jsonl,
      async (key) => (await readJsonl(s3, bucket, key)).length,
      this.#counted,
    );
    const objects = [...jsonl, ...compacted];
    rows.push(...manifests.map((m) => m.rows));
    const lake: PipelineStatus['lake'] = { objects: objects.length, bytes: 0, rows: 0, byType: {} };
    const partitions = new Map<string, Set<string>>();
    objects.forEach((o, i) => {
      const type = o.Key!.split('/')[1]!;
      const t = (lake.byType[type] ??= { objects: 0, bytes: 0, rows: 0, partitions: 0 });
      t.objects++;
      t.bytes += o.Size ?? 0;
      t.rows += rows[i]!;
      lake.bytes += o.Size ?? 0;
      lake.rows += rows[i]!;
      const set = partitions.get(type) ?? new Set<string>();
      // A partition is the same whether its objects are JSONL (events/) or compacted Parquet (compacted/).
      set.add(o.Key!.slice(o.Key!.indexOf('/') + 1, o.Key!.lastIndexOf('/')));
      partitions.set(type, set);
    });
    for (const [type, set] of partitions) lake.byType[type]!.partitions = set.size;
    return lake;
  }

  async #onFailure(): Promise<PipelineStatus['onFailure']> {
    const { s3, config } = this.deps;
    const bucket = config.buckets.quarantine;
    const objects = await listAll(s3, bucket, 'aws/lambda/');
    const sizes = await readNew(
      this.#failures,
      objects,
      async (key) => {
        const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const body = JSON.parse(await res.Body!.transformToString()) as { KinesisBatchInfo?: { batchSize?: number } };
        return body.KinesisBatchInfo?.batchSize ?? 0;
      },
      this.#counted,
    );
    return { objects: objects.length, records: sizes.reduce((a, b) => a + b, 0) };
  }
}
