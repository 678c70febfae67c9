'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Group, Progress, Text } from '@mantine/core';
import { DataTable, type Column } from '@/components/ui/DataTable.tsx';
import { Empty, Loading } from '@/components/ui/States.tsx';
import { api } from '../api.ts';
import { filterWords } from './filter-words.ts';
import type { JobResponse, JobState, LedgerEntry } from './types.ts';

const OUTCOME_TONE: Record<string, string> = { accepted: 'tone-ok', failed: 'tone-bad', error: 'tone-bad' };

const OUTCOME_COLUMNS: Column<LedgerEntry>[] = [
  { id: 'record', header: 'record', sortValue: (o) => o.id || o.qid, cell: (o) => <code>{o.id || o.qid}</code> },
  {
    id: 'outcome',
    header: 'outcome',
    sortValue: (o) => o.outcome,
    cell: (o) => (
      <Text span size="sm" className={OUTCOME_TONE[o.outcome]}>
        {o.outcome}
      </Text>
    ),
  },
  {
    id: 'detail',
    header: 'detail',
    className: 'wrap',
    cell: (o) =>
      o.outcome === 'accepted' ? (
        <Text span size="xs" c="dimmed">
          {o.shard_id} · {o.sequence_number}
        </Text>
      ) : (
        (o.errors ?? []).map((e, i) => (
          <span key={i}>
            <code>{e.path}</code> {e.message}{' '}
          </span>
        ))
      ),
  },
];

function JobOutcomes({ id }: { id: string }) {
  const job = useQuery({
    queryKey: ['q-job', id],
    queryFn: () => api<JobResponse>(`/api/quarantine/jobs/${encodeURIComponent(id)}?limit=200`),
    // Until this answer itself says the job has ended: the jobs list may see the end first, and an answer taken just
    // before it (no outcomes yet) must not stay on the page.
    refetchInterval: (q) => (!q.state.data || q.state.data.state.status === 'running' ? 1000 : false),
  });
  if (job.error) return <Text className="tone-bad">{job.error.message}</Text>;
  if (!job.data) return <Loading>Loading outcomes…</Loading>;
  return (
    <>
      <Text size="sm" c="dimmed" my="xs">
        {job.data.outcomeTotal} outcomes
        {job.data.outcomeTotal > job.data.outcomes.length ? ` (first ${job.data.outcomes.length})` : ''}
      </Text>
      <DataTable
        label="Outcomes of the job"
        testId="job-outcomes"
        columns={OUTCOME_COLUMNS}
        rows={job.data.outcomes}
        rowKey={(o) => o.qid + o.at}
        empty="No outcomes yet."
      />
    </>
  );
}

/** Re-drive jobs: live progress, cancel, and each record's outcome. The open job is the page's (its URL's). */
export function Jobs({
  canOperate,
  focus,
  onOpen,
}: {
  canOperate: boolean;
  focus?: string;
  onOpen: (id: string) => void;
}) {
  const qc = useQueryClient();
  const jobs = useQuery({
    queryKey: ['q-jobs'],
    queryFn: () => api<{ jobs: JobState[] }>('/api/quarantine/jobs'),
    refetchInterval: (q) => (q.state.data?.jobs.some((j) => j.status === 'running') ? 1000 : 5000),
  });
  const cancel = useMutation({
    mutationFn: (id: string) => api<JobState>(`/api/quarantine/jobs/${id}`, { method: 'DELETE' }),
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: ['q-jobs'] });
      void qc.invalidateQueries({ queryKey: ['q-list'] });
    },
  });
  if (jobs.isPending) return <Loading>Loading re-drive jobs…</Loading>;
  if (!jobs.data?.jobs.length) return <Empty>No re-drive jobs yet: re-drive records from the list above.</Empty>;
  const columns: Column<JobState>[] = [
    {
      id: 'started',
      header: 'started',
      sortValue: (j) => j.startedAt,
      cell: (j) => j.startedAt.replace('T', ' ').slice(0, 19),
    },
    { id: 'by', header: 'by', sortValue: (j) => j.by, cell: (j) => j.by },
    {
      id: 'selection',
      header: 'selection',
      cell: (j) => (
        <span title={j.filter ? new URLSearchParams(j.filter).toString() : ''}>
          {j.selection === 'filter' ? `where ${filterWords(j.filter ?? {}) || 'anything'}` : j.selection}
        </span>
      ),
    },
    {
      id: 'status',
      header: 'status',
      sortValue: (j) => j.status,
      cell: (j) => (
        <>
          {j.status}
          {j.message ? (
            <Text size="xs" c="dimmed">
              {j.message}
            </Text>
          ) : null}
        </>
      ),
    },
    {
      id: 'progress',
      header: 'progress',
      cell: (j) => (
        <Group gap={6} wrap="nowrap">
          <Progress
            w={80}
            value={j.total ? (100 * j.processed) / j.total : 0}
            aria-label={`job ${j.id} progress`}
            animated={j.status === 'running'}
          />
          <span>
            {j.processed}/{j.total}
          </span>
        </Group>
      ),
    },
    { id: 'accepted', header: 'accepted', numeric: true, sortValue: (j) => j.accepted, cell: (j) => j.accepted },
    { id: 'failed', header: 'failed again', numeric: true, sortValue: (j) => j.failed, cell: (j) => j.failed },
    {
      id: 'skipped',
      header: 'skipped',
      numeric: true,
      sortValue: (j) => j.skipped + j.errors,
      cell: (j) => j.skipped + j.errors,
    },
    { id: 'rate', header: 'rate/s', numeric: true, cell: (j) => j.rate },
    {
      id: 'actions',
      header: '',
      cell: (j) => (
        <Group gap={4} wrap="nowrap">
          <Button
            variant="subtle"
            size="compact-xs"
            onClick={() => onOpen(j.id === focus ? '' : j.id)}
            aria-pressed={j.id === focus}
          >
            outcomes
          </Button>
          {j.status === 'running' && canOperate ? (
            <Button
              size="compact-xs"
              color="red"
              variant="outline"
              onClick={() => cancel.mutate(j.id)}
              disabled={cancel.isPending}
            >
              Cancel
            </Button>
          ) : null}
        </Group>
      ),
    },
  ];
  return (
    <>
      <DataTable
        label="Re-drive jobs"
        testId="jobs"
        columns={columns}
        rows={jobs.data.jobs}
        rowKey={(j) => j.id}
        rowProps={(j) => ({ 'data-status': j.status, 'aria-selected': j.id === focus })}
        maxHeight="20rem"
      />
      {focus ? <JobOutcomes id={focus} /> : null}
    </>
  );
}
