'use client';
import { useEffect, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Anchor, Button, Group, NativeSelect, Paper, Text, TextInput } from '@mantine/core';
import { DataTable, type Column } from '@/components/ui/DataTable.tsx';
import { useUrlState } from '@/components/ui/url-state.ts';
import { api } from '../api.ts';
import type { AuditEntry } from '../quarantine/types.ts';
import { AuditDiff } from './AuditDiff.tsx';
import { filterWords } from '../quarantine/filter-words.ts';
import { RecordLink } from '../quarantine/RecordLink.tsx';

/** The filters the log takes from its URL (`/audit?action=redrive&record=…`), as the API does. */
const FILTERS = ['action', 'by', 'record', 'job', 'from', 'to'] as const;
type Filters = Record<(typeof FILTERS)[number], string>;

/** A quarantine list read's subject (its query string) in words, without the paging. */
function listWords(subject: string): string {
  const params = Object.fromEntries(new URLSearchParams(subject));
  delete params.offset;
  delete params.limit;
  return filterWords(params) || 'everything';
}

const recordLink = (qid: string) => <RecordLink key={qid} qid={qid} />;

function AppliedTo({ a }: { a: AuditEntry }) {
  if (a.action === 'read')
    return (
      <>
        {a.surface ?? ''}
        {a.subject ? (
          <>
            {': '}
            {a.surface === 'quarantine record' ? (
              recordLink(a.subject)
            ) : a.surface === 'quarantine list' ? (
              listWords(a.subject)
            ) : (
              <code>{a.subject}</code>
            )}
          </>
        ) : null}
      </>
    );
  if (a.selection === 'filter') {
    const words = filterWords(a.filter ?? {});
    return <span data-testid="audit-filter">{words ? `every record where ${words}` : 'every record (no filter)'}</span>;
  }
  return (
    <Group gap={6} wrap="wrap">
      {(a.qids ?? []).map(recordLink)}
      {a.qidsMore ? (
        <Text span size="xs" c="dimmed">
          and {a.qidsMore.toLocaleString()} more
        </Text>
      ) : null}
      {!a.qids ? (a.selection === 'one' ? 'one record' : 'selected records') : null}
    </Group>
  );
}

const COLUMNS: Column<AuditEntry>[] = [
  {
    id: 'at',
    header: 'when (UTC)',
    sortValue: (a) => a.at,
    cell: (a) => <time dateTime={a.at}>{a.at.replace('T', ' ').slice(0, 19)}</time>,
  },
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
  { id: 'selection', header: 'applied to', className: 'wrap', cell: (a) => <AppliedTo a={a} /> },
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
    cell: (a) => (
      <>
        {a.status ? `${a.status}: ` : ''}
        {Object.entries(a.counts)
          .filter(([, n]) => n > 0)
          .map(([k, n]) => `${n} ${k}`)
          .join(', ') || '—'}
        {a.job ? (
          <>
            {' · '}
            <Anchor href={`/quarantine?job=${encodeURIComponent(a.job)}`} size="sm" title={`job ${a.job}`}>
              job {a.job.slice(0, 8)}…
            </Anchor>
          </>
        ) : null}
      </>
    ),
  },
  {
    id: 'note',
    header: 'details',
    className: 'wrap',
    cell: (a) => (
      <>
        {a.action === 'read' ? 'unmasked (one line per 15 minutes)' : (a.note ?? '')}
        {a.edits?.length ? <AuditDiff edits={a.edits} more={a.editsMore} /> : null}
      </>
    ),
  },
];

/** Who re-drove, discarded, exported or read what unmasked, when, and how it went; newest first, filterable by URL. */
export function AuditLog() {
  const url = useUrlState();
  const applied = Object.fromEntries(FILTERS.map((k) => [k, url.get(k)])) as Filters;
  const [draft, setDraft] = useState<Filters>(applied);
  const key = FILTERS.map((k) => applied[k]).join('\u0000');
  // A link or a reload changes the URL under the form: show what is applied.
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for `applied`, which is a new object per render.
  useEffect(() => setDraft(applied), [key]);
  const query = new URLSearchParams({ limit: '200' });
  for (const k of FILTERS) if (applied[k]) query.set(k, applied[k]);
  const audit = useQuery({
    queryKey: ['audit', query.toString()],
    queryFn: () => api<{ entries: AuditEntry[]; scanned: number; truncated: boolean }>(`/api/audit?${query}`),
    refetchInterval: 5000,
  });
  const filtered = FILTERS.some((k) => applied[k]);
  const field = (k: keyof Filters) => ({
    value: draft[k],
    onChange: (e: { currentTarget: { value: string } }) => setDraft({ ...draft, [k]: e.currentTarget.value }),
  });
  return (
    <>
      <Paper withBorder p="sm" mb="sm">
        {/* biome-ignore lint/a11y/useSemanticElements: the same search form pattern as the quarantine page's. */}
        <form
          role="search"
          aria-label="Filter the audit log"
          onSubmit={(e) => {
            e.preventDefault();
            url.set(draft);
          }}
        >
          <Group align="flex-end" gap="sm">
            <NativeSelect
              label="Action"
              value={draft.action}
              onChange={(e) => {
                const next = { ...draft, action: e.currentTarget.value };
                setDraft(next);
                url.set({ action: next.action });
              }}
              data={[
                { value: '', label: 'any' },
                { value: 'redrive', label: 're-drive' },
                { value: 'discard', label: 'discard' },
                { value: 'export', label: 'export' },
                { value: 'read', label: 'unmasked read' },
              ]}
            />
            <TextInput label="Who" placeholder="part of a name" {...field('by')} w={140} />
            <TextInput label="Record id" placeholder="qid" {...field('record')} w={190} />
            <TextInput label="Job" placeholder="job id" {...field('job')} w={190} />
            <TextInput label="From (UTC)" type="date" {...field('from')} />
            <TextInput label="Before (UTC)" type="date" {...field('to')} />
            <Button type="submit">Apply</Button>
            {filtered ? (
              <Button variant="subtle" onClick={() => url.set(Object.fromEntries(FILTERS.map((k) => [k, undefined])))}>
                Clear
              </Button>
            ) : null}
          </Group>
        </form>
      </Paper>
      {audit.data?.truncated ? (
        <Text size="sm" c="dimmed" mb="xs" data-testid="audit-partial">
          Searched the newest {audit.data.scanned.toLocaleString()} entries; narrow the dates to search further back.
        </Text>
      ) : null}
      <DataTable
        label="Audit log"
        testId="audit"
        columns={COLUMNS}
        rows={audit.data?.entries}
        rowKey={(a) => a.id}
        loading={audit.isPending}
        loadingText="Loading the audit log…"
        error={audit.error}
        empty={
          filtered
            ? 'No entry matches these filters.'
            : 'Nothing yet: re-drives, discards, exports and unmasked reads are recorded here.'
        }
        maxHeight="calc(100vh - 16rem)"
      />
    </>
  );
}
