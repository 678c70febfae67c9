/**
 * Inputs of the benchmarks: valid `transactions` events from the synthetic generator, NDJSON request bodies of them,
 * and the exact stream entries ingest makes of those bodies (via `prepareEvents`).
 */
import { prepareEvents } from '../lib/events/prepare.ts';
import { Rng } from '../lib/produce/random.ts';
import { syntheticEvents } from '../lib/produce/synthetic.ts';
import type { Registry } from '../lib/registry/registry.ts';
import type { PutEntry } from '../lib/stream/put-records.ts';

export const TYPE = 'transactions';
export const BATCH = 500;

const pad = (n: number) => String(n).padStart(2, '0');

/** `YYYY-MM-DD HH:MM:SS` (UTC), the event-time format of the transactions type. */
export function ymdhms(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

export interface EventSet {
  /** One JSON text per event. */
  lines: string[];
  /** NDJSON bodies of at most {@link BATCH} events. */
  bodies: string[];
  /** Envelope ids (`trans_num`), in order. */
  ids: string[];
  avgEventBytes: number;
}

/**
 * `count` valid transactions. When `times` is given, each event's time is drawn uniformly from [from, to) (the
 * generator's own times span a week, which spreads a batch over ~100 partitions; live traffic is within hours).
 */
export function transactions(count: number, seed: number, times?: { from: number; to: number }): EventSet {
  const rng = new Rng(seed ^ 0x5bd1e995);
  const lines: string[] = [];
  const ids: string[] = [];
  let bytes = 0;
  for (const e of syntheticEvents(TYPE, count, { seed })) {
    if (!e.valid || !e.value) throw new Error('synthetic generator returned an invalid event with invalidRatio 0');
    const v = e.value;
    if (times) {
      const ms = times.from + Math.floor(rng.next() * Math.max(1, times.to - times.from));
      v.trans_date_trans_time = ymdhms(ms);
      v.unix_time = Math.floor(ms / 1000);
    }
    const text = JSON.stringify(v);
    bytes += Buffer.byteLength(text);
    lines.push(text);
    ids.push(String(v.trans_num));
  }
  const bodies: string[] = [];
  for (let i = 0; i < lines.length; i += BATCH) bodies.push(lines.slice(i, i + BATCH).join('\n'));
  return { lines, bodies, ids, avgEventBytes: bytes / Math.max(1, count) };
}

export interface Envelopes {
  entries: PutEntry[];
  avgEnvelopeBytes: number;
  avgPartitionKeyBytes: number;
}

/** The stream entries ingest puts on the stream for these bodies (fails if any event is rejected). */
export function envelopes(
  registry: Registry,
  bodies: string[],
  receivedAt: string = new Date().toISOString(),
): Envelopes {
  const entries: PutEntry[] = [];
  for (const body of bodies) {
    const p = prepareEvents(registry, { type: TYPE, body, framing: 'ndjson' }, receivedAt);
    if (p.rejections.length) {
      const r = p.rejections[0]!;
      throw new Error(
        `prepareEvents rejected ${p.rejections.length} synthetic events (first: ${r.reason} ${JSON.stringify(r.errors)})`,
      );
    }
    entries.push(...p.entries);
  }
  let data = 0;
  let pk = 0;
  for (const e of entries) {
    data += e.data.byteLength;
    pk += Buffer.byteLength(e.partitionKey);
  }
  return {
    entries,
    avgEnvelopeBytes: data / Math.max(1, entries.length),
    avgPartitionKeyBytes: pk / Math.max(1, entries.length),
  };
}
