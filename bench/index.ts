/**
 * `npm run bench`: runs every benchmark once, in this process, and prints a table plus one final JSON line.
 * Throughputs are reported against a baseline measured in the same run (timings on a shared machine are noisy).
 * `BENCH_QUICK=1` shrinks durations and sizes for a smoke run; `BENCH_E2E_EVENTS` sets the end-to-end event count.
 */
import './env.ts';
import { ASSUMPTIONS, computeCost, PRICES, type CostResult } from './cost.ts';
import { runE2eBench, type E2eResult } from './e2e.ts';
import { runIngestBench, type IngestBenchResult } from './ingest.ts';
import { runLakeWriterBench, type LakeWriterBenchResult } from './lake-writer.ts';
import { runQueryBench, type QueryBenchResult } from './query.ts';
import { runQuarantineBench, type QuarantineBenchResult } from './quarantine.ts';
import { runOltpBench, type OltpBenchResult } from './oltp.ts';
import { runHostileBench } from './hostile.ts';
import { runImportBench, type ImportBenchResult } from './imports.ts';
import { runCompatBench, type CompatBenchResult } from './compat.ts';
import { runImportE2eBench, type ImportE2eResult } from './import-e2e.ts';
import type { HostileReport } from '../tests/integration/hostile.ts';
import { fmt, fmtInt, fmtUsd, progress, QUICK, round, table, verdict } from './util.ts';
import os from 'node:os';

function section(title: string): void {
  console.log(`\n== ${title} ${'='.repeat(Math.max(0, 100 - title.length))}`);
}

function printIngest(r: IngestBenchResult): void {
  section('1. Ingest hot path (parseBody + prepareEvents + chunkEntries), NDJSON bodies of 500 transactions');
  console.log(
    table(
      [
        ['figure', 'value', 'note'],
        [
          'avg event size',
          `${fmt(r.avgEventBytes, 0)} B`,
          `${r.avgEventBytes >= 450 && r.avgEventBytes <= 550 ? '~500 B as intended' : 'WARNING: not ~500 B'}; body ${fmt(r.avgBodyBytes / 1024, 0)} KB, ${r.events} distinct events`,
        ],
        [
          'hot path',
          `${fmtInt(r.hotEventsPerSec)} ev/s`,
          `median of ${r.rounds} rounds x ${r.roundMs} ms; ${fmt(r.hotMsPerRequest, 2)} ms CPU per 500-event request`,
        ],
        ['baseline', `${fmtInt(r.baselineEventsPerSec)} ev/s`, 'JSON.parse per line + same compiled ajv validator'],
        [
          'ratio hot/baseline',
          fmt(r.ratio, 3),
          `target >= ${r.target}: ${verdict(r.ratio >= r.target)} (median of per-round ratios ${fmt(r.medianRoundRatio, 3)})`,
        ],
      ],
      ['l', 'r', 'l'],
    ),
  );
  console.log(`rounds hot: ${r.ab.a.map(fmtInt).join(', ')} | baseline: ${r.ab.b.map(fmtInt).join(', ')}`);
}

function printLake(r: LakeWriterBenchResult): void {
  section('2. Lake writer planBatch, batches of 500 envelopes (single thread = per core)');
  console.log(
    table(
      [
        ['figure', 'value', 'note'],
        [
          'avg envelope size',
          `${fmt(r.avgEnvelopeBytes, 0)} B`,
          `${r.records} records; event times over ${r.eventHoursSpread} h -> ${fmt(r.avgObjectsPerBatch, 2)} objects per batch`,
        ],
        [
          'planBatch',
          `${fmtInt(r.planRecordsPerSec)} rec/s`,
          `target >= ${fmtInt(r.target)}: ${verdict(r.planRecordsPerSec >= r.target)}; ${fmt(r.planMsPerBatch, 2)} ms per batch`,
        ],
        [
          'baseline',
          `${fmtInt(r.baselineRecordsPerSec)} rec/s`,
          `JSON.parse per record + gzipSync level ${r.gzipLevel} of the concatenation`,
        ],
        [
          'ratio plan/baseline',
          fmt(r.ratio, 3),
          `median of per-round ratios ${fmt(r.medianRoundRatio, 3)}; gzip ratio ${fmt(r.compressionRatio, 1)}x`,
        ],
      ],
      ['l', 'r', 'l'],
    ),
  );
  console.log(`rounds plan: ${r.ab.a.map(fmtInt).join(', ')} | baseline: ${r.ab.b.map(fmtInt).join(', ')}`);
}

function printE2e(r: E2eResult): void {
  section(`3. End to end, local runtime (startDev): ${r.events} transactions, batch 500, concurrency 4`);
  const f = r.freshnessMs;
  console.log(
    table(
      [
        ['figure', 'value', 'note'],
        [
          'events accepted',
          `${r.accepted}/${r.events}`,
          `${r.rejected} rejected, ${r.failed} failed, ${r.missing} missing from the lake${r.complete ? '' : ' (INCOMPLETE)'}`,
        ],
        [
          'end to end',
          `${fmtInt(r.eventsPerSec)} ev/s`,
          `${fmt(r.seconds, 2)} s first send -> last row visible; target >= ${fmtInt(r.target.eventsPerSec)}: ${verdict(r.complete && r.eventsPerSec >= r.target.eventsPerSec)}`,
        ],
        [
          '  ingest API alone',
          `${fmtInt(r.produce.eventsPerSec)} ev/s`,
          `${fmt(r.produce.seconds, 2)} s to the last HTTP response; ${r.produce.requests} requests, ${r.produce.retries} retries`,
        ],
        [
          '  lake writer during ingest',
          `${fmtInt(r.lakeRowsPerSecDuringIngest)} rows/s`,
          `${r.rowsInLakeWhenProduced} rows visible when the producer finished; max backlog ${r.maxBacklogRows} rows`,
        ],
        [
          '  drain after last response',
          `${fmt(r.drainSeconds, 2)} s`,
          `lake writer catching up; ${fmtInt(r.cycleMsPerShard)} ms per invocation per shard over the whole run`,
        ],
        [
          'baseline raw PutRecords',
          `${fmtInt(r.baseline.recordsPerSec)} rec/s`,
          `mean of passes ${r.baseline.passes.map((p) => fmtInt(p.recordsPerSec)).join(' / ')} (before / after), ${r.baseline.passes.map((p) => p.retriedEntries).join('/')} entries re-put`,
        ],
        ['ratio e2e/baseline', fmt(r.ratio, 3), ''],
        ['freshness p50', `${fmtInt(f.p50)} ms`, 'accept (HTTP response) -> object first listed in the lake'],
        [
          'freshness p95',
          `${fmtInt(f.p95)} ms`,
          `target <= ${fmtInt(r.target.freshnessP95Ms)}: ${verdict(r.complete && f.p95 <= r.target.freshnessP95Ms)}`,
        ],
        ['freshness max', `${fmtInt(f.max)} ms`, `min ${fmtInt(f.min)}, p99 ${fmtInt(f.p99)}, mean ${fmtInt(f.mean)}`],
        [
          'lake-writer invocations',
          fmtInt(r.poller.invocations),
          `${fmt(r.poller.avgRecordsPerInvocation, 1)} records each (batchSize ${r.poller.batchSize}, window ${r.poller.maxBatchingWindowMs} ms, ${r.poller.shards} shards), ${r.poller.failures} failures`,
        ],
        [
          'lake objects',
          fmtInt(r.lake.objects),
          `${fmt(r.lake.objectsPerInvocation, 2)} per invocation, ${r.lake.partitions} partitions (event hours: ${r.eventHours}), ${fmt(r.lake.bytes / 1024 / 1024, 1)} MiB`,
        ],
        ['quarantine objects', fmtInt(r.quarantine.objects), ''],
        [
          'lake-writer handler',
          `${fmt(r.lakeWriterInvocation.meanMs, 1)} ms`,
          `mean of ${r.lakeWriterInvocation.batches} batches of ${r.lakeWriterInvocation.recordsPerBatch}: planBatch ${fmt(r.lakeWriterInvocation.planMeanMs, 1)} ms + S3/other ${fmt(r.lakeWriterInvocation.s3MeanMs, 1)} ms`,
        ],
        [
          '  S3 requests per batch',
          fmt(
            r.lakeWriterInvocation.objectsPerBatch +
              r.lakeWriterInvocation.journalPutsPerBatch +
              r.lakeWriterInvocation.journalGetsPerBatch +
              r.lakeWriterInvocation.deletesPerBatch,
            2,
          ),
          `${fmt(r.lakeWriterInvocation.objectsPerBatch, 2)} object PUT + ${fmt(r.lakeWriterInvocation.journalPutsPerBatch, 2)} journal PUT + ${fmt(r.lakeWriterInvocation.journalGetsPerBatch, 2)} journal GET + ${fmt(r.lakeWriterInvocation.deletesPerBatch, 2)} DeleteObjects, sequential`,
        ],
        [
          'CPU during the run',
          `${fmt(r.cpu.main + r.cpu.kinesalite + r.cpu.s3rver, 0)} %`,
          `of one core (${os.cpus().length} cores): this process (API + poller + lake writer + bench) ${fmt(r.cpu.main, 0)} %, kinesalite ${fmt(r.cpu.kinesalite, 0)} %, s3rver ${fmt(r.cpu.s3rver, 0)} %`,
        ],
        [
          'kinesalite GetRecords',
          `${fmtInt(r.kinesaliteGetRecords.recordsPerSec)} rec/s`,
          `${r.kinesaliteGetRecords.records} records read back, Limit 2000, ${fmt(r.kinesaliteGetRecords.meanCallMs, 0)} ms mean per call`,
        ],
        [
          's3rver PutObject',
          `${fmtInt(r.s3rverPut.putsPerSec)} PUT/s`,
          `${fmt(r.s3rverPut.objectBytes / 1024, 0)} KB objects, ${r.s3rverPut.concurrency} in flight, ${fmt(r.s3rverPut.meanMs, 1)} ms mean`,
        ],
        [
          'lake watcher',
          `${r.watcher.lists} lists`,
          `list p50 ${fmt(r.watcher.listMsP50, 1)} ms, max ${fmt(r.watcher.listMsMax, 1)} ms, ${r.watcher.reads} object reads`,
        ],
        ['runtime start-up', `${fmtInt(r.startupMs)} ms`, ''],
      ],
      ['l', 'r', 'l'],
    ),
  );
  console.log('AWS SDK calls during the run (runtime + bench watcher), latency as the caller saw it:');
  console.log(
    table([
      ['command', 'calls', 'p50 ms', 'p95 ms', 'max ms'],
      ...Object.entries(r.calls)
        .sort((a, b) => b[1].count - a[1].count)
        .map(([k, v]) => [k, String(v.count), fmt(v.p50Ms, 1), fmt(v.p95Ms, 1), fmt(v.maxMs, 1)]),
    ]),
  );
  if (r.logs.length)
    console.log(`runtime log (${r.logs.length} lines, first 10):\n  ${r.logs.slice(0, 10).join('\n  ')}`);
}

function printCost(c: CostResult): void {
  section(
    `4. AWS requests and list-price cost per ${fmtInt(c.events)} events: ours vs naive (one request/invocation/PutRecord/S3 PUT per event)`,
  );
  console.log(
    table([
      ['line item', 'ours: count', 'ours: USD', 'naive: count', 'naive: USD'],
      ...c.lines.map((l) => [l.item, fmtInt(l.oursCount), fmtUsd(l.oursUsd), fmtInt(l.naiveCount), fmtUsd(l.naiveUsd)]),
      [
        'total (billable requests / USD)',
        fmtInt(c.oursRequests),
        fmtUsd(c.oursUsd),
        fmtInt(c.naiveRequests),
        fmtUsd(c.naiveUsd),
      ],
    ]),
  );
  console.log(
    `naive/ours cost ratio: ${fmt(c.ratio, 1)}x (target >= ${c.target}x: ${verdict(c.ratio >= c.target)}); request ratio ${fmt(c.requestRatio, 1)}x`,
  );
  console.log(
    `inputs from the e2e run: ${fmt(c.inputs.requestsPerEvent * 1e3, 3)} API requests per 1k events, ${fmt(c.inputs.recordsPerLakeInvocation, 1)} records per lake-writer invocation, ` +
      `${fmt(c.inputs.lakeObjectsPerInvocation, 2)} lake objects per invocation, ${fmt(c.inputs.avgRecordBytes, 0)} B per stream record`,
  );
  for (const n of c.notes) console.log(`- ${n}`);
}

function printQuery(r: QueryBenchResult): void {
  section(
    `5. Lake layouts: ${r.days} days x 3 types (${fmtInt(r.events)} events), one-day query on the local DuckDB engine`,
  );
  const mb = (n: number) => `${fmt(n / 1024 / 1024, 2)} MiB`;
  const row = (name: string, f: QueryBenchResult['unpartitionedJson'], bytesNote: string) => [
    name,
    mb(f.bytes),
    `${fmtInt(f.objects)}`,
    `${fmt(f.ms, 0)} ms`,
    fmt(f.bytes / r.unpartitionedJson.bytes, 4),
    fmt(f.ms / r.unpartitionedJson.ms, 3),
    bytesNote,
  ];
  console.log(`query: ${r.query}`);
  console.log(
    table(
      [
        ['layout', 'bytes read', 'objects', 'time (median)', 'bytes vs (a)', 'time vs (a)', 'note'],
        row('(a) unpartitioned JSON', r.unpartitionedJson, 'every object (no partitions to prune)'),
        row(
          '(b) partitioned JSON',
          r.partitionedJson,
          `dt=${r.day} only; engine reported ${mb(r.partitionedJson.engineBytes)}`,
        ),
        row(
          '(c) partitioned Parquet',
          r.partitionedParquet,
          `whole objects; engine reported ${mb(r.partitionedParquet.engineBytes)}`,
        ),
        [
          '(c) Parquet, columns read',
          mb(r.parquetColumnBytes),
          '',
          '',
          fmt(r.bytesRatioParquetColumns, 4),
          '',
          `category + amt column chunks + footers (what Athena bills); target <= ${r.target}: ${verdict(r.bytesRatioParquetColumns <= r.target)}`,
        ],
      ],
      ['l', 'r', 'r', 'r', 'r', 'r', 'l'],
    ),
  );
  const c = r.compaction;
  console.log(
    table(
      [
        ['compaction', 'value', 'note'],
        [
          'rows/s',
          fmtInt(c.rowsPerSec),
          `${fmtInt(c.rows)} rows in ${fmt(c.seconds, 1)} s, ${fmt(c.partitionHoursPerSec, 1)} partition-hours/s, 4 at a time`,
        ],
        [
          'baseline rows/s',
          fmtInt(c.baselineRowsPerSec),
          'DuckDB alone: one COPY per partition-hour from local files, no S3',
        ],
        ['ratio', fmt(c.ratio, 3), ''],
        [
          'objects',
          `${fmtInt(c.sourceObjects)} -> ${fmtInt(c.parquetObjects)}`,
          `${mb(c.bytesIn)} gzip JSONL -> ${mb(c.bytesOut)} ZSTD Parquet`,
        ],
        [
          'objects per partition-hour',
          `${fmt(r.objectsPerPartitionHour.before, 2)} -> ${fmt(r.objectsPerPartitionHour.after, 2)}`,
          '',
        ],
        ['same result on all layouts', r.resultsEqual ? 'yes' : 'NO', ''],
      ],
      ['l', 'r', 'l'],
    ),
  );
  console.log("one row per event id and day (the views' window) against the same view without it, same run:");
  console.log(
    table(
      [
        ['layout', 'filter', 'bytes read', 'without rule', 'time (median)', 'without rule', 'time ratio', 'same rows'],
        ...r.dedupe.map((d) => [
          d.layout,
          d.filter,
          mb(d.bytes),
          mb(d.bytesWithout),
          `${fmt(d.ms, 0)} ms`,
          `${fmt(d.msWithout, 0)} ms`,
          fmt(d.timeRatio, 2),
          d.sameRows ? 'yes' : 'NO',
        ]),
      ],
      ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'l'],
    ),
  );
}

function printQuarantine(r: QuarantineBenchResult): void {
  section(
    `6. Quarantine console: ${fmtInt(r.records)} records in ${fmtInt(r.objects)} objects, list requests through the index`,
  );
  console.log(
    table(
      [
        ['list request', 'matches', 'p50', 'p95', 'max', 'SQL count (DuckDB)'],
        ...r.lists.map((l) => [
          `${l.name}${l.offset ? ` (offset ${l.offset})` : ''}`,
          fmtInt(l.total),
          `${fmt(l.p50, 1)} ms`,
          `${fmt(l.p95, 1)} ms`,
          `${fmt(l.max, 1)} ms`,
          `${fmt(l.sqlMs ?? NaN, 0)} ms`,
        ]),
      ],
      ['l', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  console.log(
    table(
      [
        ['figure', 'value', 'note'],
        [
          'list p95 (all requests)',
          `${fmt(r.p95, 1)} ms`,
          `${r.requests} requests with a 2 s re-list; target < ${r.target} ms: ${verdict(r.p95 < r.target)}`,
        ],
        [
          'baseline: SQL count',
          `${fmt(r.sqlMedianMs, 0)} ms`,
          `median over the same filters on DuckDB; ratio SQL/index ${fmt(r.ratioSqlToIndex, 1)}x`,
        ],
        [
          'cold load',
          `${fmt(r.coldLoadMs / 1000, 2)} s`,
          `list + read every object once (a console's first request); ~${fmt(r.heapMiB, 0)} MiB heap`,
        ],
        ['re-list', `${fmt(r.listMs, 1)} ms`, 'ListObjectsV2 of records/ + ledger/, nothing new to read'],
        ['write', `${fmt(r.writeSeconds, 1)} s`, 'bench set-up: PutObject of every object'],
        [
          're-drive',
          `${fmtInt(r.redrive.recordsPerSec)} rec/s`,
          `${r.redrive.records} records at rate ${r.redrive.rate}/s in ${fmt(r.redrive.seconds, 1)} s: ${r.redrive.accepted} accepted, ${r.redrive.failedAgain} failed again`,
        ],
        [
          're-drive, busiest second',
          `${fmtInt(r.redrive.maxInOneSecond)} records`,
          `by arrival time on the stream (${fmtInt(r.redrive.onStream)} records read back): ${fmt(r.redrive.ratioToRate, 3)} of the rate limit, must be <= 1: ${verdict(r.redrive.ratioToRate <= 1)}`,
        ],
      ],
      ['l', 'r', 'l'],
    ),
  );
}

function printOltp(r: OltpBenchResult): void {
  section('7. OLTP sink: synthetic transactions, 2 shards x batches of 500, vs one database transaction per event');
  console.log(
    table(
      [
        [
          'engine',
          'events',
          'sink ev/s',
          're-delivery ev/s',
          'baseline ev/s',
          'ratio',
          'rows (city/address/customer/merchant/transaction)',
          'status',
        ],
        ...r.engines.map((e) => [
          e.engine,
          fmtInt(e.events),
          fmtInt(e.eventsPerSec),
          fmtInt(e.redeliveryEventsPerSec),
          `${fmtInt(e.baselineEventsPerSec)} (${fmtInt(e.baselineEvents)})`,
          fmt(e.ratio, 1),
          `${['city', 'address', 'customer', 'merchant', 'transaction'].map((t) => fmtInt(e.rows[t] ?? 0)).join(' / ')}${e.exact ? '' : ' (NOT EXACT)'}`,
          e.engine === 'postgres'
            ? `target >= ${fmtInt(r.target)}: ${verdict(e.exact && e.eventsPerSec >= r.target)}`
            : 'embedded (tributary dev)',
        ]),
      ],
      ['l', 'r', 'r', 'r', 'r', 'r', 'l', 'l'],
    ),
  );
  if (!r.engines.some((e) => e.engine === 'postgres'))
    console.log(
      '(no DATABASE_URL: the Postgres figure needs a server, e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)',
    );
}

function printHostile(r: HostileReport): void {
  section(
    `8. Hostile requests against tributary dev: ${fmtInt(r.requests)} from seed ${r.seed}, ${r.kinds.size} kinds`,
  );
  const statuses = [...r.statuses]
    .sort(([a], [b]) => a - b)
    .map(([s, n]) => `${s || 'dropped'}: ${fmtInt(n)}`)
    .join(', ');
  console.log(
    table(
      [
        ['figure', 'value', 'note'],
        [
          'requests',
          `${fmtInt(r.requests)}`,
          `${fmt(r.sendSeconds, 1)} s, ${fmtInt(r.requests / r.sendSeconds)} req/s on one socket each, 8 in flight`,
        ],
        ['answers', statuses, 'dropped: truncated uploads (and parser refusals the client had not read yet)'],
        [
          'events',
          `${fmtInt(r.accepted)} accepted`,
          `${fmtInt(r.rejected)} rejected, ${fmtInt(r.bodies)} bodies refused into quarantine`,
        ],
        ['lake', `${fmtInt(r.lakeRows)} rows`, `complete ${fmt(r.lakeSeconds, 1)} s after the last answer`],
        [
          'quarantine',
          `${fmtInt(r.quarantined)} records`,
          `= rejected + refused bodies: ${r.quarantined === r.rejected + r.bodies ? 'yes' : 'NO'}`,
        ],
        [
          'problems',
          `${r.problems.length}`,
          `target 0 (no 5xx, no crash, exact lake and quarantine): ${verdict(r.problems.length === 0)}`,
        ],
      ],
      ['l', 'r', 'l'],
    ),
  );
  for (const p of r.problems.slice(0, 30)) console.log(`  ${p}`);
}

function printImports(r: ImportBenchResult): void {
  section(
    `9. Full-export delta: ${fmtInt(r.rows)} rows x ${r.columns} columns, 10 % changed (a third each deleted, updated, added)`,
  );
  console.log(
    table(
      [
        ['figure', 'value', 'note'],
        [
          'delta (lib/imports/delta.ts)',
          `${fmt(r.delta.ms / 1000, 2)} s`,
          `${fmtInt(r.delta.insert)} insert, ${fmtInt(r.delta.update)} update, ${fmtInt(r.delta.delete)} delete — ${r.delta.exact ? 'exact' : 'WRONG'}; target <= ${fmt(r.target.deltaMs / 1000, 0)} s: ${verdict(r.delta.exact && r.delta.ms <= r.target.deltaMs)}`,
        ],
        [
          'baseline: concatenation test',
          `${fmt(r.concat.ms / 1000, 2)} s`,
          `finds ${fmtInt(r.concat.update)} of ${fmtInt(r.truth.update)} updates (misses ${fmtInt(r.concat.missedUpdates)}: a NULL anywhere makes the concatenation NULL); reads CSV, writes nothing`,
        ],
        ['ratio delta/baseline', fmt(r.ratio, 2), `export ${fmt(r.csvBytes / 1024 / 1024, 1)} MiB of gzip CSV`],
      ],
      ['l', 'r', 'l'],
    ),
  );
}

function printCompat(r: CompatBenchResult): void {
  section(
    `11. Schema compatibility: a candidate checked BACKWARD_TRANSITIVE against ${r.versions} versions of transactions`,
  );
  console.log(
    table(
      [
        ['figure', 'value', 'note'],
        ['check p50', `${fmt(r.p50Ms, 1)} ms`, `${fmtInt(r.changes)} changes found, compatible: ${r.compatible}`],
        ['check p95', `${fmt(r.p95Ms, 1)} ms`, `target <= ${r.target.p95Ms} ms: ${verdict(r.p95Ms <= r.target.p95Ms)}`],
        ['baseline: ajv compile of the candidate', `${fmt(r.compileP50Ms, 1)} ms`, 'what registering costs anyway'],
        ['ratio check/compile', fmt(r.ratio, 2), ''],
      ],
      ['l', 'r', 'l'],
    ),
  );
}

function printImportE2e(r: ImportE2eResult): void {
  section(
    `10. A first import end to end (startDev, ${r.database}): ${fmtInt(r.rows)} rows x 20 columns dropped in the bucket`,
  );
  console.log(
    table(
      [
        ['figure', 'value', 'note'],
        [
          'drop → published',
          `${fmt(r.publishedMs / 1000, 1)} s`,
          'the notification, delta, snapshot and every operation on the stream',
        ],
        [
          'drop → applied',
          `${fmt(r.appliedMs / 1000, 1)} s`,
          `every operation in imports.bench_export; target <= ${fmt(r.target.appliedMs / 1000, 0)} s: ${verdict(r.appliedMs <= r.target.appliedMs)}`,
        ],
        ['operations applied', `${fmtInt(r.opsPerSec)}/s`, 'end to end, through kinesalite and the applier'],
        [
          'stream records',
          fmtInt(r.streamRecords),
          `aggregates, ${fmt(r.streamBytes / 1024 / 1024, 1)} MiB (${fmt(r.streamBytes / r.rows, 0)} B per operation)`,
        ],
        [
          'baseline: applyOperations alone',
          `${fmtInt(r.baselineOpsPerSec)}/s`,
          'the same statement on the same database, fed directly',
        ],
        ['ratio end to end/baseline', fmt(r.ratio, 3), 'what the stream and its consumers cost on top of applying'],
      ],
      ['l', 'r', 'l'],
    ),
  );
}

/** Runs one section; a failed section is reported in the output instead of ending the whole run. */
async function attempt<T>(name: string, run: () => Promise<T>): Promise<{ result?: T; error?: string }> {
  try {
    return { result: await run() };
  } catch (err) {
    const error = (err as Error).stack ?? String(err);
    progress(`${name} failed: ${error}`);
    return { error };
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  progress(`node ${process.version}, ${os.cpus().length} cores${QUICK ? ', BENCH_QUICK=1' : ''}`);
  const ingest = runIngestBench();
  const lake = runLakeWriterBench();
  const e2eRun = await attempt('e2e', runE2eBench);
  const queryRun = await attempt('query bench', runQueryBench);
  const quarantineRun = await attempt('quarantine bench', runQuarantineBench);
  const oltpRun = await attempt('oltp bench', runOltpBench);
  const hostileRun = await attempt('hostile requests', runHostileBench);
  const importRun = await attempt('imports bench', runImportBench);
  const importE2eRun = await attempt('import end to end', runImportE2eBench);
  const compatRun = await attempt('schema compatibility', async () => runCompatBench());
  const [e2e, e2eError] = [e2eRun.result, e2eRun.error];
  const [query, queryError] = [queryRun.result, queryRun.error];
  const [quarantine, quarantineError] = [quarantineRun.result, quarantineRun.error];
  const cost = e2e
    ? computeCost({
        requestsPerEvent: e2e.produce.requests / e2e.accepted,
        avgBodyBytes: e2e.avgBodyBytes,
        avgRecordBytes: e2e.avgEnvelopeBytes + e2e.avgPartitionKeyBytes,
        recordsPerLakeInvocation: e2e.poller.avgRecordsPerInvocation,
        lakeObjectsPerInvocation: e2e.lake.objectsPerInvocation,
        quarantineObjectsPerEvent: e2e.quarantine.objects / e2e.accepted,
        lakeWriterMs: e2e.lakeWriterInvocation.meanMs,
        journalPutsPerInvocation: e2e.lakeWriterInvocation.journalPutsPerBatch,
        journalGetsPerInvocation: e2e.lakeWriterInvocation.journalGetsPerBatch,
        ingestCpuMsPerRequest: ingest.hotMsPerRequest,
      })
    : undefined;

  console.log(
    `Tributary benchmarks — node ${process.version}, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? 'cpu'}${QUICK ? ' (BENCH_QUICK=1)' : ''}`,
  );
  printIngest(ingest);
  printLake(lake);
  if (e2e) printE2e(e2e);
  else console.log(`\n== 3. End to end: FAILED\n${e2eError}`);
  if (cost) printCost(cost);
  else console.log('\n== 4. Cost: not computed (needs the end-to-end run)');
  if (query) printQuery(query);
  else console.log(`\n== 5. Lake layouts: FAILED\n${queryError}`);
  if (quarantine) printQuarantine(quarantine);
  else console.log(`\n== 6. Quarantine: FAILED\n${quarantineError}`);
  if (oltpRun.result) printOltp(oltpRun.result);
  else console.log(`\n== 7. OLTP sink: FAILED\n${oltpRun.error}`);
  if (hostileRun.result) printHostile(hostileRun.result);
  else console.log(`\n== 8. Hostile requests: FAILED\n${hostileRun.error}`);
  if (importRun.result) printImports(importRun.result);
  else console.log(`\n== 9. Full-export delta: FAILED\n${importRun.error}`);
  if (importE2eRun.result) printImportE2e(importE2eRun.result);
  else console.log(`\n== 10. Import end to end: FAILED\n${importE2eRun.error}`);
  if (compatRun.result) printCompat(compatRun.result);
  else console.log(`\n== 11. Schema compatibility: FAILED\n${compatRun.error}`);

  section('Summary');
  const rows: string[][] = [
    ['figure', 'value', 'baseline', 'ratio', 'target', 'status'],
    [
      'ingest hot path',
      `${fmtInt(ingest.hotEventsPerSec)} ev/s`,
      `${fmtInt(ingest.baselineEventsPerSec)} ev/s`,
      fmt(ingest.ratio, 3),
      `ratio >= ${ingest.target}`,
      verdict(ingest.ratio >= ingest.target),
    ],
    [
      'lake writer / core',
      `${fmtInt(lake.planRecordsPerSec)} rec/s`,
      `${fmtInt(lake.baselineRecordsPerSec)} rec/s`,
      fmt(lake.ratio, 3),
      `>= ${fmtInt(lake.target)} rec/s`,
      verdict(lake.planRecordsPerSec >= lake.target),
    ],
  ];
  if (e2e) {
    rows.push(
      [
        'end to end',
        `${fmtInt(e2e.eventsPerSec)} ev/s`,
        `${fmtInt(e2e.baseline.recordsPerSec)} rec/s`,
        fmt(e2e.ratio, 3),
        `>= ${fmtInt(e2e.target.eventsPerSec)} ev/s`,
        verdict(e2e.complete && e2e.eventsPerSec >= e2e.target.eventsPerSec),
      ],
      [
        'freshness p95',
        `${fmtInt(e2e.freshnessMs.p95)} ms`,
        '',
        '',
        `<= ${fmtInt(e2e.target.freshnessP95Ms)} ms`,
        verdict(e2e.complete && e2e.freshnessMs.p95 <= e2e.target.freshnessP95Ms),
      ],
    );
  } else rows.push(['end to end', 'FAILED', '', '', '', 'MISSED']);
  if (cost)
    rows.push([
      'cost per 1M events',
      fmtUsd(cost.oursUsd),
      `naive ${fmtUsd(cost.naiveUsd)}`,
      `${fmt(cost.ratio, 1)}x`,
      `>= ${cost.target}x cheaper`,
      verdict(cost.ratio >= cost.target),
    ]);
  if (query) {
    rows.push(
      [
        'one-day query, Parquet/JSON bytes',
        fmt(query.bytesRatioParquetColumns, 4),
        `(a) ${fmt(query.unpartitionedJson.bytes / 1024 / 1024, 1)} MiB`,
        fmt(query.bytesRatioParquetColumns, 4),
        `<= ${query.target}`,
        verdict(query.bytesRatioParquetColumns <= query.target),
      ],
      [
        'compaction',
        `${fmtInt(query.compaction.rowsPerSec)} rows/s`,
        `${fmtInt(query.compaction.baselineRowsPerSec)} rows/s`,
        fmt(query.compaction.ratio, 3),
        '',
        '',
      ],
    );
  } else rows.push(['lake layouts', 'FAILED', '', '', '', 'MISSED']);
  if (quarantine) {
    rows.push(
      [
        'quarantine list p95',
        `${fmt(quarantine.p95, 1)} ms`,
        `SQL ${fmt(quarantine.sqlMedianMs, 0)} ms`,
        `${fmt(quarantine.ratioSqlToIndex, 1)}x`,
        `< ${quarantine.target} ms at ${fmtInt(quarantine.records)}`,
        verdict(quarantine.p95 < quarantine.target),
      ],
      [
        're-drive busiest second',
        `${fmtInt(quarantine.redrive.maxInOneSecond)} rec`,
        `rate ${quarantine.redrive.rate}/s`,
        fmt(quarantine.redrive.ratioToRate, 3),
        '<= 1 (rate limit)',
        verdict(quarantine.redrive.ratioToRate <= 1),
      ],
    );
  } else rows.push(['quarantine', 'FAILED', '', '', '', 'MISSED']);
  if (oltpRun.result) {
    for (const e of oltpRun.result.engines) {
      rows.push([
        `oltp sink (${e.engine})`,
        `${fmtInt(e.eventsPerSec)} ev/s`,
        `${fmtInt(e.baselineEventsPerSec)} ev/s`,
        fmt(e.ratio, 1),
        e.engine === 'postgres' ? `>= ${fmtInt(oltpRun.result.target)} ev/s` : '',
        e.engine === 'postgres'
          ? verdict(e.exact && e.eventsPerSec >= oltpRun.result.target)
          : e.exact
            ? 'exact'
            : 'NOT EXACT',
      ]);
    }
  } else rows.push(['oltp sink', 'FAILED', '', '', '', 'MISSED']);
  const hostile = hostileRun.result;
  if (hostile)
    rows.push([
      'hostile requests',
      `${fmtInt(hostile.requests)} sent`,
      '',
      '',
      '0 problems',
      verdict(hostile.problems.length === 0),
    ]);
  else rows.push(['hostile requests', 'FAILED', '', '', '', 'MISSED']);
  const imports = importRun.result;
  if (imports)
    rows.push([
      'full-export delta',
      `${fmt(imports.delta.ms / 1000, 2)} s`,
      `concat ${fmt(imports.concat.ms / 1000, 2)} s`,
      fmt(imports.ratio, 2),
      `exact, <= ${fmt(imports.target.deltaMs / 1000, 0)} s`,
      verdict(imports.delta.exact && imports.delta.ms <= imports.target.deltaMs),
    ]);
  else rows.push(['full-export delta', 'FAILED', '', '', '', 'MISSED']);
  const importE2e = importE2eRun.result;
  if (importE2e)
    rows.push([
      'first import, end to end',
      `${fmt(importE2e.appliedMs / 1000, 1)} s`,
      `${fmtInt(importE2e.baselineOpsPerSec)} ops/s`,
      fmt(importE2e.ratio, 3),
      `<= ${fmt(importE2e.target.appliedMs / 1000, 0)} s`,
      verdict(importE2e.appliedMs <= importE2e.target.appliedMs),
    ]);
  else rows.push(['first import, end to end', 'FAILED', '', '', '', 'MISSED']);
  const compat = compatRun.result;
  if (compat)
    rows.push([
      `transitive check, ${compat.versions} versions, p95`,
      `${fmt(compat.p95Ms, 1)} ms`,
      `ajv compile ${fmt(compat.compileP50Ms, 1)} ms`,
      fmt(compat.ratio, 2),
      `<= ${compat.target.p95Ms} ms`,
      verdict(compat.p95Ms <= compat.target.p95Ms),
    ]);
  else rows.push(['transitive check', 'FAILED', '', '', '', 'MISSED']);
  console.log(table(rows, ['l', 'r', 'r', 'r', 'l', 'l']));
  console.log(`total bench time ${fmt((Date.now() - started) / 1000, 1)} s\n`);

  const json = {
    bench: 'tributary',
    quick: QUICK,
    node: process.version,
    cores: os.cpus().length,
    ingest: {
      avgEventBytes: round(ingest.avgEventBytes, 1),
      hotEventsPerSec: round(ingest.hotEventsPerSec, 0),
      baselineEventsPerSec: round(ingest.baselineEventsPerSec, 0),
      ratio: round(ingest.ratio),
      medianRoundRatio: round(ingest.medianRoundRatio),
      rounds: ingest.rounds,
      roundMs: ingest.roundMs,
      hotMsPerRequest: round(ingest.hotMsPerRequest),
      target: ingest.target,
      ok: ingest.ratio >= ingest.target,
    },
    lakeWriter: {
      avgEnvelopeBytes: round(lake.avgEnvelopeBytes, 1),
      recordsPerSecPerCore: round(lake.planRecordsPerSec, 0),
      baselineRecordsPerSec: round(lake.baselineRecordsPerSec, 0),
      ratio: round(lake.ratio),
      objectsPerBatch: round(lake.avgObjectsPerBatch),
      msPerBatch: round(lake.planMsPerBatch),
      target: lake.target,
      ok: lake.planRecordsPerSec >= lake.target,
    },
    e2e: e2e
      ? {
          events: e2e.events,
          accepted: e2e.accepted,
          missing: e2e.missing,
          complete: e2e.complete,
          eventsPerSec: round(e2e.eventsPerSec, 0),
          seconds: round(e2e.seconds),
          ingestEventsPerSec: round(e2e.produce.eventsPerSec, 0),
          drainSeconds: round(e2e.drainSeconds),
          baselinePutRecordsPerSec: round(e2e.baseline.recordsPerSec, 0),
          baselinePasses: e2e.baseline.passes.map((p) => round(p.recordsPerSec, 0)),
          ratio: round(e2e.ratio),
          freshnessMs: {
            p50: round(e2e.freshnessMs.p50, 0),
            p95: round(e2e.freshnessMs.p95, 0),
            max: round(e2e.freshnessMs.max, 0),
          },
          lakeWriterInvocations: e2e.poller.invocations,
          recordsPerInvocation: round(e2e.poller.avgRecordsPerInvocation, 1),
          lakeObjects: e2e.lake.objects,
          objectsPerInvocation: round(e2e.lake.objectsPerInvocation),
          quarantineObjects: e2e.quarantine.objects,
          lakeWriterMeanMs: round(e2e.lakeWriterInvocation.meanMs, 1),
          s3rverPutsPerSec: round(e2e.s3rverPut.putsPerSec, 0),
          kinesaliteGetRecordsPerSec: round(e2e.kinesaliteGetRecords.recordsPerSec, 0),
          lakeRowsPerSecDuringIngest: round(e2e.lakeRowsPerSecDuringIngest, 0),
          maxBacklogRows: e2e.maxBacklogRows,
          cpuPercent: {
            main: round(e2e.cpu.main, 0),
            kinesalite: round(e2e.cpu.kinesalite, 0),
            s3rver: round(e2e.cpu.s3rver, 0),
          },
          target: e2e.target,
          ok:
            e2e.complete &&
            e2e.eventsPerSec >= e2e.target.eventsPerSec &&
            e2e.freshnessMs.p95 <= e2e.target.freshnessP95Ms,
        }
      : { error: e2eError?.split('\n')[0] ?? 'failed', ok: false },
    cost: cost
      ? {
          perEvents: cost.events,
          oursUsd: round(cost.oursUsd, 5),
          naiveUsd: round(cost.naiveUsd, 5),
          ratio: round(cost.ratio, 1),
          oursRequests: round(cost.oursRequests, 0),
          naiveRequests: round(cost.naiveRequests, 0),
          lines: cost.lines.map((l) => ({
            item: l.item,
            ours: round(l.oursCount, 1),
            oursUsd: round(l.oursUsd, 6),
            naive: l.naiveCount,
            naiveUsd: round(l.naiveUsd, 6),
          })),
          prices: PRICES,
          assumptions: { ...ASSUMPTIONS, lakeWriterMsMeasured: round(cost.inputs.lakeWriterMs, 1) },
          excluded: 'Kinesis shard-hours (same in both), data transfer, CloudWatch Logs, S3 storage',
          target: cost.target,
          ok: cost.ratio >= cost.target,
        }
      : { error: 'needs the e2e run', ok: false },
    query: query
      ? {
          ...query,
          bytesRatioPartitionedJson: round(query.bytesRatioPartitionedJson, 4),
          bytesRatioParquet: round(query.bytesRatioParquet, 4),
          bytesRatioParquetColumns: round(query.bytesRatioParquetColumns, 5),
          timeRatioParquet: round(query.timeRatioParquet),
          ok: query.resultsEqual && query.bytesRatioParquetColumns <= query.target,
        }
      : { error: queryError?.split('\n')[0] ?? 'failed', ok: false },
    quarantine: quarantine
      ? {
          ...quarantine,
          p95: round(quarantine.p95, 1),
          coldLoadMs: round(quarantine.coldLoadMs, 0),
          heapMiB: round(quarantine.heapMiB, 0),
          lists: quarantine.lists.map((l) => ({
            ...l,
            p50: round(l.p50, 1),
            p95: round(l.p95, 1),
            max: round(l.max, 1),
            sqlMs: round(l.sqlMs ?? NaN, 0),
          })),
          ok: quarantine.p95 < quarantine.target,
        }
      : { error: quarantineError?.split('\n')[0] ?? 'failed', ok: false },
    oltp: oltpRun.result
      ? {
          target: oltpRun.result.target,
          engines: oltpRun.result.engines.map((e) => ({
            ...e,
            eventsPerSec: round(e.eventsPerSec, 0),
            redeliveryEventsPerSec: round(e.redeliveryEventsPerSec, 0),
            baselineEventsPerSec: round(e.baselineEventsPerSec, 0),
            ratio: round(e.ratio, 2),
          })),
          ok: oltpRun.result.engines.every(
            (e) => e.exact && (e.engine !== 'postgres' || e.eventsPerSec >= oltpRun.result!.target),
          ),
        }
      : { error: oltpRun.error?.split('\n')[0] ?? 'failed', ok: false },
    hostile: hostile
      ? {
          requests: hostile.requests,
          seed: hostile.seed,
          kinds: hostile.kinds.size,
          statuses: Object.fromEntries(hostile.statuses),
          sendSeconds: round(hostile.sendSeconds, 1),
          accepted: hostile.accepted,
          rejected: hostile.rejected,
          bodies: hostile.bodies,
          lakeRows: hostile.lakeRows,
          quarantined: hostile.quarantined,
          lakeSeconds: round(hostile.lakeSeconds, 1),
          problems: hostile.problems,
          ok: hostile.problems.length === 0,
        }
      : { error: hostileRun.error?.split('\n')[0] ?? 'failed', ok: false },
    imports: imports
      ? {
          rows: imports.rows,
          columns: imports.columns,
          truth: imports.truth,
          delta: { ...imports.delta, ms: round(imports.delta.ms, 0) },
          concat: { ...imports.concat, ms: round(imports.concat.ms, 0) },
          ratio: round(imports.ratio, 2),
          ok: imports.delta.exact && imports.delta.ms <= imports.target.deltaMs,
        }
      : { error: importRun.error?.split('\n')[0] ?? 'failed', ok: false },
    importEndToEnd: importE2e
      ? {
          rows: importE2e.rows,
          database: importE2e.database,
          publishedMs: round(importE2e.publishedMs, 0),
          appliedMs: round(importE2e.appliedMs, 0),
          opsPerSec: round(importE2e.opsPerSec, 0),
          streamRecords: importE2e.streamRecords,
          streamBytes: importE2e.streamBytes,
          baselineOpsPerSec: round(importE2e.baselineOpsPerSec, 0),
          ratio: round(importE2e.ratio, 3),
          ok: importE2e.appliedMs <= importE2e.target.appliedMs,
        }
      : { error: importE2eRun.error?.split('\n')[0] ?? 'failed', ok: false },
    compat: compat
      ? {
          versions: compat.versions,
          changes: compat.changes,
          compatible: compat.compatible,
          p50Ms: round(compat.p50Ms, 2),
          p95Ms: round(compat.p95Ms, 2),
          compileP50Ms: round(compat.compileP50Ms, 2),
          ratio: round(compat.ratio, 3),
          ok: compat.p95Ms <= compat.target.p95Ms,
        }
      : { error: compatRun.error?.split('\n')[0] ?? 'failed', ok: false },
  };
  console.log(JSON.stringify(json));
  if (!e2e || !query || !quarantine || !hostile || hostile.problems.length || !imports?.delta.exact)
    process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
