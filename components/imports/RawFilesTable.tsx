'use client';
import { Badge, Text, Tooltip } from '@mantine/core';
import type { RawFile } from '@/lib/imports/raw-files.ts';
import { type Column, DataTable } from '@/components/ui/DataTable.tsx';
import { formatBytes } from '../api.ts';
import { count, duration, utcTime } from '../oltp/format.ts';
import { STATUS_ABOUT, STATUS_COLOR } from './format.ts';

const loadTime = (f: RawFile) =>
  f.claimedAt && f.finishedAt ? Math.max(0, Date.parse(f.finishedAt) - Date.parse(f.claimedAt)) : null;

/** The first problems of a load, one line each (line of the file, then why). */
function firstErrors(f: RawFile) {
  const errors = f.firstErrors ?? [];
  if (!errors.length)
    return f.error ? (
      <Text size="xs" className="tone-bad wrap">
        {f.error}
      </Text>
    ) : (
      '—'
    );
  return (
    <Text size="xs" className="wrap" component="div">
      {/* The first problems in file order: lines and ids can repeat, their place cannot. */}
      {errors.slice(0, 5).map((e, i) => (
        <div key={i}>
          line {e.line}: {e.reason ?? e.status} {(e.errors ?? []).map((x) => `${x.path} ${x.message}`).join('; ')}
        </div>
      ))}
      {errors.length > 5 ? <div>… and {count(errors.length - 5)} more in the quarantine (stage import)</div> : null}
    </Text>
  );
}

const COLUMNS: Column<RawFile>[] = [
  { id: 'type', header: 'type', sortValue: (f) => f.type, cell: (f) => f.type },
  {
    id: 'file',
    header: 'file',
    sortValue: (f) => f.key,
    cell: (f) => <code>{f.key.split('/').pop()}</code>,
    className: 'wrap',
  },
  {
    id: 'status',
    header: 'status',
    sortValue: (f) => f.status,
    cell: (f) => (
      <Tooltip label={STATUS_ABOUT[f.status] ?? f.status}>
        <Badge color={STATUS_COLOR[f.status] ?? 'gray.7'} autoContrast>
          {f.status}
        </Badge>
      </Tooltip>
    ),
  },
  { id: 'size', header: 'size', numeric: true, sortValue: (f) => f.size, cell: (f) => formatBytes(f.size) },
  {
    id: 'accepted',
    header: 'accepted',
    numeric: true,
    sortValue: (f) => f.counts?.accepted,
    cell: (f) => (f.counts ? count(f.counts.accepted) : '—'),
  },
  {
    id: 'rejected',
    header: 'quarantined',
    numeric: true,
    title: 'events that failed validation, quarantined with stage import',
    sortValue: (f) => f.counts?.rejected,
    cell: (f) => (f.counts ? count(f.counts.rejected) : '—'),
  },
  {
    id: 'failed',
    header: 'failed',
    numeric: true,
    title: 'events the stream refused after its retries: drop the file again',
    sortValue: (f) => f.counts?.failed,
    cell: (f) => (f.counts ? count(f.counts.failed) : '—'),
  },
  {
    id: 'registered',
    header: 'dropped (UTC)',
    sortValue: (f) => f.registeredAt,
    cell: (f) => utcTime(f.registeredAt),
  },
  { id: 'took', header: 'took', numeric: true, sortValue: loadTime, cell: (f) => duration(loadTime(f)) },
  { id: 'errors', header: 'first problems', cell: firstErrors, className: 'wrap' },
];

/** The newest raw event files and how their loads went. */
export function RawFilesTable({ files }: { files: RawFile[] }) {
  return (
    <DataTable
      label="Raw event files"
      testId="raw-files"
      columns={COLUMNS}
      rows={files}
      rowKey={(f) => f.id}
      rowProps={(f) => ({ 'data-status': f.status, 'data-key': f.key })}
      empty={
        <>
          No raw event files yet. Drop CSV (with a header), JSON or NDJSON files, optionally gzip, under{' '}
          <code>raw/&lt;event type&gt;/</code> in the imports bucket, or upload one above.
        </>
      }
      emptyTestId="raw-files-empty"
    />
  );
}
