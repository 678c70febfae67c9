'use client';
import { useQuery } from '@tanstack/react-query';
import { Alert, Paper, Select, Stack, Text, Title } from '@mantine/core';
import type { ImportsOverview as ImportsData } from '@/lib/imports/service.ts';
import { Kpi, KpiGrid } from '@/components/ui/Kpi.tsx';
import { Empty, Loading } from '@/components/ui/States.tsx';
import { useUrlState } from '@/components/ui/url-state.ts';
import { api } from '../api.ts';
import { OltpUnavailable } from '../oltp/OltpOverview.tsx';
import { count, utcTime } from '../oltp/format.ts';
import { RawFilesTable } from './RawFilesTable.tsx';
import { TableCard } from './TableCard.tsx';
import { UploadCard } from './UploadCard.tsx';

const REFRESH_MS = 3_000;

/** Files of every table in these statuses. */
function files(data: ImportsData, ...statuses: string[]): number {
  return data.tables.reduce(
    (n, t) => n + statuses.reduce((m, s) => m + (t.statuses[s as keyof typeof t.statuses] ?? 0), 0),
    0,
  );
}

/**
 * Table imports and raw-file loads, refreshed every 3 s: indicators, an upload (operators), each tenant/table with its
 * versions as a timeline, and the raw files. `?table=<tenant>/<table>` shows one table.
 */
export function ImportsOverview({ operator }: { operator: boolean }) {
  const url = useUrlState();
  const status = useQuery({
    queryKey: ['imports'],
    queryFn: () => api<ImportsData>('/api/imports'),
    refetchInterval: REFRESH_MS,
  });
  if (status.isPending) return <Loading>Loading the imports…</Loading>;
  const data = status.data;
  const shown = url.get('table');
  const now = data ? Date.parse(data.at) : Date.now();
  const tables = data?.tables.filter((t) => !shown || `${t.tenant}/${t.table}` === shown) ?? [];
  const held = data ? files(data, 'held') : 0;
  const bad = data ? files(data, 'failed', 'refused') : 0;
  return (
    <Stack gap="md">
      {status.error ? (
        <OltpUnavailable error={status.error} stale={!!data} what="the imports" refreshMs={REFRESH_MS} />
      ) : null}
      {data ? (
        <>
          <Text size="sm" c="dimmed" data-testid="imports-read">
            read {utcTime(data.at)} UTC · refreshes every {REFRESH_MS / 1000} s
          </Text>
          {data.notice ? (
            <Alert color="yellow" variant="light">
              {data.notice}
            </Alert>
          ) : null}
          <KpiGrid label="Imports at a glance">
            <Kpi
              testId="kpi-import-tables"
              label="Tables"
              value={count(data.tables.length)}
              note={`tenant/tables with exports; ${count(data.definitions.length)} defined in tables/`}
            />
            <Kpi
              testId="kpi-import-working"
              label="Queued or running"
              value={count(files(data, 'queued', 'running'))}
              note="one job per table at a time, in version order"
            />
            <Kpi
              testId="kpi-import-held"
              label="Held"
              value={count(held)}
              note="waiting for an operator (delete guard)"
              alert={held > 0}
            />
            <Kpi
              testId="kpi-import-bad"
              label="Refused or failed"
              value={count(bad)}
              note="nothing of these was applied"
              alert={bad > 0}
            />
            <Kpi
              testId="kpi-import-published"
              label="Published"
              value={count(files(data, 'published'))}
              note="operations on the stream"
            />
            <Kpi
              testId="kpi-raw-files"
              label="Raw files"
              value={count(data.raw.length)}
              note={`newest shown; ${count(data.raw.filter((r) => r.status === 'failed').length)} failed`}
              alert={data.raw.some((r) => r.status === 'failed')}
            />
          </KpiGrid>
          {operator ? <UploadCard definitions={data.definitions} /> : null}
          {data.tables.length > 1 ? (
            <Select
              label="Table"
              aria-label="Show one table"
              placeholder="every table"
              data={data.tables.map((t) => `${t.tenant}/${t.table}`)}
              value={shown || null}
              onChange={(v) => url.set({ table: v })}
              clearable
              w={280}
            />
          ) : null}
          {tables.length ? (
            tables.map((t) => <TableCard key={`${t.tenant}/${t.table}`} table={t} operator={operator} now={now} />)
          ) : (
            <Empty testId="imports-empty">
              {shown
                ? `No imports of ${shown}.`
                : 'No exports dropped yet. Upload one above, run `tributary import <file> --table <tenant>/<table> --version <v>`, or drop it at exports/<tenant>/<table>/<version>/ in the imports bucket.'}
            </Empty>
          )}
          <Paper withBorder p="md" component="section" aria-labelledby="raw-files-title">
            <Title order={2} id="raw-files-title" fz="lg" mb="xs">
              Raw event files
            </Title>
            <RawFilesTable files={data.raw} />
          </Paper>
        </>
      ) : null}
    </Stack>
  );
}
