'use client';
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import type { LakeFreshness } from '@/lib/metrics/freshness.ts';
import {
  type ConsumerLag,
  hasTraffic,
  RANGE_NAMES,
  RANGES,
  ratePerMinute,
  SHARD_METRICS,
  type MetricsRange,
  type PipelineMetrics,
  type ShardMetrics,
  worstLag,
} from '@/lib/metrics/types.ts';
import { LagCharts } from './LagCharts.tsx';
import { Button, Group, Paper, SimpleGrid, Title } from '@mantine/core';
import { Empty, Loading, Problem } from '@/components/ui/States.tsx';
import { api } from '../api.ts';
import { KpiTiles } from './KpiTiles.tsx';
import { ShardChart } from './ShardChart.tsx';

const REFRESH_MS = 5_000;
const RANGE_BUTTON: Record<MetricsRange, string> = {
  '15m': '15 m',
  '1h': '1 h',
  '24h': '24 h',
  '7d': '7 d',
  '14d': '14 d',
};

/** Live KPIs (ingest rates, the quarantine backlog, lake freshness) and per-shard charts of the stream. */
export function MetricsOverview() {
  const [range, setRange] = useState<MetricsRange>('15m');
  const shards = useQuery({
    queryKey: ['metrics', 'shards', range],
    queryFn: () => api<ShardMetrics>(`/api/metrics/shards?range=${range}`),
    refetchInterval: REFRESH_MS,
  });
  // The tiles' rates come from the per-minute range whatever the charts show.
  const pipeline = useQuery({
    queryKey: ['metrics', 'pipeline', '15m'],
    queryFn: () => api<PipelineMetrics>('/api/metrics/pipeline?range=15m'),
    refetchInterval: REFRESH_MS,
  });
  const counts = useQuery({
    queryKey: ['q-counts'],
    queryFn: () => api<{ open: number }>('/api/quarantine/counts'),
    refetchInterval: REFRESH_MS,
  });
  const lag = useQuery({
    queryKey: ['metrics', 'lag', range],
    queryFn: () => api<ConsumerLag>(`/api/metrics/lag?range=${range}`),
    refetchInterval: REFRESH_MS,
  });
  const freshness = useQuery({
    queryKey: ['metrics', 'freshness'],
    queryFn: () => api<LakeFreshness>('/api/metrics/freshness'),
    refetchInterval: REFRESH_MS,
  });

  return (
    <Paper withBorder p="md" component="section" aria-labelledby="metrics">
      <Group justify="space-between" mb="xs">
        <Title order={2} id="metrics">
          Stream metrics
        </Title>
        <Button.Group aria-label="Range">
          {RANGE_NAMES.map((r) => (
            <Button
              key={r}
              size="compact-sm"
              variant={r === range ? 'filled' : 'default'}
              aria-pressed={r === range}
              onClick={() => setRange(r)}
            >
              {RANGE_BUTTON[r]}
            </Button>
          ))}
        </Button.Group>
      </Group>
      <KpiTiles
        acceptedPerMinute={
          pipeline.data ? ratePerMinute(pipeline.data.accepted, new Date(pipeline.data.at)) : undefined
        }
        rejectedPerMinute={
          pipeline.data ? ratePerMinute(pipeline.data.rejected, new Date(pipeline.data.at)) : undefined
        }
        backlog={counts.data?.open}
        freshness={freshness.data}
        {...(lag.data ? { lag: worstLag(lag.data) } : {})}
      />
      {pipeline.error || freshness.error || counts.error ? (
        <Problem>Cannot load the indicators: {(pipeline.error ?? freshness.error ?? counts.error)!.message}</Problem>
      ) : null}
      {shards.error ? <Problem>Cannot load metrics: {shards.error.message}</Problem> : null}
      {shards.isPending ? (
        <Loading>Loading metrics…</Loading>
      ) : shards.data && !hasTraffic(shards.data) ? (
        <Empty testId="metrics-empty">
          No traffic in {RANGES[range].label} — produce some with <code>npx tributary produce</code>
        </Empty>
      ) : shards.data ? (
        <SimpleGrid cols={{ base: 1, md: 2, xl: 3 }} spacing="sm">
          {SHARD_METRICS.map((m) => (
            <ShardChart key={m} metrics={shards.data} metric={m} />
          ))}
        </SimpleGrid>
      ) : null}
      <Title order={3} mt="md" mb="xs" id="lag">
        Consumer lag
      </Title>
      {lag.error ? <Problem>Cannot load the consumer lag: {lag.error.message}</Problem> : null}
      {lag.data ? <LagCharts lag={lag.data} /> : <Loading>Loading the consumer lag…</Loading>}
    </Paper>
  );
}
