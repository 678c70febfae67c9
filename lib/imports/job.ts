import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { listAllShards } from '../aws/kinesis.ts';
import { downloadToFile, getJsonOrNull, putJson } from '../aws/s3.ts';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { newId } from '../ids.ts';
import { quarantineRecord } from '../quarantine/record.ts';
import { writeQuarantine } from '../quarantine/write.ts';
import { aggregate, type HashRange } from '../stream/aggregate.ts';
import { type PutOptions, putRecordsReliably } from '../stream/put-records.ts';
import { compareSeq } from '../stream/records.ts';
import { computeDelta } from './delta.ts';
import {
  ExportRefusedError,
  ImportPublishError,
  ImportSnapshotError,
  TableChangedError,
  UnknownTableError,
} from './errors.ts';
import { deleteGuard, deleteGuardLimit } from './guard.ts';
import { ensureImportTable } from './apply.ts';
import { changesType, opRecord, opsQuery, oversizedOps } from './ops.ts';
import type { ImportCounts, ImportFile, ImportRegistry, Lease } from './registry.ts';
import { checkTableDef, type TableDef, type TableRegistry } from './tables.ts';

/*
 * The import job: takes a table's lease, then imports its queued exports one after another in version order —
 * download, delta against the last published snapshot, checks, delete guard; then the operations, the snapshot and
 * the definition saved in the lake and the file *committed*; then the operations onto the stream and the file
 * published. Until it is committed a file may still fail, be refused or held, and nothing of it has left. Once it is
 * committed it is only ever resumed from what it saved — never recomputed, failed or held — so whatever reached the
 * stream belongs to the file that ends published, and the table's next base is exactly what was sent.
 *
 * Exactly once: publishing records after each round how many operations (in the delta's `__seq` order) are on the
 * stream (packed into aggregates, lib/stream/aggregate.ts), so a job that stops — a crash, its deadline, a stream that kept refusing — is finished by the next one,
 * which sends only the rest; an operation's envelope is the same bytes whoever sends it (its id and times are fixed by
 * the export), so the operations of a round sent twice are one row in the lake and one change in Postgres. The
 * lease is renewed all along the run and right before each round; a job that lost it stops at its next step, and its
 * fenced writes change nothing. A stale job's round already in flight can only repeat operations of the committed
 * file the new holder resumes: the same bytes again.
 */

/** Where an import's Parquet snapshot lives in the lake: the base of the table's next delta. */
export const snapshotKey = (f: Pick<ImportFile, 'tenant' | 'table' | 'version' | 'id'>): string =>
  `imports/${f.table}/snapshots/tenant=${f.tenant}/version=${f.version}/${f.id}.parquet`;

/** Where a committed import's operations and the definition they were computed with are kept, beside its snapshot. */
export const opsKey = (f: Pick<ImportFile, 'tenant' | 'table' | 'version' | 'id'>): string =>
  snapshotKey(f).replace(/\.parquet$/, '.ops.parquet');
export const definitionKey = (f: Pick<ImportFile, 'tenant' | 'table' | 'version' | 'id'>): string =>
  snapshotKey(f).replace(/\.parquet$/, `/${f.table}.json`);

/** Renews a lease every `everyMs` until stopped; `lost` once a renewal says it is gone (or cannot be made). */
class Heartbeat {
  lost = false;
  readonly #timer: NodeJS.Timeout;

  constructor(renew: () => Promise<boolean>, everyMs: number) {
    this.#timer = setInterval(() => {
      renew().then(
        (ok) => {
          if (!ok) this.lost = true;
        },
        // A renewal that could not be made (the database unreachable) is tried again next beat; the fenced steps
        // decide whether the lease still holds.
        () => {},
      );
    }, everyMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/**
 * Operations per round (default): a round is packed into aggregates (lib/stream/aggregate.ts), sent in as few
 * PutRecords calls as the limits allow, and recorded as one step of progress, so a crash repeats at most one round.
 * Safe for order: an export has one operation per key, and versions order a key's operations across exports.
 */
const ROUND_OPS = 10_000;

export interface ImportJobDeps {
  registry: ImportRegistry;
  tables: TableRegistry;
  s3: S3Client;
  buckets: { imports: string; lake: string; quarantine: string };
  kinesis: KinesisClient;
  streamName: string;
  /** How long a lease lasts unrenewed; a put round's deadline is a third of it. Default 60 s. */
  leaseMs?: number;
  /** Delete guard limit (default TRIBUTARY_IMPORT_DELETE_GUARD, else 0.2). */
  deleteGuard?: number;
  workDir?: string;
  put?: Omit<PutOptions, 'deadlineMs'>;
  /** Operations per round, one step of progress (default 10,000). */
  roundOps?: number;
  /** Called after each published round (tests stop a job there). */
  onChunk?: (file: ImportFile, published: number) => void | Promise<void>;
}

/** How a run of a table's queue ended. */
export interface TableRunResult {
  /** Files this run finished (published, held, refused or failed), in the order it took them. */
  done: ImportFile[];
  /** Another job holds the table: it imports the queue. */
  busy?: boolean;
  /** The run stopped at its deadline, or lost its lease, with work left: run it again. */
  more?: boolean;
}

type Step = 'done' | 'lost' | 'deadline';

/** Runs the import of tables' queued exports (see the module comment). */
export class ImportJob {
  readonly #leaseMs: number;

  constructor(private readonly deps: ImportJobDeps) {
    this.#leaseMs = deps.leaseMs ?? 60_000;
  }

  /**
   * Imports the table's queue until it is empty, the deadline (epoch ms) passes, or the lease is lost. One holder id
   * per run: two runs never share a lease.
   */
  async runTable(tenant: string, table: string, options: { deadline?: number } = {}): Promise<TableRunResult> {
    const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
    const holder = `${os.hostname()}:${process.pid}:${newId()}`;
    const lease = await this.deps.registry.acquire(tenant, table, holder, this.#leaseMs);
    if (!lease) return { done: [], busy: true };
    const done: ImportFile[] = [];
    try {
      for (let f = await this.deps.registry.next(lease); f; f = await this.deps.registry.next(lease)) {
        if (Date.now() >= deadline) return { done, more: true };
        const step = await this.#import(lease, f, deadline);
        if (step !== 'done') return { done, more: true };
        done.push(await this.deps.registry.get(f.id));
      }
      return { done };
    } finally {
      // Giving the lease back early is a courtesy (it expires anyway): never let it hide the run's result or error.
      await this.deps.registry.release(lease).catch(() => {});
    }
  }

  async #import(lease: Lease, f: ImportFile, deadline: number): Promise<Step> {
    const { registry } = this.deps;
    if (!(await registry.transition(lease, f.id, 'running'))) return 'lost';
    // The lease is renewed all along (a large download or delta outlasts it), and the run stops once it is lost.
    const beat = new Heartbeat(() => registry.renew(lease, this.#leaseMs), this.#leaseMs / 3);
    const work = path.join(this.deps.workDir ?? os.tmpdir(), `tributary-import-${f.id}-${lease.fence}`);
    let db: DuckDBInstance | undefined;
    let conn: DuckDBConnection | undefined;
    try {
      mkdirSync(work, { recursive: true });
      // Spill to the work directory (the working directory is read-only in Lambda).
      db = await DuckDBInstance.create(':memory:', { threads: '2', temp_directory: path.join(work, 'duckdb.tmp') });
      conn = await db.connect();
      const committed = f.committedAt
        ? await this.#committed(f, work)
        : await this.#prepare(conn, lease, f, work, deadline, beat);
      if (!committed || typeof committed === 'string') return committed ?? 'done';
      if (beat.lost) return 'lost';
      const step = await this.#publish(conn, lease, f, committed.def, committed.opsFile, deadline, beat);
      if (step !== 'done') return step;
      const counts = (await registry.get(f.id)).counts!;
      return (await registry.markPublished(lease, f.id, snapshotKey(f), counts)) ? 'done' : 'lost';
    } finally {
      beat.stop();
      try {
        conn?.closeSync();
        db?.closeSync();
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    }
  }

  /**
   * Everything before publishing, for a file not committed yet: download, delta, checks, delete guard; then the
   * operations, snapshot and definition saved in the lake and the file committed. Returns the step that ended it
   * (failed, refused, held: 'done'), or what to publish.
   */
  async #prepare(
    conn: DuckDBConnection,
    lease: Lease,
    f: ImportFile,
    work: string,
    deadline: number,
    beat: Heartbeat,
  ): Promise<Step | { def: TableDef; opsFile: string }> {
    const { registry } = this.deps;
    const end = async (status: 'failed' | 'refused' | 'held', fields: Parameters<ImportRegistry['transition']>[3]) =>
      (await registry.transition(lease, f.id, status, fields)) ? 'done' : 'lost';
    let def: TableDef;
    try {
      def = this.deps.tables.get(f.table);
      // The target table must take this definition's rows (its columns and key), or nothing is published.
      await ensureImportTable(this.deps.registry.pool, def);
    } catch (err) {
      if (err instanceof UnknownTableError || err instanceof TableChangedError)
        return end('failed', { error: err.message });
      throw err;
    }
    if (Date.now() >= deadline) return 'deadline';
    const exportFile = path.join(work, 'export');
    const got = await this.#download(this.deps.buckets.imports, f.key, exportFile);
    if (!got)
      return end('failed', { error: `${f.key} no longer exists in the imports bucket; drop the export again.` });
    if (got.etag !== f.etag) {
      const step = await end('failed', {
        error: `The object at ${f.key} changed after this file was dropped (ETag ${got.etag}, registered ${f.etag}); the new object is imported as a file of its own.`,
      });
      // Its own registration may have been refused while this one held the version: queue it now.
      if (step === 'done') await registry.register({ key: f.key, etag: got.etag, size: got.size });
      return step;
    }
    const base = await registry.published(f.tenant, f.table);
    let previous: string | undefined;
    if (base) {
      previous = path.join(work, 'previous.parquet');
      if (!(await this.#download(this.deps.buckets.lake, base.snapshotKey, previous)))
        throw new ImportSnapshotError(
          `The snapshot of ${f.tenant}/${f.table} version ${base.version} (${base.snapshotKey} in the lake) is missing, so the delta has no base. Restore it from the lake bucket's versions or backups; the import waits (running) until then.`,
        );
    }
    if (beat.lost) return 'lost';
    let delta: Awaited<ReturnType<typeof computeDelta>>;
    try {
      delta = await computeDelta(conn, { def, next: exportFile, previous, workDir: work });
      const big = await oversizedOps(conn, def, delta.opsFile, f);
      if (big.total)
        throw new ExportRefusedError(
          `${big.total} operation${big.total === 1 ? ' is' : 's are'} larger than a stream record may be (1 MiB); nothing was imported. Such rows cannot travel on the stream: shorten them in the source, or split the wide column into a table of its own.`,
          big.first.map((b) => ({ problem: `key ${b.key}: ${b.bytes.toLocaleString('en-US')} bytes of data` })),
          big.total,
        );
    } catch (err) {
      if (err instanceof ExportRefusedError) {
        await this.#quarantineBadRows(f, err);
        return end('refused', { error: err.message, badRows: err.badRows });
      }
      if (err instanceof TableChangedError) return end('failed', { error: err.message });
      throw err;
    }
    const counts: ImportCounts = {
      ...delta.ops,
      unchanged: delta.unchanged,
      rows: delta.rows,
      base: base?.version ?? '',
    };
    const guard = deleteGuard(delta, this.deps.deleteGuard ?? deleteGuardLimit());
    // An approval is of the delta that was held: the same base and the same deletes (a version published in between
    // makes it another delta, held again if it deletes too much).
    const approved = !!f.decidedBy && f.counts?.base === counts.base && f.counts?.delete === counts.delete;
    if (guard.hold && !approved) return end('held', { error: guard.reason, counts });
    if (beat.lost) return 'lost';
    // Saved before the first operation is sent: a resumed run publishes exactly these, whatever changed since.
    await Promise.all([
      this.#upload(snapshotKey(f), delta.snapshot, 'application/vnd.apache.parquet'),
      this.#upload(opsKey(f), delta.opsFile, 'application/vnd.apache.parquet'),
      putJson(this.deps.s3, this.deps.buckets.lake, definitionKey(f), def),
    ]);
    if (!(await registry.commit(lease, f.id, counts))) return 'lost';
    return { def, opsFile: delta.opsFile };
  }

  /** A committed file's operations and definition, as they were saved in the lake. */
  async #committed(f: ImportFile, work: string): Promise<{ def: TableDef; opsFile: string }> {
    const opsFile = path.join(work, 'ops.parquet');
    const [ops, definition] = await Promise.all([
      this.#download(this.deps.buckets.lake, opsKey(f), opsFile),
      getJsonOrNull<unknown>(this.deps.s3, this.deps.buckets.lake, definitionKey(f)),
    ]);
    if (!ops || !definition)
      throw new ImportSnapshotError(
        `Import ${f.id} began publishing, but what it saved in the lake (${opsKey(f)}, ${definitionKey(f)}) is missing; restore it from the lake bucket's versions or backups. The import waits (running) until then.`,
      );
    return { def: checkTableDef(definition, definitionKey(f)), opsFile };
  }

  /**
   * One object from a file. Read whole: a Parquet snapshot of a million rows is tens of MB (a stream body would be
   * sent aws-chunked, which the local S3 does not read); a single PUT takes up to 5 GB.
   */
  async #upload(key: string, file: string, contentType: string): Promise<void> {
    await this.deps.s3.send(
      new PutObjectCommand({
        Bucket: this.deps.buckets.lake,
        Key: key,
        Body: readFileSync(file),
        ContentType: contentType,
      }),
    );
  }

  /** Sends the operations after the ones already on the stream, a round at a time under a freshly renewed lease. */
  async #publish(
    conn: DuckDBConnection,
    lease: Lease,
    f: ImportFile,
    def: TableDef,
    opsFile: string,
    deadline: number,
    beat: Heartbeat,
  ): Promise<Step> {
    const { registry } = this.deps;
    const fresh = await registry.get(f.id);
    let sent = fresh.publishedOps;
    const result = await conn.stream(
      `SELECT key, data FROM (${opsQuery(def, opsFile, f)}) WHERE seq > ${sent} ORDER BY seq`,
    );
    // Where each shard's hash keys go, so an aggregate only holds operations of one shard (read once per run: a
    // reshard in between only puts some keys' operations on another shard, which versions make harmless).
    const ranges: HashRange[] = (await listAllShards(this.deps.kinesis, this.deps.streamName))
      .filter((x) => !x.SequenceNumberRange?.EndingSequenceNumber && x.HashKeyRange)
      .map((x) => ({
        shardId: x.ShardId!,
        start: BigInt(x.HashKeyRange!.StartingHashKey!),
        end: BigInt(x.HashKeyRange!.EndingHashKey!),
      }));
    let pending: { key: string; data: string }[] = [];
    const roundOps = this.deps.roundOps ?? ROUND_OPS;
    const flush = async (): Promise<Step> => {
      if (!pending.length) return 'done';
      if (Date.now() >= deadline) return 'deadline';
      if (beat.lost || !(await registry.renew(lease, this.#leaseMs))) return 'lost';
      const records = aggregate(
        pending.map((p) => {
          const r = opRecord(f, p.key, p.data);
          return { partitionKey: r.partitionKey, text: r.text };
        }),
        ranges,
        // The type the applier's mapping lets through (lib/stream/mappings.ts).
        changesType(f.table),
      );
      const outcomes = await putRecordsReliably(
        this.deps.kinesis,
        this.deps.streamName,
        records.map((r) => ({ data: r.data, partitionKey: r.partitionKey, explicitHashKey: r.explicitHashKey })),
        { ...this.deps.put, deadlineMs: Math.floor(this.#leaseMs / 3) },
      );
      // Where this round's operations landed: the highest sequence number per shard.
      const round: Record<string, string> = {};
      for (const o of outcomes)
        if (o.ok && (round[o.shardId] === undefined || compareSeq(o.sequenceNumber, round[o.shardId]!) > 0))
          round[o.shardId] = o.sequenceNumber;
      const failed = outcomes.flatMap((o, i) => (o.ok ? [] : [{ o, ops: records[i]!.items.length }]));
      if (failed.length) {
        const first = failed[0]!.o as Extract<(typeof outcomes)[number], { ok: false }>;
        const refused = failed.reduce((n, x) => n + x.ops, 0);
        throw new ImportPublishError(
          `The stream refused ${refused} of ${pending.length} operations of import ${f.id} after retries (${first.errorCode}: ${first.errorMessage}); the ${sent.toLocaleString('en-US')} before them are on the stream. Run the import again to send the rest (\`tributary import show ${f.id}\`).`,
        );
      }
      sent += pending.length;
      pending = [];
      if (!(await registry.progress(lease, f.id, sent, round))) return 'lost';
      await this.deps.onChunk?.(f, sent);
      return 'done';
    };
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      for (const [key, data] of chunk.getRows()) {
        pending.push({ key: String(key), data: String(data) });
        if (pending.length >= roundOps) {
          const step = await flush();
          if (step !== 'done') return step;
        }
      }
    }
    return flush();
  }

  /** The object into `file`; undefined when it does not exist. */
  #download(bucket: string, key: string, file: string): ReturnType<typeof downloadToFile> {
    return downloadToFile(this.deps.s3, bucket, key, file);
  }

  /**
   * The refused export's bad rows, in the quarantine (stage `import`, reason `export_refused`) so operators see them
   * beside every other refusal. Named by the file: a retried refusal overwrites its own object.
   */
  async #quarantineBadRows(f: ImportFile, err: ExportRefusedError): Promise<void> {
    if (!err.badRows.length) return;
    const at = new Date().toISOString();
    const records = err.badRows.map((b) =>
      quarantineRecord({
        id: `${f.id}-${b.line ?? `row${b.row}`}`,
        stage: 'import',
        reason: 'export_refused',
        errors: [
          {
            path: b.line !== undefined ? `/line/${b.line}` : `/row/${b.row}`,
            keyword: 'export_refused',
            message: `${f.key}: ${b.problem}`,
          },
        ],
        receivedAt: f.registeredAt,
        quarantinedAt: at,
        payload: Buffer.from(b.text ?? b.problem),
        source: 'import',
      }),
    );
    await writeQuarantine(this.deps.s3, this.deps.buckets.quarantine, records, 'import', f.id);
  }
}
