import { closeSync, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../errors.ts';
import {
  CONSUMER_LAG_METRIC,
  MetricsError,
  PIPELINE_METRICS,
  SHARD_METRICS,
  STATISTIC,
  type MetricName,
} from './types.ts';

/**
 * Local metrics live in `<dataDir>/metrics/YYYY-MM-DD.jsonl` (UTC day of the minute), one JSON line per flush per
 * minute per shard or event type: `{"t":"<minute ISO>","shard":"shardId-…","m":{"IncomingRecords":3,…}}` or
 * `{"t":…,"type":"transactions","m":{"EventsAccepted":3,"EventsRejected":0}}`. A line holds what was counted since the
 * previous flush, so several lines of the same minute add up (ages take the maximum). Files are only ever appended
 * to, one whole-lines write per flush, so the runtime, the CLI and the console can share them without locks.
 */
export function metricsDir(dataDir: string): string {
  return path.join(dataDir, 'metrics');
}

/** Days of metrics kept: today and the 14 before it, which covers a 14-day range ending now. */
export const METRICS_RETENTION_DAYS = 15;

/** What a line counts for: a shard, an event type, or a consumer on a shard (`<consumer>/<shard>`). */
export type Dimension = 'shard' | 'type' | 'consumer';
export type Values = Partial<Record<MetricName, number>>;

/** One minute of one shard's or event type's metrics. */
export interface Aggregate {
  t: number;
  dim: Dimension;
  id: string;
  m: Values;
}

export const DAY_MS = 86_400_000;
export const DAY_FILE = /^(\d{4}-\d{2}-\d{2})\.jsonl$/;
const KNOWN = new Set<string>([...SHARD_METRICS, ...PIPELINE_METRICS, CONSUMER_LAG_METRIC]);

export const dayOf = (t: number) => new Date(t).toISOString().slice(0, 10);
export const keyOf = (t: number, dim: Dimension, id: string) => `${t}|${dim}|${id}`;

/** Adds a value into an aggregate by the metric's statistic (sums add up, ages keep the maximum). */
export function merge(into: Values, name: MetricName, v: number): void {
  const cur = into[name];
  into[name] = cur === undefined ? v : STATISTIC[name] === 'Sum' ? cur + v : Math.max(cur, v);
}

/** The entries of a directory, none when it does not exist (yet). */
export function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

interface FileState {
  ino: number;
  offset: number;
  entries: Map<string, Aggregate>;
}

// Parsed day files, read on from where the last request stopped: a past day is parsed once, today only its new lines.
const files = new Map<string, FileState>();

function parseLine(line: string): Aggregate | undefined {
  let raw: { t?: unknown; shard?: unknown; type?: unknown; consumer?: unknown; m?: unknown };
  try {
    raw = JSON.parse(line) as typeof raw;
  } catch {
    return undefined;
  }
  const t = typeof raw?.t === 'string' ? Date.parse(raw.t) : NaN;
  const dim: Dimension | undefined =
    typeof raw.shard === 'string'
      ? 'shard'
      : typeof raw.type === 'string'
        ? 'type'
        : typeof raw.consumer === 'string'
          ? 'consumer'
          : undefined;
  if (!Number.isFinite(t) || !dim || typeof raw.m !== 'object' || raw.m === null) return undefined;
  const m: Values = {};
  for (const [name, v] of Object.entries(raw.m))
    if (KNOWN.has(name) && typeof v === 'number' && Number.isFinite(v)) m[name as MetricName] = v;
  return { t, dim, id: String(raw[dim]), m };
}

/**
 * The aggregates of one day file. Only whole lines count: a torn last line (a flush being written, or a writer that
 * died) is read again next time, and a garbled line is skipped. Synchronous on purpose, so two requests never advance
 * the same cached state at once.
 */
export function readDay(file: string): Map<string, Aggregate> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') {
      files.delete(file);
      return new Map();
    }
    throw new MetricsError(
      'metrics_unreadable',
      `Cannot read local metrics ${file}: ${errorMessage(err)}. Check the data directory's permissions.`,
      { cause: err },
    );
  }
  try {
    const st = fstatSync(fd);
    let state = files.get(file);
    if (!state || state.ino !== st.ino || st.size < state.offset)
      state = { ino: st.ino, offset: 0, entries: new Map() };
    if (st.size > state.offset) {
      const buf = Buffer.alloc(st.size - state.offset);
      let got = 0;
      while (got < buf.length) {
        const n = readSync(fd, buf, got, buf.length - got, state.offset + got);
        if (n === 0) break;
        got += n;
      }
      const end = buf.subarray(0, got).lastIndexOf(0x0a);
      if (end >= 0) {
        for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
          const a = line.trim() ? parseLine(line) : undefined;
          if (!a) continue;
          const key = keyOf(a.t, a.dim, a.id);
          const into = state.entries.get(key);
          if (!into) state.entries.set(key, a);
          else for (const [name, v] of Object.entries(a.m)) merge(into.m, name as MetricName, v);
        }
        state.offset += end + 1;
      }
    }
    files.set(file, state);
    return state.entries;
  } finally {
    closeSync(fd);
  }
}
