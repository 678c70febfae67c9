'use client';
import type { ReactNode } from 'react';
import { Paper, Text } from '@mantine/core';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatChartTime } from '@/lib/util/format.ts';

// Distinguishable in light and dark mode; shards beyond eight reuse them in order.
const SHARD_COLORS = ['#4a7bd0', '#d9822b', '#3aa675', '#c94f7c', '#8a6fd1', '#b0a02c', '#2aa3b8', '#888888'];

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

/**
 * A chart panel of one value per shard over a metrics window: a line per shard (every other one dashed, so shards with
 * equal values all show), gaps left where nothing was measured, times in UTC.
 */
export function ShardLines({
  rows,
  shards,
  window,
  format,
  title,
  caption,
  label,
  testId,
}: {
  /** `{t, <shardId>: value}` per bucket. */
  rows: Record<string, number | null>[];
  shards: string[];
  window: { start: number; end: number; period: number };
  format: (v: number) => string;
  title: string;
  caption: ReactNode;
  /** The chart as a sentence, for screen readers. */
  label: string;
  testId: string;
}) {
  const time = (t: unknown) => formatChartTime(Number(t), window.period);
  return (
    <Paper component="figure" withBorder m={0} p="xs" className="chart-panel" data-testid={testId} aria-label={label}>
      <Text component="figcaption" size="sm" px="xs" pb={4}>
        <strong>{title}</strong>{' '}
        <Text span size="xs" c="dimmed">
          {caption}
        </Text>
      </Text>
      <ResponsiveContainer width="100%" height={180}>
        <LineChart data={rows} margin={{ top: 6, right: 12, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis
            dataKey="t"
            type="number"
            scale="time"
            domain={[window.start, window.end - window.period * 1000]}
            tickFormatter={time}
            minTickGap={28}
            fontSize={11}
          />
          <YAxis width={64} tickFormatter={(v: number) => format(v)} fontSize={11} allowDecimals={false} />
          <Tooltip labelFormatter={time} formatter={(v) => (typeof v === 'number' ? format(v) : '—')} />
          <Legend wrapperStyle={{ fontSize: 11 }} />
          {shards.map((shardId, i) => (
            <Line
              key={shardId}
              dataKey={shardId}
              name={shardId}
              stroke={SHARD_COLORS[i % SHARD_COLORS.length]}
              strokeDasharray={i % 2 ? '6 3' : undefined}
              dot={isolatedDot(rows, shardId)}
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
