'use client';
import { Text } from '@mantine/core';
import type { LatestTransaction } from '@/lib/oltp/status.ts';
import { DataTable, type Column } from '@/components/ui/DataTable.tsx';
import { maskCard, utcTime } from './format.ts';

const COLUMNS: Column<LatestTransaction>[] = [
  { id: 'trans_num', header: 'trans_num', sortValue: (t) => t.trans_num, cell: (t) => <code>{t.trans_num}</code> },
  { id: 'time', header: 'time (UTC)', sortValue: (t) => t.timestamp, cell: (t) => utcTime(t.timestamp) },
  {
    id: 'amount',
    header: 'amount',
    numeric: true,
    sortValue: (t) => (t.amount === null ? null : Number(t.amount)),
    cell: (t) => t.amount ?? '—',
  },
  {
    id: 'customer',
    header: 'customer',
    className: 'wrap',
    sortValue: (t) => t.customer,
    cell: (t) => (
      <>
        {t.customer || '—'}{' '}
        <Text span size="xs" c="dimmed" style={{ whiteSpace: 'nowrap' }}>
          {maskCard(t.cc_num)}
        </Text>
      </>
    ),
  },
  {
    id: 'merchant',
    header: 'merchant',
    className: 'wrap',
    sortValue: (t) => t.merchant,
    cell: (t) => t.merchant ?? '—',
  },
  { id: 'category', header: 'category', sortValue: (t) => t.category, cell: (t) => t.category ?? '—' },
  {
    id: 'city',
    header: 'city',
    className: 'wrap',
    sortValue: (t) => t.city,
    cell: (t) => (t.city ? `${t.city}${t.state ? `, ${t.state}` : ''}` : '—'),
  },
  {
    id: 'fraud',
    header: 'fraud',
    sortValue: (t) => (t.is_fraud === null ? null : Number(t.is_fraud)),
    cell: (t) =>
      t.is_fraud === null ? (
        '—'
      ) : t.is_fraud ? (
        <Text span size="sm" fw={700} className="tone-bad">
          fraud
        </Text>
      ) : (
        'no'
      ),
  },
  {
    id: 'source',
    header: 'source',
    className: 'wrap',
    sortValue: (t) => t.source,
    cell: (t) => (
      <>
        {t.source}
        {t.redrive_job ? (
          <>
            {' '}
            <br />
            <Text span size="xs" c="dimmed">
              job <code>{t.redrive_job}</code>
            </Text>
          </>
        ) : null}
      </>
    ),
  },
];

/** The newest transactions the sink applied, joined back to their customer, merchant and city. Every value is text. */
export function LatestTransactions({ rows }: { rows: LatestTransaction[] }) {
  return (
    <DataTable
      label="Latest transactions"
      testId="oltp-latest"
      columns={COLUMNS}
      rows={rows}
      rowKey={(t) => t.trans_num}
      rowProps={(t) => ({ 'data-trans-num': t.trans_num })}
      emptyTestId="oltp-latest-empty"
      empty="No transactions in the database yet."
    />
  );
}
