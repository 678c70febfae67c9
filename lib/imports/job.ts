import { createWriteStream, mkdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, type GetObjectCommandOutput, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { newId } from '../ids.ts';
import { quarantineRecord } from '../quarantine/record.ts';
import { writeQuarantine } from '../quarantine/write.ts';
import { type PutOptions, putRecordsReliably } from '../stream/put-records.ts';
import { computeDelta } from './delta.ts';
import {
  ExportRefusedError,
  ImportPublishError,
  ImportSnapshotError,
  TableChangedError,
  UnknownTableError,
} from './errors.ts';
import { deleteGuard, deleteGuardLimit } from './guard.ts';
import { opRecord, opsQuery } from './ops.ts';
import type { ImportCounts, ImportFile, ImportRegistry, Lease } from './registry.ts';
import type { TableRegistry } from './tables.ts';

/*
 * The import job: takes a table's lease, then imports its queued exports one after another in version order —
 * download, delta against the last published snapshot, delete guard, snapshot into the lake, operations onto the
 * stream, published. It is resumable: every step before publishing is deterministic and repeatable (the same file and
 * the same base give the same delta), and publishing records after each chunk how many operations are on the stream,
 * so a job that stops — a crash, its deadline, a stream that kept refusing — is finished by the next one, which
 * sends only the rest. Exactly once: an operation's envelope is the same bytes whoever sends it (its id and times are
 * fixed by the export), so the few operations of a chunk sent twice are one row in the lake and one change in
 * Postgres. A job that lost its lease stops at its next fenced step, and sends a chunk only right after renewing the
 * lease, with a put deadline well inside it, so it never publishes while another job holds the table.
 */

/** Where an import's Parquet snapshot lives in the lake: the base of the table's next delta. */
export const snapshotKey = (f: Pick<ImportFile, 'tenant' | 'table' | 'version' | 'id'>): string =>
  `imports/${f.table}/snapshots/tenant=${f.tenant}/version=${f.version}/${f.id}.parquet`;

/** Operations per PutRecords round (and per progress record). */
const CHUNK = 500;

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
  /** Called after each published chunk (tests stop a job there; the CLI shows progress). */
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
      await this.deps.registry.release(lease);
    }
  }

  async #import(lease: Lease, f: ImportFile, deadline: number): Promise<Step> {
    const { registry } = this.deps;
    let def: ReturnType<TableRegistry['get']>;
    try {
      def = this.deps.tables.get(f.table);
    } catch (err) {
      if (!(err instanceof UnknownTableError)) throw err;
      return (await registry.transition(lease, f.id, 'failed', { error: err.message })) ? 'done' : 'lost';
    }
    if (!(await registry.transition(lease, f.id, 'running'))) return 'lost';
    const work = path.join(this.deps.workDir ?? os.tmpdir(), `tributary-import-${f.id}-${lease.fence}`);
    mkdirSync(work, { recursive: true });
    const db = await DuckDBInstance.create(':memory:', { threads: '2' });
    const conn = await db.connect();
    try {
      const exportFile = path.join(work, 'export');
      const got = await this.#download(this.deps.buckets.imports, f.key, exportFile);
      if (!got)
        return (await registry.transition(lease, f.id, 'failed', {
          error: `${f.key} no longer exists in the imports bucket; drop the export again.`,
        }))
          ? 'done'
          : 'lost';
      if (got.etag !== f.etag)
        return (await registry.transition(lease, f.id, 'failed', {
          error: `The object at ${f.key} changed after this file was dropped (ETag ${got.etag}, registered ${f.etag}); the new object is imported as a file of its own.`,
        }))
          ? 'done'
          : 'lost';
      const base = await registry.published(f.tenant, f.table);
      let previous: string | undefined;
      if (base) {
        previous = path.join(work, 'previous.parquet');
        if (!(await this.#download(this.deps.buckets.lake, base.snapshotKey, previous)))
          throw new ImportSnapshotError(
            `The snapshot of ${f.tenant}/${f.table} version ${base.version} (${base.snapshotKey} in the lake) is missing, so the delta has no base. Restore it from the lake bucket's versions or backups; the import stays queued.`,
          );
      }
      let delta: Awaited<ReturnType<typeof computeDelta>>;
      try {
        delta = await computeDelta(conn, { def, next: exportFile, previous, workDir: work });
      } catch (err) {
        if (err instanceof ExportRefusedError) {
          await this.#quarantineBadRows(f, err);
          return (await registry.transition(lease, f.id, 'refused', { error: err.message, badRows: err.badRows }))
            ? 'done'
            : 'lost';
        }
        if (err instanceof TableChangedError)
          return (await registry.transition(lease, f.id, 'failed', { error: err.message })) ? 'done' : 'lost';
        throw err;
      }
      const counts: ImportCounts = { ...delta.ops, unchanged: delta.unchanged, rows: delta.rows };
      const guard = deleteGuard(delta, this.deps.deleteGuard ?? deleteGuardLimit());
      if (guard.hold && !f.decidedBy)
        return (await registry.transition(lease, f.id, 'held', { error: guard.reason, counts })) ? 'done' : 'lost';
      const key = snapshotKey(f);
      await this.deps.s3.send(
        new PutObjectCommand({
          Bucket: this.deps.buckets.lake,
          Key: key,
          Body: readFileSync(delta.snapshot),
          ContentType: 'application/vnd.apache.parquet',
        }),
      );
      const step = await this.#publish(conn, lease, f, def, delta.opsFile, deadline);
      if (step !== 'done') return step;
      return (await registry.markPublished(lease, f.id, key, counts)) ? 'done' : 'lost';
    } finally {
      conn.closeSync();
      db.closeSync();
      rmSync(work, { recursive: true, force: true });
    }
  }

  /** Sends the operations after the ones already on the stream, a chunk at a time under a freshly renewed lease. */
  async #publish(
    conn: DuckDBConnection,
    lease: Lease,
    f: ImportFile,
    def: ReturnType<TableRegistry['get']>,
    opsFile: string,
    deadline: number,
  ): Promise<Step> {
    const { registry } = this.deps;
    const fresh = await registry.get(f.id);
    let sent = fresh.publishedOps;
    const result = await conn.stream(`${opsQuery(def, opsFile, f)} OFFSET ${sent}`);
    let pending: { key: string; data: string }[] = [];
    const flush = async (): Promise<Step> => {
      if (!pending.length) return 'done';
      if (Date.now() >= deadline) return 'deadline';
      if (!(await registry.renew(lease, this.#leaseMs))) return 'lost';
      const records = pending.map((p) => opRecord(f, p.key, p.data));
      const outcomes = await putRecordsReliably(
        this.deps.kinesis,
        this.deps.streamName,
        records.map((r) => ({ data: Buffer.from(r.text), partitionKey: r.partitionKey })),
        { ...this.deps.put, deadlineMs: Math.floor(this.#leaseMs / 3) },
      );
      const failed = outcomes.filter((o) => !o.ok);
      if (failed.length) {
        const first = failed[0] as Extract<(typeof outcomes)[number], { ok: false }>;
        throw new ImportPublishError(
          `The stream refused ${failed.length} of ${records.length} operations of import ${f.id} after retries (${first.errorCode}: ${first.errorMessage}); the ${sent.toLocaleString('en-US')} before them are on the stream. Run the import again to send the rest (\`tributary import show ${f.id}\`).`,
        );
      }
      sent += pending.length;
      pending = [];
      if (!(await registry.progress(lease, f.id, sent))) return 'lost';
      await this.deps.onChunk?.(f, sent);
      return 'done';
    };
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      for (const [key, data] of chunk.getRows()) {
        pending.push({ key: String(key), data: String(data) });
        if (pending.length >= CHUNK) {
          const step = await flush();
          if (step !== 'done') return step;
        }
      }
    }
    return flush();
  }

  /** The object into `file`, streamed (exports can be large); undefined when it does not exist. */
  async #download(bucket: string, key: string, file: string): Promise<{ etag: string } | undefined> {
    let res: GetObjectCommandOutput;
    try {
      res = await this.deps.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey') return undefined;
      throw err;
    }
    await pipeline(res.Body as Readable, createWriteStream(file));
    return { etag: res.ETag ?? '' };
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
