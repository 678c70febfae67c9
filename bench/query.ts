/**
 * Lake query layout benchmark: 30 days of the three event types written as the lake writer writes them, then a
 * one-day query on (a) unpartitioned JSON, (b) partitioned JSON and (c) partitioned Parquet after the real compactor
 * ran, each on the local DuckDB engine. Bytes are what each layout makes a reader open (what Athena bills), times are
 * medians; compaction throughput is reported against a plain DuckDB JSONL → Parquet conversion of the same files.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { awsClients } from '../lib/aws/clients.ts';
import { Catalog } from '../lib/catalog/catalog.ts';
import { duckViewSql, s3rverLayout, type PresentFiles } from '../lib/catalog/duckdb.ts';
import { duckType, quoteString } from '../lib/catalog/types.ts';
import type { Envelope } from '../lib/envelope.ts';
import { compactLake } from '../lib/compact/compact.ts';
import { lakeObjectName, lakePrefix } from '../lib/layout/partition.ts';
import { syntheticEvents } from '../lib/produce/synthetic.ts';
import { defaultRegistry } from '../lib/registry/registry.ts';
import { queryService } from '../lib/composition.ts';
import { listAll } from '../lib/aws/s3.ts';
import { mapLimit } from '../lib/util/concurrency.ts';
import { median, now, progress, QUICK, startBenchRuntime } from './util.ts';

export interface LayoutFigure {
  bytes: number;
  objects: number;
  ms: number;
  rows: number;
  /** Bytes the engine itself reported scanning. */
  engineBytes: number;
}

export interface QueryBenchResult {
  days: number;
  eventsPerDay: Record<string, number>;
  events: number;
  day: string;
  query: string;
  unpartitionedJson: LayoutFigure;
  partitionedJson: LayoutFigure;
  partitionedParquet: LayoutFigure;
  /** Bytes of the Parquet column chunks the query reads plus footers (what Athena bills for Parquet). */
  parquetColumnBytes: number;
  bytesRatioPartitionedJson: number;
  /** Whole Parquet objects / unpartitioned JSON. */
  bytesRatioParquet: number;
  /** Parquet column chunks read / unpartitioned JSON: the figure the ≤ 2 % target is about. */
  bytesRatioParquetColumns: number;
  timeRatioParquet: number;
  target: number;
  compaction: {
    rows: number;
    seconds: number;
    rowsPerSec: number;
    partitionHoursPerSec: number;
    baselineRowsPerSec: number;
    ratio: number;
    bytesIn: number;
    bytesOut: number;
    parquetObjects: number;
    sourceObjects: number;
  };
  objectsPerPartitionHour: { before: number; after: number };
  resultsEqual: boolean;
  /** The one-row-per-event rule: each query on each layout through the table's view, against the same view without it. */
  dedupe: DedupeFigure[];
}

/** One query on one layout, through the view with the dedupe rule and without it, measured in the same run. */
export interface DedupeFigure {
  layout: 'partitioned JSON' | 'partitioned Parquet';
  filter: string;
  ms: number;
  msWithout: number;
  /** Bytes the engine read (from DuckDB's profile). */
  bytes: number;
  bytesWithout: number;
  timeRatio: number;
  sameRows: boolean;
}

const DAY_MS = 86_400_000;
const START = Date.UTC(2026, 0, 1);
const TYPES = ['transactions', 'taxi_trips', 'clickstream'] as const;
/** Records per lake object: the lake writer writes one object per partition per batch, so an hour holds several. */
const RECORDS_PER_OBJECT = 40;

function envelopes(type: (typeof TYPES)[number], count: number, days: number): Envelope[] {
  const reg = defaultRegistry().get(type);
  const out: Envelope[] = [];
  let i = 0;
  for (const e of syntheticEvents(type, count, { seed: 11 })) {
    const v = e.value as Record<string, unknown>;
    const ms = START + Math.floor((i++ * days * DAY_MS) / count);
    const iso = new Date(ms).toISOString();
    if (type === 'transactions') v.trans_date_trans_time = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
    if (type === 'taxi_trips') v.TIMESTAMP = Math.floor(ms / 1000);
    out.push({ id: String(reg.getId!(v)), type, v: 1, received_at: iso, event_time: iso, source: 'producer', data: v });
  }
  return out;
}

/**
 * The lake as the lake writer would leave it (gzip level 1, an object per ~40 records of a partition-hour), plus the
 * same envelopes unpartitioned: one object per day's worth of lines, all in one prefix.
 */
export function benchObjects(
  perDay: Record<(typeof TYPES)[number], number>,
  days: number,
): { events: number; puts: { key: string; body: Buffer }[] } {
  let events = 0;
  const puts: { key: string; body: Buffer }[] = [];
  for (const type of TYPES) {
    const envs = envelopes(type, perDay[type] * days, days);
    events += envs.length;
    const t = defaultRegistry().get(type);
    const groups = new Map<string, string[]>();
    for (const e of envs) {
      const prefix = lakePrefix(
        type,
        e.event_time,
        t.partitions.map((p) => ({ name: p.name, value: p.get(e.data) })),
      );
      const list = groups.get(prefix);
      const line = JSON.stringify(e);
      if (list) list.push(line);
      else groups.set(prefix, [line]);
    }
    let seq = 0;
    for (const [prefix, lines] of groups) {
      for (let i = 0; i < lines.length; i += RECORDS_PER_OBJECT) {
        seq++;
        puts.push({
          key: `${prefix}/${lakeObjectName('shardId-000000000000', String(seq * 1000), String(seq * 1000 + RECORDS_PER_OBJECT))}`,
          body: gzipSync(`${lines.slice(i, i + RECORDS_PER_OBJECT).join('\n')}\n`, { level: 1 }),
        });
      }
    }
    const flat = envs.map((e) => JSON.stringify(e));
    for (let d = 0; d < days; d++) {
      puts.push({
        key: `flat/${type}/part-${String(d).padStart(3, '0')}.jsonl.gz`,
        body: gzipSync(`${flat.slice(d * perDay[type], (d + 1) * perDay[type]).join('\n')}\n`, { level: 1 }),
      });
    }
  }
  return { events, puts };
}

export async function runQueryBench(): Promise<QueryBenchResult> {
  const days = 30;
  // An hour of a moderate pipeline: 200 transactions, 50 taxi trips (long polylines), 100 clicks over 8 sections.
  const perDay = QUICK
    ? { transactions: 480, taxi_trips: 120, clickstream: 240 }
    : { transactions: 4800, taxi_trips: 1200, clickstream: 2400 };
  const { rt, dataDir } = await startBenchRuntime('query', { consumers: false, apiKey: 'bench' });
  const { s3 } = awsClients(rt.config);
  const lake = rt.config.buckets.lake;
  const svc = queryService(rt.config, { maxUnfilteredScanBytes: Number.MAX_SAFE_INTEGER, rowLimit: 10_000 });
  try {
    const { events, puts } = benchObjects(perDay, days);
    progress(`query: writing ${puts.length} objects (${events} events)`);
    await mapLimit(puts, 16, (p) => s3.send(new PutObjectCommand({ Bucket: lake, Key: p.key, Body: p.body })));

    const day = new Date(START + 14 * DAY_MS).toISOString().slice(0, 10);
    const next = new Date(START + 15 * DAY_MS).toISOString().slice(0, 10);
    const query = `SELECT category, count(*) AS n, round(sum(amt), 2) AS amount FROM transactions WHERE dt = '${day}' GROUP BY category ORDER BY category`;
    const catalog = new Catalog(defaultRegistry());
    const tx = catalog.table('transactions');
    const flatGlob = path.join(dataDir, 's3', lake, 'flat', 'transactions', '*.jsonl.gz._S3rver_object');
    const columns = `{${tx.rawColumns.map((c) => `${quoteString(c.key)}: ${quoteString(duckType(c.type))}`).join(', ')}}`;
    const flatQuery =
      `SELECT data.category AS category, count(*) AS n, round(sum(data.amt), 2) AS amount FROM read_json(${quoteString(flatGlob)}, format = 'newline_delimited', compression = 'gzip', columns = ${columns}) ` +
      `WHERE event_time >= '${day}' AND event_time < '${next}' GROUP BY 1 ORDER BY 1`;

    const sizeOf = async (prefix: string) => {
      const objs = await listAll(s3, lake, prefix);
      return { bytes: objs.reduce((a, o) => a + (o.Size ?? 0), 0), objects: objs.length };
    };
    const measure = async (
      sql: string,
      files: { bytes: number; objects: number },
    ): Promise<LayoutFigure & { result: unknown }> => {
      const times: number[] = [];
      let last: Awaited<ReturnType<typeof svc.run>> | undefined;
      for (let i = 0; i < (QUICK ? 3 : 7); i++) {
        const t0 = now();
        last = await svc.run({ sql, allowFullScan: true });
        times.push(now() - t0);
      }
      return {
        ...files,
        ms: median(times),
        rows: last!.rows.length,
        engineBytes: last!.info.bytesScanned,
        result: last!.rows,
      };
    };

    // The rule's cost: the same queries on the same view SQL without the window (a CTE named like the table takes
    // the view's place), for the day filter every query needs and for a day-and-hour filter, which the per-day rule
    // applies after the window.
    const layout = s3rverLayout(dataDir, rt.config.buckets);
    const filters = [`dt = '${day}'`, `dt = '${day}' AND hour = 12`];
    const dedupe: DedupeFigure[] = [];
    const measureRule = async (name: DedupeFigure['layout'], present: PresentFiles) => {
      for (const filter of filters) {
        const sql = `SELECT category, count(*) AS n, round(sum(amt), 2) AS amount FROM transactions WHERE ${filter} GROUP BY category ORDER BY category`;
        const withRule = await measure(sql, { bytes: 0, objects: 0 });
        const without = await measure(
          `WITH transactions AS (${duckViewSql(tx, layout, present, { dedupe: false })})\n${sql}`,
          { bytes: 0, objects: 0 },
        );
        dedupe.push({
          layout: name,
          filter,
          ms: withRule.ms,
          msWithout: without.ms,
          bytes: withRule.engineBytes,
          bytesWithout: without.engineBytes,
          timeRatio: withRule.ms / without.ms,
          sameRows: JSON.stringify(withRule.result) === JSON.stringify(without.result),
        });
      }
    };

    progress('query: (a) unpartitioned JSON, (b) partitioned JSON');
    const a = await measure(flatQuery, await sizeOf('flat/transactions/'));
    const b = await measure(query, await sizeOf(`events/transactions/dt=${day}/`));
    await measureRule('partitioned JSON', { raw: true, compacted: false });
    const hoursBefore = new Set(
      puts.filter((p) => p.key.startsWith('events/')).map((p) => p.key.slice(0, p.key.lastIndexOf('/'))),
    ).size;
    const objectsBefore = puts.filter((p) => p.key.startsWith('events/')).length;

    // Baseline for compaction: DuckDB alone doing the same per-hour rewrite of one day of transactions from local
    // files (one COPY per partition-hour, one at a time), without S3, manifests or deletes.
    const baseline = await (async () => {
      const db = await DuckDBInstance.create(':memory:', { threads: '2' });
      const conn = await db.connect();
      let rows = 0;
      const t0 = now();
      for (let h = 0; h < 24; h++) {
        const out = path.join(dataDir, `baseline-${h}.parquet`);
        const glob = path.join(
          dataDir,
          's3',
          lake,
          'events',
          'transactions',
          `dt=${day}`,
          `hour=${String(h).padStart(2, '0')}`,
          '*._S3rver_object',
        );
        await conn.run(
          `COPY (SELECT * FROM read_json(${quoteString(glob)}, format = 'newline_delimited', compression = 'gzip', columns = ${columns}) ORDER BY event_time) TO ${quoteString(out)} (FORMAT parquet, COMPRESSION zstd)`,
        );
        rows += Number(
          (await conn.runAndReadAll(`SELECT count(*) FROM read_parquet(${quoteString(out)})`)).getRows()[0]![0],
        );
      }
      const ms = now() - t0;
      conn.closeSync();
      db.closeSync();
      return (rows / ms) * 1000;
    })();

    progress('query: compacting every partition-hour');
    const t0 = now();
    const compacted = await compactLake({ s3, catalog, buckets: { lake } }, { before: '2030-01-01T00' });
    const seconds = (now() - t0) / 1000;
    const hoursAfter = (await listAll(s3, lake, 'compacted/')).length;

    progress('query: (c) partitioned Parquet');
    const c = await measure(query, await sizeOf(`compacted/transactions/dt=${day}/`));
    await measureRule('partitioned Parquet', { raw: false, compacted: true });
    // Athena bills Parquet by the column chunks it reads, not whole objects: the query's columns plus each footer.
    const columnBytes = await (async () => {
      const db = await DuckDBInstance.create(':memory:');
      const conn = await db.connect();
      const glob = path.join(
        dataDir,
        's3',
        lake,
        'compacted',
        'transactions',
        `dt=${day}`,
        '*',
        '*.parquet._S3rver_object',
      );
      const r = await conn.runAndReadAll(
        `SELECT sum(total_compressed_size) FILTER (WHERE path_in_schema IN ('category', 'amt'))::BIGINT, sum(total_compressed_size)::BIGINT FROM parquet_metadata(${quoteString(glob)})`,
      );
      conn.closeSync();
      db.closeSync();
      const [read, chunks] = r.getRows()[0]!.map(Number) as [number, number];
      return read + (c.bytes - chunks);
    })();
    const rowsPerSec = compacted.rows / seconds;
    return {
      days,
      eventsPerDay: perDay,
      events,
      day,
      query,
      unpartitionedJson: strip(a),
      partitionedJson: strip(b),
      partitionedParquet: strip(c),
      parquetColumnBytes: columnBytes,
      bytesRatioPartitionedJson: b.bytes / a.bytes,
      bytesRatioParquet: c.bytes / a.bytes,
      bytesRatioParquetColumns: columnBytes / a.bytes,
      timeRatioParquet: c.ms / a.ms,
      target: 0.02,
      compaction: {
        rows: compacted.rows,
        seconds,
        rowsPerSec,
        partitionHoursPerSec: compacted.partitions / seconds,
        baselineRowsPerSec: baseline,
        ratio: rowsPerSec / baseline,
        bytesIn: compacted.bytesIn,
        bytesOut: compacted.bytesOut,
        parquetObjects: compacted.parquetObjects,
        sourceObjects: compacted.sourceObjects,
      },
      objectsPerPartitionHour: { before: objectsBefore / hoursBefore, after: hoursAfter / hoursBefore },
      resultsEqual:
        JSON.stringify(a.result) === JSON.stringify(b.result) && JSON.stringify(b.result) === JSON.stringify(c.result),
      dedupe,
    };
  } finally {
    await svc.deps.engine.close();
    await rt.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function strip(f: LayoutFigure & { result: unknown }): LayoutFigure {
  const { result: _result, ...rest } = f;
  return rest;
}
