/**
 * A first import end to end, locally: a full export of a 20-column table (the delta bench's table and values) dropped
 * in the imports bucket of a real runtime (`startDev`: kinesalite, s3rver, the import job on the bucket's
 * notifications, the applier and the lake writer on the stream, Postgres), timed from the drop to its operations all
 * on the stream (published) and all in the table (applied). The baseline is the applier's own statement
 * (lib/imports/apply.ts applyOperations, chunks of 500) on the same database, fed the same operations directly:
 * the ratio is what the stream, the job and the consumers cost on top of applying.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { awsClients } from '../lib/aws/clients.ts';
import { quoteIdent, quoteString } from '../lib/catalog/types.ts';
import { applyOperations, ensureImportTable, type ImportOperation } from '../lib/imports/apply.ts';
import { ImportRegistry, importFileId } from '../lib/imports/registry.ts';
import { metricsDir, safeReaddir } from '../lib/metrics/local-files.ts';
import { createPool } from '../lib/oltp/db.ts';
import { exportDefinition, exportValue } from './imports.ts';
import { envInt, now, progress, QUICK, sleep, startBenchRuntime } from './util.ts';

export interface ImportE2eResult {
  rows: number;
  /** Drop → every operation on the stream (the file published). */
  publishedMs: number;
  /** Drop → every operation in the Postgres table. */
  appliedMs: number;
  opsPerSec: number;
  /** Stream records the import took (aggregates) and their bytes with partition keys, from the runtime's shard metrics. */
  streamRecords: number;
  streamBytes: number;
  /** applyOperations alone on the same database, the same operations (a sample), per second. */
  baselineOpsPerSec: number;
  ratio: number;
  database: 'postgres' | 'pglite';
  target: { appliedMs: number };
}

export async function runImportE2eBench(): Promise<ImportE2eResult> {
  const rows = envInt('BENCH_IMPORT_E2E_ROWS', QUICK ? 20_000 : 1_000_000);
  const def = exportDefinition();
  const work = mkdtempSync(path.join(os.tmpdir(), 'bench-import-e2e-'));
  const tablesDir = path.join(work, 'tables');
  mkdirSync(tablesDir);
  writeFileSync(path.join(tablesDir, `${def.name}.json`), JSON.stringify(def));
  // A database of its own on the server, when there is one (else the runtime's embedded PGlite).
  const server = process.env.DATABASE_URL;
  let databaseUrl: string | undefined;
  const dbName = `tributary_bench_${process.pid}`;
  if (server) {
    const admin = new pg.Client({ connectionString: server });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${dbName}"`);
    await admin.end();
    const u = new URL(server);
    u.pathname = `/${dbName}`;
    databaseUrl = u.toString();
  }
  const savedTables = process.env.TRIBUTARY_TABLES_DIR;
  process.env.TRIBUTARY_TABLES_DIR = tablesDir;
  const { rt, dataDir } = await startBenchRuntime('import-e2e', {
    oltp: true,
    ...(databaseUrl ? { databaseUrl } : {}),
    importSweepMs: 1_000,
  });
  const url = databaseUrl ?? `postgres://postgres@127.0.0.1:${rt.config.ports.pg}/postgres`;
  const pool = createPool(url, { max: 2 });
  try {
    progress(`import e2e: writing an export of ${rows.toLocaleString('en-US')} rows x ${def.columns.length} columns`);
    const file = path.join(work, 'export.csv.gz');
    const db = await DuckDBInstance.create(':memory:', { threads: '2' });
    const conn = await db.connect();
    const cols = def.columns.slice(1).map((c) => `${exportValue(c.name, c.type, 'i')} AS ${quoteIdent(c.name)}`);
    await conn.run(
      `COPY (SELECT 'K' || i AS PK, ${cols.join(', ')} FROM range(${rows}) t(i) ORDER BY i) TO ${quoteString(file)} (FORMAT csv, DELIMITER ';', HEADER false, COMPRESSION gzip)`,
    );
    // The baseline's operations: the first 50,000 rows as inserts of another tenant.
    const sampleRows = Math.min(rows, 50_000);
    const sample = (
      await conn.runAndReadAll(`SELECT 'K' || i AS PK, ${cols.join(', ')} FROM range(${sampleRows}) t(i)`)
    ).getRowObjectsJson() as Record<string, unknown>[];
    conn.closeSync();
    db.closeSync();

    const key = `exports/bench/${def.name}/v1/export.csv.gz`;
    const body = readFileSync(file);
    const t0 = now();
    const put = await awsClients(rt.config).s3.send(
      new PutObjectCommand({ Bucket: rt.config.buckets.imports, Key: key, Body: body }),
    );
    const id = importFileId(key, put.ETag!);
    const registry = new ImportRegistry(pool);
    let publishedMs = Number.NaN;
    for (;;) {
      const f = await registry.get(id).catch(() => undefined);
      if (f && f.status !== 'queued' && f.status !== 'running') {
        if (f.status !== 'published') throw new Error(`the import ended ${f.status}: ${f.error ?? ''}`);
        publishedMs = now() - t0;
        break;
      }
      if (now() - t0 > 30 * 60_000) throw new Error('the import was not published within 30 minutes');
      await sleep(200);
    }
    progress(`import e2e: published after ${(publishedMs / 1000).toFixed(1)} s; waiting for the applier`);
    let appliedMs = Number.NaN;
    for (;;) {
      const { rows: r } = await pool
        .query<{ n: string }>(
          `SELECT count(*) AS n FROM imports.${quoteIdent(def.name)} WHERE tributary_tenant = 'bench'`,
        )
        .catch(() => ({ rows: [{ n: '0' }] }));
      if (Number(r[0]!.n) >= rows) {
        appliedMs = now() - t0;
        break;
      }
      if (now() - t0 > 60 * 60_000) throw new Error('the operations were not applied within an hour');
      await sleep(250);
    }
    progress(`import e2e: applied after ${(appliedMs / 1000).toFixed(1)} s; the baseline on ${sampleRows} rows`);
    // Nothing else puts on this runtime's stream: its shard metrics are the import's records and bytes.
    rt.metrics.flush();
    let streamRecords = 0;
    let streamBytes = 0;
    const dir = metricsDir(rt.config.dataDir);
    for (const f of safeReaddir(dir).filter((x) => x.endsWith('.jsonl')))
      for (const line of readFileSync(path.join(dir, f), 'utf8').split('\n')) {
        if (!line.trim()) continue;
        const m = (JSON.parse(line) as { shard?: string; m: Record<string, number> }).m;
        streamRecords += m.IncomingRecords ?? 0;
        streamBytes += m.IncomingBytes ?? 0;
      }
    await ensureImportTable(pool, def);
    const ops: ImportOperation[] = sample.map((row) => ({ tenant: 'baseline', version: 'v1', op: 'insert', row }));
    const b0 = now();
    for (let i = 0; i < ops.length; i += 500) await applyOperations(pool, def, ops.slice(i, i + 500));
    const baselineOpsPerSec = ops.length / ((now() - b0) / 1000);
    const opsPerSec = rows / (appliedMs / 1000);
    return {
      rows,
      publishedMs,
      appliedMs,
      opsPerSec,
      streamRecords,
      streamBytes,
      baselineOpsPerSec,
      ratio: opsPerSec / baselineOpsPerSec,
      database: databaseUrl ? 'postgres' : 'pglite',
      target: { appliedMs: 180_000 },
    };
  } finally {
    await pool.end().catch(() => {});
    await rt.stop();
    if (savedTables === undefined) delete process.env.TRIBUTARY_TABLES_DIR;
    else process.env.TRIBUTARY_TABLES_DIR = savedTables;
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
    if (server) {
      const admin = new pg.Client({ connectionString: server });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
      await admin.end();
    }
  }
}
