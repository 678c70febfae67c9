/**
 * Shared helpers of the benchmarks: timing loops, interleaved A/B rounds, medians and percentiles, and table output.
 * Every figure a benchmark prints comes from a measurement made in the same process run; machines are noisy, so each
 * throughput is reported next to a baseline measured the same way and as a ratio against it.
 */
import { performance } from 'node:perf_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDev, type DevOptions, type DevRuntime } from '../local/dev.ts';

/** `BENCH_QUICK=1` shrinks durations and sizes for a fast smoke run. */
export const QUICK = process.env.BENCH_QUICK === '1' || process.env.BENCH_QUICK === 'true';

export const now = (): number => performance.now();

export { sleep } from '../lib/util/time.ts';

/** Progress goes to stderr so stdout holds only the table and the JSON line. */
export function progress(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

export function median(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile (p in 0..100) of an unsorted list. */
export function percentile(xs: readonly number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1]!;
}

export function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/**
 * Calls `step` (which processes some units of work and returns how many) over and over for about `durationMs` and
 * returns units per second. `step` is always called at least once.
 */
export function rate(step: () => number, durationMs: number): { perSecond: number; units: number; ms: number } {
  const t0 = now();
  let units = 0;
  let t = t0;
  do {
    units += step();
    t = now();
  } while (t - t0 < durationMs);
  const ms = t - t0;
  return { perSecond: (units / ms) * 1000, units, ms };
}

export interface AbResult {
  /** Units per second of each round. */
  a: number[];
  b: number[];
  medianA: number;
  medianB: number;
  /** medianA / medianB. */
  ratio: number;
  /** Median of the per-round ratios (a second view on the same data, less sensitive to drift). */
  medianRoundRatio: number;
}

/**
 * Warms both candidates up, then runs `rounds` interleaved rounds of about `roundMs` each (A then B, B then A, … so
 * neither always runs on a hotter or colder machine) and compares medians.
 */
export function interleave(
  a: () => number,
  b: () => number,
  opts: { rounds: number; roundMs: number; warmupMs: number; label?: string },
): AbResult {
  rate(a, opts.warmupMs);
  rate(b, opts.warmupMs);
  const ra: number[] = [];
  const rb: number[] = [];
  for (let i = 0; i < opts.rounds; i++) {
    if (i % 2 === 0) {
      ra.push(rate(a, opts.roundMs).perSecond);
      rb.push(rate(b, opts.roundMs).perSecond);
    } else {
      rb.push(rate(b, opts.roundMs).perSecond);
      ra.push(rate(a, opts.roundMs).perSecond);
    }
    if (opts.label)
      progress(`${opts.label} round ${i + 1}/${opts.rounds}: ${fmtInt(ra[i]!)} vs baseline ${fmtInt(rb[i]!)} /s`);
  }
  const medianA = median(ra);
  const medianB = median(rb);
  return {
    a: ra,
    b: rb,
    medianA,
    medianB,
    ratio: medianA / medianB,
    medianRoundRatio: median(ra.map((x, i) => x / rb[i]!)),
  };
}

export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`${name}=${JSON.stringify(raw)} must be a positive whole number.`);
  return n;
}

// ---- formatting ---------------------------------------------------------------------------------------------------

export function fmtInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n);
}

export function fmt(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : String(n);
}

export function fmtUsd(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  return n >= 1 ? `$${n.toFixed(2)}` : `$${n.toFixed(4)}`;
}

/** Rounds numbers for the JSON line (keeps it readable without losing meaning). */
export function round(n: number, digits = 3): number {
  if (!Number.isFinite(n)) return n;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** A plain-text table: the first row is the header; columns are padded to their widest cell. */
export function table(rows: string[][], align: ('l' | 'r')[] = []): string {
  const widths: number[] = [];
  for (const r of rows)
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, c.length);
    });
  const line = (r: string[]) =>
    r
      .map((c, i) => ((align[i] ?? (i === 0 ? 'l' : 'r')) === 'l' ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const sep = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(rows[0]!), sep, ...rows.slice(1).map(line)].join('\n');
}

/** Pass/fail mark for a figure against its target. */
export function verdict(ok: boolean): string {
  return ok ? 'ok' : 'MISSED';
}

/**
 * A local runtime for one bench section, in a fresh data directory of its own (the caller removes it): free loopback
 * ports, no console and no OLTP sink unless `over` asks for them.
 */
export async function startBenchRuntime(
  section: string,
  over: Partial<DevOptions> = {},
): Promise<{ rt: DevRuntime; dataDir: string }> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `tributary-bench-${section}-`));
  progress(`${section}: starting the local runtime in ${dataDir}`);
  try {
    const rt = await startDev({ dataDir, ports: { api: 0, kinesis: 0, s3: 0 }, console: false, oltp: false, ...over });
    return { rt, dataDir };
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}
