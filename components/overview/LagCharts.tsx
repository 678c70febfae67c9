'use client';
import { Paper, SimpleGrid, Text } from '@mantine/core';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ConsumerLag } from '@/lib/metrics/types.ts';
import { formatChartTime, formatDuration } from '@/lib/util/format.ts';
import { Empty } from '@/components/ui/States.tsx';
import { SHARD_COLORS, shardDash } from './ShardChart.tsx';

/** One chart per consumer: how far behind the stream it is, per shard, over the range (time behind, worst per bucket). */
export function LagCharts({ lag }: { lag: ConsumerLag }) {
  if (!lag.consumers.length)
    return (
      <Empty testId="lag-empty">No consumer has read anything in this range: start them with tributary dev.</Empty>
    );
  const time = (t: unknown) => formatChartTime(Number(t), lag.period);
  return (
    <SimpleGrid cols={{ base: 1, md: 2 }} spacing="sm">
      {lag.consumers.map((c) => {
        const rows = (c.shards[0]?.points ?? []).map((p, i) => {
          const row: Record<string, number | null> = { t: p.t };
          for (const s of c.shards) row[s.shardId] = s.points[i]?.v ?? null;
          return row;
        });
        const worst = Math.max(0, ...c.shards.flatMap((s) => s.points.map((p) => p.v ?? 0)));
        return (
          <Paper
            key={c.consumer}
            component="figure"
            withBorder
            m={0}
            p="xs"
            className="chart-panel"
            data-testid={`lag-chart-${c.consumer}`}
            aria-label={`${c.consumer}: time behind the stream per shard, worst ${formatDuration(worst)} in range`}
          >
            <Text component="figcaption" size="sm" px="xs" pb={4}>
              <strong>{c.consumer}</strong>{' '}
              <Text span size="xs" c="dimmed">
                time behind per shard · worst {formatDuration(worst)} in range
              </Text>
            </Text>
            <ResponsiveContainer width="100%" height={180}>
              <LineChart data={rows} margin={{ top: 6, right: 12, bottom: 0, left: 0 }}>
                <CartesianGrid strokeDasharray="3 3" vertical={false} />
                <XAxis
                  dataKey="t"
                  type="number"
                  scale="time"
                  domain={[lag.start, lag.end - lag.period * 1000]}
                  tickFormatter={time}
                  minTickGap={28}
                  fontSize={11}
                />
                <YAxis width={64} tickFormatter={(v: number) => formatDuration(v)} fontSize={11} />
                <Tooltip labelFormatter={time} formatter={(v) => (typeof v === 'number' ? formatDuration(v) : '—')} />
                <Legend wrapperStyle={{ fontSize: 11 }} />
                {c.shards.map((s, i) => (
                  <Line
                    key={s.shardId}
                    dataKey={s.shardId}
                    name={s.shardId}
                    stroke={SHARD_COLORS[i % SHARD_COLORS.length]}
                    strokeDasharray={shardDash(i)}
                    dot={false}
                    isAnimationActive={false}
                    connectNulls={false}
                    strokeWidth={1.5}
                  />
                ))}
              </LineChart>
            </ResponsiveContainer>
          </Paper>
        );
      })}
    </SimpleGrid>
  );
}
