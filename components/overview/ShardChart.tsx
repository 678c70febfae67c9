'use client';
import { useMemo } from 'react';
import { chartRows, metricTotal, STATISTIC, type ShardMetricName, type ShardMetrics } from '@/lib/metrics/types.ts';
import { formatBytes, formatCount, formatDuration } from '@/lib/util/format.ts';
import { ShardLines } from './ShardLines.tsx';

const SPECS: Record<ShardMetricName, { title: string; format: (v: number) => string }> = {
  IncomingRecords: { title: 'Incoming records', format: formatCount },
  IncomingBytes: { title: 'Incoming bytes', format: (v) => (v === 0 ? '0' : formatBytes(v)) },
  // Kinesis counts every GetRecords of every consumer: with two consumers, twice what came in.
  OutgoingRecords: { title: 'Outgoing records (all consumers)', format: formatCount },
  WriteProvisionedThroughputExceeded: { title: 'Throttled writes', format: formatCount },
  IteratorAgeMilliseconds: { title: 'Iterator age', format: formatDuration },
};

function perPeriod(seconds: number): string {
  return seconds === 60
    ? 'per minute'
    : seconds % 3600 === 0
      ? `per ${seconds / 3600 === 1 ? 'hour' : `${seconds / 3600} hours`}`
      : `per ${seconds / 60} minutes`;
}

/** One metric of every shard over the range, one line per shard. */
export function ShardChart({ metrics, metric }: { metrics: ShardMetrics; metric: ShardMetricName }) {
  const rows = useMemo(() => chartRows(metrics, metric), [metrics, metric]);
  const spec = SPECS[metric];
  const total = metricTotal(metrics, metric);
  const summary =
    total === null
      ? 'no data'
      : STATISTIC[metric] === 'Sum'
        ? `${spec.format(total)} in range`
        : `max ${spec.format(total)}`;
  return (
    <ShardLines
      rows={rows}
      shards={metrics.shards.map((s) => s.shardId)}
      window={metrics}
      format={spec.format}
      title={spec.title}
      caption={`${STATISTIC[metric] === 'Sum' ? perPeriod(metrics.period) : `max ${perPeriod(metrics.period)}`} · ${summary}`}
      label={`${spec.title} per shard, ${perPeriod(metrics.period)}: ${summary}`}
      testId={`shard-chart-${metric}`}
    />
  );
}
