'use client';
import { SimpleGrid } from '@mantine/core';
import type { ConsumerLag } from '@/lib/metrics/types.ts';
import { formatDuration } from '@/lib/util/format.ts';
import { Empty } from '@/components/ui/States.tsx';
import { ShardLines } from './ShardLines.tsx';

/** One chart per consumer: how far behind the stream it is, per shard, over the range (time behind, worst per bucket). */
export function LagCharts({ lag }: { lag: ConsumerLag }) {
  if (!lag.consumers.length)
    return (
      <Empty testId="lag-empty">No consumer has read anything in this range: start them with tributary dev.</Empty>
    );
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
          <ShardLines
            key={c.consumer}
            rows={rows}
            shards={c.shards.map((s) => s.shardId)}
            window={lag}
            format={formatDuration}
            title={c.consumer}
            caption={`time behind per shard · worst ${formatDuration(worst)} in range`}
            label={`${c.consumer}: time behind the stream per shard, worst ${formatDuration(worst)} in range`}
            testId={`lag-chart-${c.consumer}`}
          />
        );
      })}
    </SimpleGrid>
  );
}
