'use client';
import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../api.ts';
import type { JobResponse, JobState } from './types.ts';

function JobOutcomes({ id }: { id: string }) {
  const job = useQuery({
    queryKey: ['q-job', id],
    queryFn: () => api<JobResponse>(`/api/quarantine/jobs/${id}?limit=200`),
    // Until this answer itself says the job has ended: the jobs list may see the end first, and an answer taken just
    // before it (no outcomes yet) must not stay on the page.
    refetchInterval: (q) => (!q.state.data || q.state.data.state.status === 'running' ? 1000 : false),
  });
  if (!job.data) return <p className="muted">Loading outcomes…</p>;
  return (
    <div className="table-wrap">
      <p className="muted">
        {job.data.outcomeTotal} outcomes
        {job.data.outcomeTotal > job.data.outcomes.length ? ` (first ${job.data.outcomes.length})` : ''}
      </p>
      <table data-testid="job-outcomes">
        <thead>
          <tr>
            <th>record</th>
            <th>outcome</th>
            <th>detail</th>
          </tr>
        </thead>
        <tbody>
          {job.data.outcomes.map((o) => (
            <tr key={o.qid + o.at}>
              <td>
                <code>{o.id || o.qid}</code>
              </td>
              <td className={`outcome-${o.outcome}`}>{o.outcome}</td>
              <td>
                {o.outcome === 'accepted' ? (
                  <span className="muted">
                    {o.shard_id} · {o.sequence_number}
                  </span>
                ) : (
                  (o.errors ?? []).map((e, i) => (
                    <span key={i}>
                      <code>{e.path}</code> {e.message}{' '}
                    </span>
                  ))
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Re-drive jobs: live progress, cancel, and each record's outcome. */
export function Jobs({ canOperate, focus }: { canOperate: boolean; focus?: string }) {
  const qc = useQueryClient();
  const [open, setOpen] = useState<string | undefined>(undefined);
  const shown = open ?? focus;
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
  if (!jobs.data?.jobs.length) return <p className="muted">No re-drive jobs yet.</p>;
  return (
    <>
      <table className="jobs" data-testid="jobs">
        <thead>
          <tr>
            <th>started</th>
            <th>by</th>
            <th>selection</th>
            <th>status</th>
            <th>progress</th>
            <th className="num">accepted</th>
            <th className="num">failed again</th>
            <th className="num">skipped</th>
            <th className="num">rate/s</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {jobs.data.jobs.map((j) => (
            <tr key={j.id} className={j.id === shown ? 'selected' : ''} data-status={j.status}>
              <td>{j.startedAt.replace('T', ' ').slice(0, 19)}</td>
              <td>{j.by}</td>
              <td title={j.filter ? new URLSearchParams(j.filter).toString() : ''}>
                {j.selection === 'filter' ? `filter ${new URLSearchParams(j.filter).toString()}` : j.selection}
              </td>
              <td>
                {j.status}
                {j.message ? <div className="muted">{j.message}</div> : null}
              </td>
              <td>
                <progress max={j.total} value={j.processed} aria-label={`job ${j.id} progress`} /> {j.processed}/
                {j.total}
              </td>
              <td className="num">{j.accepted}</td>
              <td className="num">{j.failed}</td>
              <td className="num">{j.skipped + j.errors}</td>
              <td className="num">{j.rate}</td>
              <td>
                <button type="button" className="link" onClick={() => setOpen(j.id === shown ? '' : j.id)}>
                  outcomes
                </button>{' '}
                {j.status === 'running' && canOperate ? (
                  <button type="button" onClick={() => cancel.mutate(j.id)} disabled={cancel.isPending}>
                    Cancel
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {shown ? <JobOutcomes id={shown} /> : null}
    </>
  );
}
