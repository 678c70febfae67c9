'use client';
import { Group, Paper, Text, Title } from '@mantine/core';
import type { PipelineStatus } from '@/lib/pipeline-status.ts';
import { DataTable, type Column } from '@/components/ui/DataTable.tsx';

const n = (v: number) => v.toLocaleString('en-US');

type LakeRow = { type: string; rows: number; objects: number; partitions: number };
const LAKE_COLUMNS: Column<LakeRow>[] = [
  { id: 'type', header: 'Lake table', cell: (r) => r.type, sortValue: (r) => r.type },
  { id: 'rows', header: 'Rows', cell: (r) => n(r.rows), sortValue: (r) => r.rows, numeric: true },
  { id: 'objects', header: 'Objects', cell: (r) => n(r.objects), sortValue: (r) => r.objects, numeric: true },
  {
    id: 'partitions',
    header: 'Partitions',
    cell: (r) => n(r.partitions),
    sortValue: (r) => r.partitions,
    numeric: true,
  },
];
type ReasonRow = { reason: string; count: number };
const REASON_COLUMNS: Column<ReasonRow>[] = [
  { id: 'reason', header: 'Reason', cell: (r) => r.reason, sortValue: (r) => r.reason },
  { id: 'count', header: 'Records', cell: (r) => n(r.count), sortValue: (r) => r.count, numeric: true },
];

/** Counts per stage: lake rows per type and quarantined records per stage and reason. */
export function PipelineSummary({ status }: { status: PipelineStatus }) {
  return (
    <Paper withBorder p="md" mt="md" component="section" aria-labelledby="summary">
      <Title order={2} id="summary">
        Pipeline
      </Title>
      <Text size="sm" my="xs">
        Stream <code>{status.stream.name}</code>: {status.stream.status}, {status.stream.shards.length} shards
      </Text>
      <DataTable
        label="Lake tables"
        columns={LAKE_COLUMNS}
        rows={Object.entries(status.lake.byType).map(([type, t]) => ({ type, ...t }))}
        rowKey={(r) => r.type}
        empty="The lake is empty: produce some events with npx tributary produce."
      />
      <Group mt="md" mb="xs">
        <Title order={3}>Quarantine: {n(status.quarantine.records)} records stored</Title>
        <Text size="xs" c="dimmed">
          open, re-driven and discarded alike (the backlog tile counts the open ones)
        </Text>
      </Group>
      <DataTable
        label="Quarantined records by reason"
        columns={REASON_COLUMNS}
        rows={Object.entries(status.quarantine.byReason).map(([reason, count]) => ({ reason, count }))}
        rowKey={(r) => r.reason}
        empty="Nothing quarantined."
      />
    </Paper>
  );
}
