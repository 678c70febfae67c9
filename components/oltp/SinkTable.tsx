'use client';
import { Table } from '@mantine/core';
import type { SinkProgress } from '@/lib/oltp/status.ts';
import { DataTable, type Column } from '@/components/ui/DataTable.tsx';
import { ago, count, duration } from './format.ts';

const COLUMNS: Column<SinkProgress>[] = [
  { id: 'consumer', header: 'consumer', sortValue: (s) => s.consumer, cell: (s) => s.consumer },
  { id: 'shard', header: 'shard', sortValue: (s) => s.shardId, cell: (s) => <code>{s.shardId}</code> },
  { id: 'applied', header: 'applied', numeric: true, sortValue: (s) => s.applied, cell: (s) => count(s.applied) },
  {
    id: 'duplicates',
    header: 'duplicates',
    numeric: true,
    title: 'events already in the database (re-deliveries, re-drives of applied events)',
    sortValue: (s) => s.duplicates,
    cell: (s) => count(s.duplicates),
  },
  {
    id: 'rejected',
    header: 'quarantined',
    numeric: true,
    title: 'events the database refused, quarantined with stage oltp-sink',
    sortValue: (s) => s.rejected,
    cell: (s) => count(s.rejected),
  },
  { id: 'batches', header: 'batches', numeric: true, sortValue: (s) => s.batches, cell: (s) => count(s.batches) },
  {
    id: 'idle',
    header: 'last batch',
    title: 'time since the last batch was applied; grows while the sink is stopped or the database is down',
    sortValue: (s) => s.idleMs,
    cell: (s) => ago(s.idleMs),
  },
  {
    id: 'lag',
    header: 'lag',
    title: 'how long the newest applied record waited between reaching the stream and being applied',
    sortValue: (s) => s.latencyMs,
    cell: (s) => duration(s.latencyMs),
  },
];

/** The sink's progress per consumer and shard: what it applied, skipped as already there and quarantined, and how fresh. */
export function SinkTable({ sink }: { sink: SinkProgress[] }) {
  const total = (k: 'applied' | 'duplicates' | 'rejected' | 'batches') => count(sink.reduce((a, s) => a + s[k], 0));
  return (
    <DataTable
      label="Sink progress per shard"
      testId="oltp-sink"
      columns={COLUMNS}
      rows={sink}
      rowKey={(s) => `${s.consumer}/${s.shardId}`}
      rowProps={(s) => ({ title: `checkpoint ${s.sequenceNumber}` })}
      emptyTestId="oltp-sink-empty"
      empty={
        <>
          The sink has not applied a batch yet — produce some transactions with <code>npx tributary produce</code>
        </>
      }
      footer={
        sink.length > 1 ? (
          <Table.Tr>
            <Table.Th colSpan={2}>all shards</Table.Th>
            <Table.Th className="num">{total('applied')}</Table.Th>
            <Table.Th className="num">{total('duplicates')}</Table.Th>
            <Table.Th className="num">{total('rejected')}</Table.Th>
            <Table.Th className="num">{total('batches')}</Table.Th>
            <Table.Th colSpan={2} />
          </Table.Tr>
        ) : null
      }
    />
  );
}
