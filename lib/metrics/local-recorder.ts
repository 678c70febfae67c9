import { appendFileSync, closeSync, fstatSync, mkdirSync, openSync, readSync, rmSync } from 'node:fs';
import path from 'node:path';
import {
  type Aggregate,
  DAY_FILE,
  DAY_MS,
  type Dimension,
  dayOf,
  keyOf,
  METRICS_RETENTION_DAYS,
  merge,
  metricsDir,
  safeReaddir,
  type Values,
} from './local-files.ts';
import { CONSUMER_LAG_METRIC, type ShardMetricsRecorder } from './types.ts';

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

  recordConsumerLag(consumer: string, shardId: string, ageMs: number): void {
    merge(this.#values('consumer', `${consumer}/${shardId}`), CONSUMER_LAG_METRIC, Math.max(0, ageMs));
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
