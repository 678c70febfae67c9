import {
  appendFileSync,
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  statSync,
} from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../errors.ts';
import {
  fillSeries,
  metricsWindow,
  MetricsError,
  PIPELINE_METRICS,
  SHARD_METRICS,
  STATISTIC,
  type MetricName,
  type MetricsQuery,
  type MetricsSource,
  type MetricsWindow,
  type PipelineMetrics,
  type ShardMetrics,
  type ShardMetricsRecorder,
  type ShardSeries,
  windowFields,
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

/** Days of metrics kept: today and the 7 before it, which covers a 7-day range ending now. */
export const METRICS_RETENTION_DAYS = 8;

type Dimension = 'shard' | 'type';
type Values = Partial<Record<MetricName, number>>;

interface Aggregate {
  t: number;
  dim: Dimension;
  id: string;
  m: Values;
}

const DAY_MS = 86_400_000;
const DAY_FILE = /^(\d{4}-\d{2}-\d{2})\.jsonl$/;
const KNOWN = new Set<string>([...SHARD_METRICS, ...PIPELINE_METRICS]);

const dayOf = (t: number) => new Date(t).toISOString().slice(0, 10);
const keyOf = (t: number, dim: Dimension, id: string) => `${t}|${dim}|${id}`;

function merge(into: Values, name: MetricName, v: number): void {
  const cur = into[name];
  into[name] = cur === undefined ? v : STATISTIC[name] === 'Sum' ? cur + v : Math.max(cur, v);
}

/** Options of a recorder; tests move the clock and flush by hand. */
export interface LocalRecorderOptions {
  /** How often counts are written out (default 5 s); `flush()` writes at once. */
  flushEveryMs?: number;
  now?: () => number;
}

const live = new Set<LocalMetricsRecorder>();
let exitHookInstalled = false;

/**
 * Counts per minute, per shard and per event type, in memory, and appends them to the day files every few seconds.
 * Flushing is synchronous so a process that exits (the CLI after a re-drive, `tributary dev` on Ctrl-C) loses nothing:
 * an exit hook flushes every recorder still holding counts.
 */
export class LocalMetricsRecorder implements ShardMetricsRecorder {
  readonly dir: string;
  readonly #every: number;
  readonly #now: () => number;
  readonly #pending = new Map<string, Aggregate>();
  // Minutes (per shard or type) that already have a line: an idle reader's repeated zeros need not be written again.
  readonly #written = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #retainedDay: string | undefined;

  constructor(dir: string, options: LocalRecorderOptions = {}) {
    this.dir = dir;
    this.#every = options.flushEveryMs ?? 5_000;
    this.#now = options.now ?? Date.now;
  }

  recordPut(shardId: string, records: number, bytes: number, throttled: number): void {
    const m = this.#values('shard', shardId);
    merge(m, 'IncomingRecords', records);
    merge(m, 'IncomingBytes', bytes);
    merge(m, 'WriteProvisionedThroughputExceeded', throttled);
  }

  recordRead(shardId: string, records: number, iteratorAgeMs: number): void {
    const m = this.#values('shard', shardId);
    merge(m, 'OutgoingRecords', records);
    merge(m, 'IteratorAgeMilliseconds', Math.max(0, iteratorAgeMs));
  }

  recordIngest(type: string, accepted: number, rejected: number): void {
    const m = this.#values('type', type);
    merge(m, 'EventsAccepted', accepted);
    merge(m, 'EventsRejected', rejected);
  }

  /** Appends everything counted since the last flush to the day files, then drops days past the retention. */
  flush(): void {
    const now = this.#now();
    const byDay = new Map<string, { keys: string[]; lines: string[] }>();
    for (const [key, a] of this.#pending) {
      const idle = Object.values(a.m).every((v) => v === 0);
      if (idle && this.#written.has(key)) {
        this.#pending.delete(key);
        continue;
      }
      const day = byDay.get(dayOf(a.t)) ?? { keys: [], lines: [] };
      day.keys.push(key);
      day.lines.push(JSON.stringify({ t: new Date(a.t).toISOString(), [a.dim]: a.id, m: a.m }));
      byDay.set(dayOf(a.t), day);
    }
    if (byDay.size) mkdirSync(this.dir, { recursive: true });
    for (const [day, { keys, lines }] of byDay) {
      const file = path.join(this.dir, `${day}.jsonl`);
      // A writer killed mid-line leaves a torn line without its newline; start on a fresh line so ours stay whole.
      const text = `${endsTorn(file) ? '\n' : ''}${lines.join('\n')}\n`;
      appendFileSync(file, text);
      for (const key of keys) {
        this.#written.set(key, this.#pending.get(key)!.t);
        this.#pending.delete(key);
      }
    }
    for (const [key, t] of this.#written) if (t < now - 5 * 60_000) this.#written.delete(key);
    this.#retain(now);
  }

  /** Flushes and stops the timer (a later count starts it again). */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    live.delete(this);
    if (shared.get(this.dir) === this) shared.delete(this.dir);
    this.flush();
  }

  #values(dim: Dimension, id: string): Values {
    const t = Math.floor(this.#now() / 60_000) * 60_000;
    const key = keyOf(t, dim, id);
    let a = this.#pending.get(key);
    if (!a) this.#pending.set(key, (a = { t, dim, id, m: {} }));
    this.#arm();
    return a.m;
  }

  #arm(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      try {
        this.flush();
      } catch {
        // Counts stay pending and go out with the next flush (e.g. once the disk has room again).
      }
    }, this.#every);
    this.#timer.unref();
    live.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', () => {
        for (const r of live) {
          try {
            r.flush();
          } catch {
            // Exiting: nowhere left to report it.
          }
        }
      });
    }
  }

  #retain(now: number): void {
    const today = dayOf(now);
    if (this.#retainedDay === today) return;
    this.#retainedDay = today;
    const oldest = dayOf(now - (METRICS_RETENTION_DAYS - 1) * DAY_MS);
    for (const name of safeReaddir(this.dir)) {
      const day = DAY_FILE.exec(name)?.[1];
      if (day && day < oldest) rmSync(path.join(this.dir, name), { force: true });
    }
  }
}

function endsTorn(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return false;
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    closeSync(fd);
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

const shared = new Map<string, LocalMetricsRecorder>();

/**
 * The recorder of a data directory, one per process: the ingest API, the poller and anything else that puts records
 * (a re-drive) count into it. Pass it as `putOptions.metrics` to `putRecordsReliably`.
 */
export function localMetricsRecorder(dataDir: string): LocalMetricsRecorder {
  const dir = metricsDir(path.resolve(dataDir));
  let r = shared.get(dir);
  if (!r) shared.set(dir, (r = new LocalMetricsRecorder(dir)));
  return r;
}

interface FileState {
  ino: number;
  offset: number;
  entries: Map<string, Aggregate>;
}

// Parsed day files, read on from where the last request stopped: a past day is parsed once, today only its new lines.
const files = new Map<string, FileState>();

function parseLine(line: string): Aggregate | undefined {
  let raw: { t?: unknown; shard?: unknown; type?: unknown; m?: unknown };
  try {
    raw = JSON.parse(line) as typeof raw;
  } catch {
    return undefined;
  }
  const t = typeof raw?.t === 'string' ? Date.parse(raw.t) : NaN;
  const dim: Dimension | undefined =
    typeof raw.shard === 'string' ? 'shard' : typeof raw.type === 'string' ? 'type' : undefined;
  if (!Number.isFinite(t) || !dim || typeof raw.m !== 'object' || raw.m === null) return undefined;
  const m: Values = {};
  for (const [name, v] of Object.entries(raw.m))
    if (KNOWN.has(name) && typeof v === 'number' && Number.isFinite(v)) m[name as MetricName] = v;
  return { t, dim, id: String(dim === 'shard' ? raw.shard : raw.type), m };
}

/**
 * The aggregates of one day file. Only whole lines count: a torn last line (a flush being written, or a writer that
 * died) is read again next time, and a garbled line is skipped. Synchronous on purpose, so two requests never advance
 * the same cached state at once.
 */
function readDay(file: string): Map<string, Aggregate> {
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

/**
 * The local runtime's metrics, read back from the day files for the console (a process apart from the runtime that
 * records them). Shards appear when they have any data in the range.
 */
export class LocalMetricsSource implements MetricsSource {
  constructor(readonly dir: string) {}

  async shardMetrics({ range, now }: MetricsQuery): Promise<ShardMetrics> {
    const window = metricsWindow(range, now);
    const byShard = this.#collect(window, 'shard');
    const shards: ShardSeries[] = [...byShard.keys()].sort().map((shardId) => {
      const aggs = byShard.get(shardId)!;
      const series = Object.fromEntries(
        SHARD_METRICS.map((name) => [name, fillSeries(window, samplesOf(aggs, name), STATISTIC[name])]),
      ) as ShardSeries['series'];
      return { shardId, series };
    });
    return { ...windowFields(range, window), shards };
  }

  async pipelineMetrics({ range, now }: MetricsQuery): Promise<PipelineMetrics> {
    const window = metricsWindow(range, now);
    const aggs = [...this.#collect(window, 'type').values()].flat();
    return {
      ...windowFields(range, window),
      accepted: fillSeries(window, samplesOf(aggs, 'EventsAccepted'), 'Sum'),
      rejected: fillSeries(window, samplesOf(aggs, 'EventsRejected'), 'Sum'),
    };
  }

  #collect(window: MetricsWindow, dim: Dimension): Map<string, Aggregate[]> {
    const out = new Map<string, Aggregate[]>();
    if (!statOrNull(this.dir)) return out;
    for (let day = Math.floor(window.start / DAY_MS) * DAY_MS; day < window.end; day += DAY_MS) {
      for (const a of readDay(path.join(this.dir, `${dayOf(day)}.jsonl`)).values()) {
        if (a.dim !== dim || a.t < window.start || a.t >= window.end) continue;
        const list = out.get(a.id) ?? [];
        list.push(a);
        out.set(a.id, list);
      }
    }
    return out;
  }
}

function* samplesOf(aggs: Aggregate[], name: MetricName): Iterable<readonly [number, number]> {
  for (const a of aggs) {
    const v = a.m[name];
    if (v !== undefined) yield [a.t, v];
  }
}

function statOrNull(p: string) {
  try {
    return statSync(p);
  } catch {
    return null;
  }
}
