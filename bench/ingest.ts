/**
 * Ingest hot path: what the API does with a request body before the PutRecords call — `parseBody` + `prepareEvents`
 * (coercion, ajv validation, envelope, JSON serialization to a Buffer) + `chunkEntries` — on NDJSON bodies of 500
 * ~500-byte transactions. Baseline: `JSON.parse` of each line + the same compiled ajv validator, nothing else.
 */
import { prepareEvents } from '../lib/events/prepare.ts';
import { defaultRegistry } from '../lib/registry/registry.ts';
import { chunkEntries } from '../lib/stream/put-records.ts';
import { BATCH, TYPE, transactions } from './fixtures.ts';
import { interleave, now, progress, QUICK, type AbResult } from './util.ts';

export interface IngestBenchResult {
  events: number;
  eventsPerBody: number;
  avgEventBytes: number;
  avgBodyBytes: number;
  rounds: number;
  roundMs: number;
  hotEventsPerSec: number;
  baselineEventsPerSec: number;
  ratio: number;
  medianRoundRatio: number;
  /** CPU time of the hot path per 500-event request, from the median rate. */
  hotMsPerRequest: number;
  ab: AbResult;
  target: number;
}

export function runIngestBench(): IngestBenchResult {
  const registry = defaultRegistry();
  const validate = registry.version(TYPE).validate;
  const nBodies = QUICK ? 4 : 20;
  const set = transactions(nBodies * BATCH, 42);
  const bodies = set.bodies;
  const avgBodyBytes = bodies.reduce((a, b) => a + Buffer.byteLength(b), 0) / bodies.length;
  progress(
    `ingest: ${set.lines.length} events in ${bodies.length} NDJSON bodies, avg event ${set.avgEventBytes.toFixed(0)} B`,
  );

  // Both paths must see the same, fully valid input; check once outside the timed loops.
  for (const body of bodies) {
    const p = prepareEvents(registry, { type: TYPE, body, framing: 'ndjson' }, new Date().toISOString());
    if (p.rejections.length || p.entries.length !== BATCH)
      throw new Error(`ingest bench input is not ${BATCH} valid events per body`);
    for (const line of body.split('\n'))
      if (!validate(JSON.parse(line))) throw new Error('baseline validator rejected a synthetic event');
  }

  let sink = 0;
  let iHot = 0;
  const hot = (): number => {
    const body = bodies[iHot++ % bodies.length]!;
    const p = prepareEvents(registry, { type: TYPE, body, framing: 'ndjson' }, new Date().toISOString());
    const chunks = chunkEntries(p.entries);
    sink += chunks.length + p.rejections.length;
    return p.parsed.items.length;
  };
  let iBase = 0;
  const baseline = (): number => {
    const body = bodies[iBase++ % bodies.length]!;
    const lines = body.split('\n');
    let bad = 0;
    for (const line of lines) if (!validate(JSON.parse(line))) bad++;
    sink += bad;
    return lines.length;
  };

  const rounds = QUICK ? 3 : 5;
  const roundMs = QUICK ? 300 : 2_000;
  const t0 = now();
  const ab = interleave(hot, baseline, { rounds, roundMs, warmupMs: QUICK ? 200 : 1_000, label: 'ingest' });
  progress(`ingest: done in ${((now() - t0) / 1000).toFixed(1)} s (sink ${sink})`);
  return {
    events: set.lines.length,
    eventsPerBody: BATCH,
    avgEventBytes: set.avgEventBytes,
    avgBodyBytes,
    rounds,
    roundMs,
    hotEventsPerSec: ab.medianA,
    baselineEventsPerSec: ab.medianB,
    ratio: ab.ratio,
    medianRoundRatio: ab.medianRoundRatio,
    hotMsPerRequest: (BATCH / ab.medianA) * 1000,
    ab,
    target: 0.8,
  };
}
