'use client';
import { useMemo } from 'react';
import { Paper, Text } from '@mantine/core';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { chartRows, metricTotal, STATISTIC, type ShardMetricName, type ShardMetrics } from '@/lib/metrics/types.ts';
import { formatBytes, formatChartTime, formatCount, formatDuration } from '@/lib/util/format.ts';

const SPECS: Record<ShardMetricName, { title: string; format: (v: number) => string }> = {
  IncomingRecords: { title: 'Incoming records', format: formatCount },
  IncomingBytes: { title: 'Incoming bytes', format: (v) => (v === 0 ? '0' : formatBytes(v)) },
  // Kinesis counts every GetRecords of every consumer: with two consumers, twice what came in.
  OutgoingRecords: { title: 'Outgoing records (all consumers)', format: formatCount },
  WriteProvisionedThroughputExceeded: { title: 'Throttled writes', format: formatCount },
  IteratorAgeMilliseconds: { title: 'Iterator age', format: formatDuration },
};

// Distinguishable in light and dark mode; shards beyond eight reuse them in order.
export const SHARD_COLORS = ['#4a7bd0', '#d9822b', '#3aa675', '#c94f7c', '#8a6fd1', '#b0a02c', '#2aa3b8', '#888888'];

/** Every other shard's line is dashed, so two shards with the same values (an even spread) both stay visible. */
export const shardDash = (i: number): string | undefined => (i % 2 ? '6 3' : undefined);

function perPeriod(seconds: number): string {
  return seconds === 60
    ? 'per minute'
    : seconds % 3600 === 0
      ? `per ${seconds / 3600 === 1 ? 'hour' : `${seconds / 3600} hours`}`
      : `per ${seconds / 60} minutes`;
}

interface DotProps {
  cx?: number;
  cy?: number;
  index: number;
  stroke?: string;
}

/**
 * Lines are not drawn across gaps (an age nobody measured), so a bucket with no neighbours would be invisible: it gets
 * a dot, every other point none.
 */
function isolatedDot(rows: Record<string, number | null>[], key: string) {
  // biome-ignore lint/correctness/noComponentHookFactories: a recharts dot renderer closing over the rows it marks; it has no hooks or state.
  return function IsolatedDot({ cx, cy, index, stroke }: DotProps) {
    const isolated = rows[index]?.[key] != null && rows[index - 1]?.[key] == null && rows[index + 1]?.[key] == null;
    return isolated && cx !== undefined && cy !== undefined ? (
      <circle key={`${key}-${index}`} cx={cx} cy={cy} r={2.5} fill={stroke} />
    ) : (
      <g key={`${key}-${index}`} />
    );
  };
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
  const time = (t: unknown) => formatChartTime(Number(t), metrics.period);
  return (
    <Paper
      component="figure"
      withBorder
      m={0}
      p="xs"
      className="chart-panel"
      data-testid={`shard-chart-${metric}`}
      aria-label={`${spec.title} per shard, ${perPeriod(metrics.period)}: ${summary}`}
    >
      <Text component="figcaption" size="sm" px="xs" pb={4}>
        <strong>{spec.title}</strong>{' '}
        <Text span size="xs" c="dimmed">
          {STATISTIC[metric] === 'Sum' ? perPeriod(metrics.period) : `max ${perPeriod(metrics.period)}`} · {summary}
        </Text>
      </Text>
      <ResponsiveContainer width="100%" height={180}>
        <LineChart data={rows} margin={{ top: 6, right: 12, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis
            dataKey="t"
            type="number"
            scale="time"
            domain={[metrics.start, metrics.end - metrics.period * 1000]}
            tickFormatter={time}
            minTickGap={28}
            fontSize={11}
          />
          <YAxis width={64} tickFormatter={(v: number) => spec.format(v)} fontSize={11} allowDecimals={false} />
          <Tooltip labelFormatter={time} formatter={(v) => (typeof v === 'number' ? spec.format(v) : '—')} />
          <Legend wrapperStyle={{ fontSize: 11 }} />
          {metrics.shards.map((s, i) => (
            <Line
              key={s.shardId}
              dataKey={s.shardId}
              name={s.shardId}
              stroke={SHARD_COLORS[i % SHARD_COLORS.length]}
              strokeDasharray={shardDash(i)}
              dot={isolatedDot(rows, s.shardId)}
              activeDot={{ r: 3 }}
              isAnimationActive={false}
              connectNulls={false}
              strokeWidth={1.5}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </Paper>
  );
}
