import { statSync } from 'node:fs';
import path from 'node:path';
import { type Aggregate, DAY_MS, type Dimension, dayOf, readDay } from './local-files.ts';
import {
  CONSUMER_LAG_METRIC,
  type ConsumerLag,
  type Point,
  fillSeries,
  metricsWindow,
  SHARD_METRICS,
  STATISTIC,
  type MetricName,
  type MetricsQuery,
  type MetricsSource,
  type MetricsWindow,
  type PipelineMetrics,
  type ShardMetrics,
  type ShardSeries,
  windowFields,
} from './types.ts';

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

  async consumerLag({ range, now }: MetricsQuery): Promise<ConsumerLag> {
    const window = metricsWindow(range, now);
    const byConsumer = new Map<string, { shardId: string; points: Point[] }[]>();
    for (const [id, aggs] of [...this.#collect(window, 'consumer')].sort(([a], [b]) => a.localeCompare(b))) {
      const slash = id.indexOf('/');
      const consumer = id.slice(0, slash);
      const shards = byConsumer.get(consumer) ?? [];
      shards.push({
        shardId: id.slice(slash + 1),
        points: fillSeries(window, samplesOf(aggs, CONSUMER_LAG_METRIC), 'Maximum'),
      });
      byConsumer.set(consumer, shards);
    }
    return {
      ...windowFields(range, window),
      consumers: [...byConsumer].map(([consumer, shards]) => ({ consumer, shards })),
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
