/**
 * Lake writer CPU: `planBatch` (decode + check each envelope, group by partition, gzip one JSONL object per partition)
 * on batches of 500 stream records whose data are real envelopes (made by `prepareEvents`, exactly what ingest puts on
 * the stream), event times spread over three hours. Single-threaded, so records/s is records/s per core.
 * Baseline: `JSON.parse` of the same record bytes + one `gzipSync` of all of them at the same level.
 */
import { gzipSync } from 'node:zlib';
import { LAKE_GZIP_LEVEL, planBatch } from '../lib/lake/plan.ts';
import { defaultRegistry } from '../lib/registry/registry.ts';
import type { StreamRecord } from '../lib/stream/records.ts';
import { BATCH, envelopes, transactions } from './fixtures.ts';
import { interleave, now, progress, QUICK, type AbResult } from './util.ts';

export interface LakeWriterBenchResult {
  records: number;
  recordsPerBatch: number;
  avgEnvelopeBytes: number;
  eventHoursSpread: number;
  avgObjectsPerBatch: number;
  gzipLevel: number;
  compressionRatio: number;
  rounds: number;
  roundMs: number;
  planRecordsPerSec: number;
  baselineRecordsPerSec: number;
  ratio: number;
  medianRoundRatio: number;
  planMsPerBatch: number;
  ab: AbResult;
  target: number;
}

const HOURS = 3;

/** Kinesis-like sequence numbers: 56 decimal digits, increasing. */
export function seqNumber(n: number): string {
  return `4960${String(n).padStart(52, '0')}`;
}

export function runLakeWriterBench(): LakeWriterBenchResult {
  const registry = defaultRegistry();
  const nBatches = QUICK ? 4 : 20;
  const to = Date.UTC(2026, 0, 15, 12);
  const set = transactions(nBatches * BATCH, 4242, { from: to - HOURS * 3600_000, to });
  const env = envelopes(registry, set.bodies, new Date(to + 5_000).toISOString());
  const arrivedAt = to + 5_000;
  const batches: StreamRecord[][] = [];
  for (let i = 0; i < env.entries.length; i += BATCH) {
    batches.push(
      env.entries.slice(i, i + BATCH).map((e, j) => ({
        shardId: 'shardId-000000000000',
        sequenceNumber: seqNumber(1_000_000 + i + j),
        partitionKey: e.partitionKey,
        data: Buffer.from(e.data),
        arrivedAt,
      })),
    );
  }
  progress(
    `lake-writer: ${env.entries.length} records in ${batches.length} batches, avg envelope ${env.avgEnvelopeBytes.toFixed(0)} B`,
  );

  // Check once that every record lands in the lake (none quarantined) and count objects per batch.
  let objects = 0;
  let raw = 0;
  let gz = 0;
  const fixedNow = new Date(arrivedAt);
  for (const b of batches) {
    const plan = planBatch(b, registry, fixedNow);
    if (plan.quarantined || plan.rows !== b.length)
      throw new Error(`planBatch quarantined ${plan.quarantined} of ${b.length} valid envelopes`);
    objects += plan.objects.length;
    for (const r of b) raw += r.data.byteLength + 1;
    for (const o of plan.objects) gz += o.body.byteLength;
  }

  let sink = 0;
  let iPlan = 0;
  const plan = (): number => {
    const b = batches[iPlan++ % batches.length]!;
    const p = planBatch(b, registry, fixedNow);
    sink += p.objects.length;
    return b.length;
  };
  const NL = Buffer.from('\n');
  let iBase = 0;
  const baseline = (): number => {
    const b = batches[iBase++ % batches.length]!;
    const parts: Buffer[] = [];
    for (const r of b) {
      const v = JSON.parse(r.data.toString('utf8')) as { id?: unknown };
      if (v.id === undefined) sink++;
      parts.push(r.data, NL);
    }
    sink += gzipSync(Buffer.concat(parts), { level: LAKE_GZIP_LEVEL }).byteLength & 1;
    return b.length;
  };

  const rounds = QUICK ? 3 : 5;
  const roundMs = QUICK ? 300 : 2_000;
  const t0 = now();
  const ab = interleave(plan, baseline, { rounds, roundMs, warmupMs: QUICK ? 200 : 1_000, label: 'lake-writer' });
  progress(`lake-writer: done in ${((now() - t0) / 1000).toFixed(1)} s (sink ${sink})`);
  return {
    records: env.entries.length,
    recordsPerBatch: BATCH,
    avgEnvelopeBytes: env.avgEnvelopeBytes,
    eventHoursSpread: HOURS,
    avgObjectsPerBatch: objects / batches.length,
    gzipLevel: LAKE_GZIP_LEVEL,
    compressionRatio: raw / gz,
    rounds,
    roundMs,
    planRecordsPerSec: ab.medianA,
    baselineRecordsPerSec: ab.medianB,
    ratio: ab.ratio,
    medianRoundRatio: ab.medianRoundRatio,
    planMsPerBatch: (BATCH / ab.medianA) * 1000,
    ab,
    target: 100_000,
  };
}
