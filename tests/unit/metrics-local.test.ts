import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { METRICS_RETENTION_DAYS } from '../../lib/metrics/local-files.ts';
import { LocalMetricsRecorder } from '../../lib/metrics/local-recorder.ts';
import { LocalMetricsSource } from '../../lib/metrics/local-source.ts';
import {
  hasTraffic,
  metricTotal,
  MetricsError,
  parseRange,
  ratePerMinute,
  type ShardMetrics,
} from '../../lib/metrics/types.ts';

const T0 = Date.parse('2026-01-15T10:07:30.000Z');
const MIN = 60_000;

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

/** A recorder on a clock the test moves, writing into a fresh directory. */
function setup(start = T0) {
  const root = mkdtempSync(path.join(os.tmpdir(), 'tributary-metrics-'));
  const dir = path.join(root, 'metrics');
  const clock = { now: start };
  const recorder = new LocalMetricsRecorder(dir, { now: () => clock.now, flushEveryMs: 3_600_000 });
  cleanup.push(() => {
    recorder.stop();
    rmSync(root, { recursive: true, force: true });
  });
  const source = new LocalMetricsSource(dir);
  return { dir, clock, recorder, source };
}

const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as unknown);
const values = (m: ShardMetrics, shard: string, metric: keyof ShardMetrics['shards'][number]['series']) =>
  m.shards.find((s) => s.shardId === shard)!.series[metric].map((p) => p.v);

describe('local metrics recorder', () => {
  it('aggregates per minute, shard and type, and appends one line per minute and dimension per flush', () => {
    const { dir, clock, recorder } = setup();
    recorder.recordPut('shardId-000000000000', 3, 300, 0);
    recorder.recordPut('shardId-000000000000', 2, 250, 1);
    recorder.recordPut('shardId-000000000001', 1, 90, 0);
    recorder.recordRead('shardId-000000000000', 4, 120);
    recorder.recordRead('shardId-000000000000', 1, 80);
    recorder.recordIngest('transactions', 5, 1);
    recorder.recordIngest('transactions', 1, 0);
    recorder.flush();
    clock.now += MIN;
    recorder.recordPut('shardId-000000000000', 7, 700, 0);
    recorder.flush();
    recorder.stop();

    expect(readdirSync(dir)).toEqual(['2026-01-15.jsonl']);
    expect(lines(path.join(dir, '2026-01-15.jsonl'))).toEqual([
      {
        t: '2026-01-15T10:07:00.000Z',
        shard: 'shardId-000000000000',
        m: {
          IncomingRecords: 5,
          IncomingBytes: 550,
          WriteProvisionedThroughputExceeded: 1,
          OutgoingRecords: 5,
          IteratorAgeMilliseconds: 120,
        },
      },
      {
        t: '2026-01-15T10:07:00.000Z',
        shard: 'shardId-000000000001',
        m: { IncomingRecords: 1, IncomingBytes: 90, WriteProvisionedThroughputExceeded: 0 },
      },
      { t: '2026-01-15T10:07:00.000Z', type: 'transactions', m: { EventsAccepted: 6, EventsRejected: 1 } },
      {
        t: '2026-01-15T10:08:00.000Z',
        shard: 'shardId-000000000000',
        m: { IncomingRecords: 7, IncomingBytes: 700, WriteProvisionedThroughputExceeded: 0 },
      },
    ]);
  });

  it('writes an idle reader once per minute, not at every flush', () => {
    const { dir, clock, recorder } = setup();
    for (let i = 0; i < 4; i++) {
      recorder.recordRead('shardId-000000000000', 0, 0);
      recorder.flush();
      clock.now += 5_000;
    }
    recorder.recordRead('shardId-000000000000', 2, 40);
    recorder.flush();
    expect(lines(path.join(dir, '2026-01-15.jsonl'))).toEqual([
      {
        t: '2026-01-15T10:07:00.000Z',
        shard: 'shardId-000000000000',
        m: { OutgoingRecords: 0, IteratorAgeMilliseconds: 0 },
      },
      {
        t: '2026-01-15T10:07:00.000Z',
        shard: 'shardId-000000000000',
        m: { OutgoingRecords: 2, IteratorAgeMilliseconds: 40 },
      },
    ]);
  });

  it('files minutes under their UTC day and keeps the last 15 days', () => {
    const { dir, clock, recorder } = setup(Date.parse('2026-01-15T23:59:50.000Z'));
    mkdirSync(dir, { recursive: true });
    for (const day of ['2025-12-31', '2026-01-01', '2026-01-02', '2026-01-09', '2026-01-14'])
      writeFileSync(path.join(dir, `${day}.jsonl`), '');
    writeFileSync(path.join(dir, 'notes.txt'), 'not a day file');
    recorder.recordPut('shardId-000000000000', 1, 10, 0);
    clock.now += 20_000;
    recorder.recordPut('shardId-000000000000', 2, 20, 0);
    recorder.flush();
    // Today is 2026-01-16: it and the 14 days before it are kept (a 14-day range ending now).
    expect(METRICS_RETENTION_DAYS).toBe(15);
    expect(readdirSync(dir).sort()).toEqual([
      '2026-01-02.jsonl',
      '2026-01-09.jsonl',
      '2026-01-14.jsonl',
      '2026-01-15.jsonl',
      '2026-01-16.jsonl',
      'notes.txt',
    ]);
    expect(lines(path.join(dir, '2026-01-15.jsonl'))).toEqual([
      {
        t: '2026-01-15T23:59:00.000Z',
        shard: 'shardId-000000000000',
        m: { IncomingRecords: 1, IncomingBytes: 10, WriteProvisionedThroughputExceeded: 0 },
      },
    ]);
    expect(lines(path.join(dir, '2026-01-16.jsonl'))).toEqual([
      {
        t: '2026-01-16T00:00:00.000Z',
        shard: 'shardId-000000000000',
        m: { IncomingRecords: 2, IncomingBytes: 20, WriteProvisionedThroughputExceeded: 0 },
      },
    ]);
  });

  it('starts on a fresh line after a torn one', async () => {
    const { dir, recorder, source } = setup();
    mkdirSync(dir, { recursive: true });
    appendFileSync(
      path.join(dir, '2026-01-15.jsonl'),
      '{"t":"2026-01-15T10:05:00.000Z","shard":"shardId-000000000000","m":{"IncomingRe',
    );
    recorder.recordPut('shardId-000000000000', 4, 40, 0);
    recorder.flush();
    const m = await source.shardMetrics({ range: '15m', now: new Date(T0) });
    expect(values(m, 'shardId-000000000000', 'IncomingRecords').slice(-3)).toEqual([0, 0, 4]);
  });
});

describe('local metrics source', () => {
  it('reports nothing for a directory that does not exist yet', async () => {
    const { source } = setup();
    const m = await source.shardMetrics({ range: '15m', now: new Date(T0) });
    expect(m).toEqual({
      range: '15m',
      period: 60,
      start: Date.parse('2026-01-15T09:53:00.000Z'),
      end: Date.parse('2026-01-15T10:08:00.000Z'),
      at: T0,
      shards: [],
    });
    expect(hasTraffic(m)).toBe(false);
    const p = await source.pipelineMetrics({ range: '15m', now: new Date(T0) });
    expect(p.accepted.map((x) => x.v)).toEqual(Array(15).fill(0));
  });

  it('fills missing minutes with 0 (ages with null), and sums flushes of the same minute', async () => {
    const { clock, recorder, source } = setup(T0 - 10 * MIN);
    recorder.recordPut('shardId-000000000001', 2, 200, 0);
    recorder.recordRead('shardId-000000000001', 2, 500);
    recorder.flush();
    recorder.recordPut('shardId-000000000001', 3, 300, 0);
    recorder.recordRead('shardId-000000000001', 3, 200);
    recorder.flush();
    clock.now = T0;
    recorder.recordPut('shardId-000000000000', 1, 100, 2);
    recorder.recordIngest('transactions', 4, 1);
    recorder.recordIngest('clickstream', 2, 0);
    recorder.flush();

    const m = await source.shardMetrics({ range: '15m', now: new Date(T0) });
    expect(m.shards.map((s) => s.shardId)).toEqual(['shardId-000000000000', 'shardId-000000000001']);
    expect(m.shards[0]!.series.IncomingRecords.map((p) => p.t)).toEqual(
      Array.from({ length: 15 }, (_, i) => Date.parse('2026-01-15T09:53:00.000Z') + i * MIN),
    );
    const at = (v: number | null, i: number) => Array.from({ length: 15 }, (_, k) => (k === i ? v : 0));
    expect(values(m, 'shardId-000000000001', 'IncomingRecords')).toEqual(at(5, 4));
    expect(values(m, 'shardId-000000000001', 'IncomingBytes')).toEqual(at(500, 4));
    expect(values(m, 'shardId-000000000001', 'OutgoingRecords')).toEqual(at(5, 4));
    expect(values(m, 'shardId-000000000001', 'IteratorAgeMilliseconds')).toEqual(
      Array.from({ length: 15 }, (_, k) => (k === 4 ? 500 : null)),
    );
    expect(values(m, 'shardId-000000000000', 'WriteProvisionedThroughputExceeded')).toEqual(at(2, 14));
    expect(values(m, 'shardId-000000000000', 'IteratorAgeMilliseconds')).toEqual(Array(15).fill(null));
    expect(metricTotal(m, 'IncomingRecords')).toBe(6);
    expect(metricTotal(m, 'IteratorAgeMilliseconds')).toBe(500);
    expect(hasTraffic(m)).toBe(true);

    const p = await source.pipelineMetrics({ range: '15m', now: new Date(T0) });
    expect(p.accepted.map((x) => x.v)).toEqual(at(6, 14));
    expect(p.rejected.map((x) => x.v)).toEqual(at(1, 14));
    // 6 events in the 4.5 minutes since the first of the last five buckets began.
    expect(ratePerMinute(p.accepted, new Date(p.at))).toBeCloseTo(6 / 4.5, 10);
  });

  it('buckets long ranges by their period: sums for counts, the maximum for ages, across day files', async () => {
    const now = Date.parse('2026-01-16T00:12:00.000Z');
    const { clock, recorder, source } = setup(Date.parse('2026-01-15T23:56:10.000Z'));
    for (const [t, n, age] of [
      ['2026-01-15T23:56:10.000Z', 1, 10],
      ['2026-01-15T23:58:10.000Z', 2, 30],
      ['2026-01-16T00:00:10.000Z', 4, 20],
      ['2026-01-16T00:04:10.000Z', 8, 5],
    ] as const) {
      clock.now = Date.parse(t);
      recorder.recordPut('shardId-000000000000', n, n * 10, 0);
      recorder.recordRead('shardId-000000000000', n, age);
      recorder.flush();
    }
    const m = await source.shardMetrics({ range: '24h', now: new Date(now) });
    expect(m.period).toBe(300);
    expect(m.shards[0]!.series.IncomingRecords).toHaveLength(288);
    const tail = (metric: 'IncomingRecords' | 'IteratorAgeMilliseconds') => m.shards[0]!.series[metric].slice(-5);
    // Buckets 23:55, 00:00, 00:05, 00:10 (now) — and the one before them.
    expect(tail('IncomingRecords').map((p) => [new Date(p.t).toISOString().slice(11, 16), p.v])).toEqual([
      ['23:50', 0],
      ['23:55', 3],
      ['00:00', 12],
      ['00:05', 0],
      ['00:10', 0],
    ]);
    expect(tail('IteratorAgeMilliseconds').map((p) => p.v)).toEqual([null, 30, 20, null, null]);

    const week = await source.shardMetrics({ range: '7d', now: new Date(now) });
    expect(week.period).toBe(3600);
    expect(week.shards[0]!.series.IncomingRecords).toHaveLength(168);
    expect(week.shards[0]!.series.IncomingRecords.slice(-2).map((p) => p.v)).toEqual([3, 12]);
  });

  it('ignores a torn last line until it is complete, and skips garbled lines', async () => {
    const { dir, source } = setup();
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, '2026-01-15.jsonl');
    const line = (min: string, n: number) =>
      JSON.stringify({ t: `2026-01-15T10:${min}:00.000Z`, shard: 'shardId-000000000000', m: { IncomingRecords: n } });
    const torn = line('06', 20);
    writeFileSync(
      file,
      `${line('05', 1)}\nnot json at all\n{"t":"yesterday","shard":"x","m":{}}\n${torn.slice(0, 30)}`,
    );
    const read = async () =>
      values(
        await source.shardMetrics({ range: '15m', now: new Date(T0) }),
        'shardId-000000000000',
        'IncomingRecords',
      ).slice(-3);
    expect(await read()).toEqual([1, 0, 0]);
    appendFileSync(file, `${torn.slice(30)}\n${line('07', 300)}\n`);
    expect(await read()).toEqual([1, 20, 300]);
    // Read on from where it stopped: a second look adds nothing twice.
    expect(await read()).toEqual([1, 20, 300]);
    // A file replaced (a restore, a reset) is read again from its start.
    writeFileSync(file, `${line('07', 2)}\n`);
    expect(await read()).toEqual([0, 0, 2]);
    expect(existsSync(file)).toBe(true);
  });
});

describe('metrics ranges', () => {
  it('accepts the five ranges and explains a bad one', () => {
    expect(parseRange(null)).toBe('15m');
    expect(['15m', '1h', '24h', '7d', '14d'].map((r) => parseRange(r))).toEqual(['15m', '1h', '24h', '7d', '14d']);
    expect(() => parseRange('2h')).toThrow(MetricsError);
    expect(() => parseRange('toString')).toThrow(
      'range="toString" is not a metrics range; use one of 15m, 1h, 24h, 7d, 14d.',
    );
  });
});
