'use client';
import { useQuery } from '@tanstack/react-query';
import type { OltpOverview as OltpData } from '@/lib/console/oltp.ts';
import { Alert, Paper, Stack, Text, Title } from '@mantine/core';
import { Loading } from '@/components/ui/States.tsx';
import { ApiError, api } from '../api.ts';
import { LatestTransactions } from './LatestTransactions.tsx';
import { OltpKpis } from './OltpKpis.tsx';
import { SinkTable } from './SinkTable.tsx';
import { serverName, utcTime } from './format.ts';

const REFRESH_MS = 5_000;
const LATEST = 20;

/** What to do when the database cannot be read (`what` the page could not load: the OLTP status, the imports). */
export function OltpUnavailable({
  error,
  stale,
  what = 'the OLTP status',
  refreshMs = REFRESH_MS,
}: {
  error: Error;
  stale: boolean;
  what?: string;
  refreshMs?: number;
}) {
  const down = error instanceof ApiError && error.status === 503;
  return (
    <Alert color="red" variant="light" data-testid="oltp-error">
      <Text size="sm">
        {down ? 'The OLTP database is unavailable' : `Cannot load ${what}`}: {error.message}
      </Text>
      <Text size="sm">
        Run <code>tributary dev</code> (it starts the sink and its embedded database), or set <code>DATABASE_URL</code>{' '}
        to your Postgres server before starting the console. This page retries every {refreshMs / 1000} s
        {stale ? '; the figures below are from the last successful read' : ''}.
      </Text>
    </Alert>
  );
}

/** The OLTP database and its sink, refreshed every 5 s: rows per table, failures, per-shard progress, newest rows. */
export function OltpOverview() {
  const status = useQuery({
    queryKey: ['oltp', LATEST],
    queryFn: () => api<OltpData>(`/api/oltp?latest=${LATEST}`),
    refetchInterval: REFRESH_MS,
  });
  if (status.isPending) return <Loading>Loading the OLTP database…</Loading>;
  const data = status.data;
  return (
    <Stack gap="md">
      {status.error ? <OltpUnavailable error={status.error} stale={!!data} /> : null}
      {data ? (
        <>
          <Text size="sm" c="dimmed" data-testid="oltp-server">
            {serverName(data.server)} · read {utcTime(data.at)} UTC · refreshes every {REFRESH_MS / 1000} s
          </Text>
          <OltpKpis status={data} />
          <Paper withBorder p="md" component="section" aria-labelledby="oltp-sink-title">
            <Title order={2} id="oltp-sink-title" mb="xs">
              Sink per shard
            </Title>
            <SinkTable sink={data.sink} />
          </Paper>
          <Paper withBorder p="md" component="section" aria-labelledby="oltp-latest-title">
            <Title order={2} id="oltp-latest-title">
              Latest transactions
            </Title>
            <Text size="sm" c="dimmed" mb="xs">
              The {LATEST} newest by transaction time (when the transaction happened, not when it was loaded).
            </Text>
            <LatestTransactions rows={data.latest} />
          </Paper>
        </>
      ) : null}
    </Stack>
  );
}
