'use client';
import { useQuery } from '@tanstack/react-query';
import { Text } from '@mantine/core';
import { DataTable, type Column } from '@/components/ui/DataTable.tsx';
import { api } from '../api.ts';
import type { AuditEntry } from '../quarantine/types.ts';

const COLUMNS: Column<AuditEntry>[] = [
  { id: 'at', header: 'when (UTC)', sortValue: (a) => a.at, cell: (a) => a.at.replace('T', ' ').slice(0, 19) },
  {
    id: 'by',
    header: 'who',
    sortValue: (a) => a.by,
    cell: (a) => (
      <>
        {a.by}{' '}
        <Text span size="xs" c="dimmed">
          ({a.role})
        </Text>
      </>
    ),
  },
  { id: 'action', header: 'action', sortValue: (a) => a.action, cell: (a) => a.action },
  {
    id: 'selection',
    header: 'applied to',
    className: 'wrap',
    cell: (a) =>
      a.action === 'read' ? (
        (a.note ?? '')
      ) : a.selection === 'filter' ? (
        <code>{new URLSearchParams(a.filter).toString() || 'everything'}</code>
      ) : a.selection === 'one' ? (
        'one record'
      ) : (
        'selected records'
      ),
  },
  {
    id: 'requested',
    header: 'records',
    numeric: true,
    sortValue: (a) => a.requested,
    cell: (a) => a.requested.toLocaleString(),
  },
  {
    id: 'outcome',
    header: 'outcome',
    cell: (a) =>
      `${a.status ? `${a.status}: ` : ''}${
        Object.entries(a.counts)
          .filter(([, n]) => n > 0)
          .map(([k, n]) => `${n} ${k}`)
          .join(', ') || '—'
      }`,
  },
  { id: 'note', header: 'note', className: 'wrap', cell: (a) => (a.action === 'read' ? '' : (a.note ?? '')) },
];

/** Who re-drove, discarded or exported what, when, with which filter, and how it went; newest first. */
export function AuditLog() {
  const audit = useQuery({
    queryKey: ['audit'],
    queryFn: () => api<{ entries: AuditEntry[] }>('/api/audit?limit=200'),
    refetchInterval: 5000,
  });
  return (
    <DataTable
      label="Audit log"
      testId="audit"
      columns={COLUMNS}
      rows={audit.data?.entries}
      rowKey={(a) => a.id}
      loading={audit.isPending}
      loadingText="Loading the audit log…"
      error={audit.error}
      empty="Nothing yet: re-drives, discards and exports are recorded here."
      maxHeight="calc(100vh - 12rem)"
    />
  );
}
