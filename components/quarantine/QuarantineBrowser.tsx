'use client';
import { useState } from 'react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../api.ts';
import { Jobs } from './Jobs.tsx';
import { RecordDetail } from './RecordDetail.tsx';
import {
  EMPTY_FILTER,
  filterQuery,
  type FilterForm,
  type JobState,
  type ListResponse,
  type QuarantineCounts,
} from './types.ts';

interface Props {
  canOperate: boolean;
  exportEnabled: boolean;
  types: string[];
  stages: readonly string[];
  reasons: readonly string[];
  /** The filter the page opens with (from its URL, e.g. the OLTP page's link to stage oltp-sink). */
  initialFilter?: FilterForm;
}

const PAGE = 50;

function filterBody(f: FilterForm): Record<string, string> {
  return Object.fromEntries(filterQuery(f).entries());
}

/** The quarantine: filters, a newest-first page, selection, bulk re-drive/discard/export, a record's detail, jobs. */
export function QuarantineBrowser({
  canOperate,
  exportEnabled,
  types,
  stages,
  reasons,
  initialFilter = EMPTY_FILTER,
}: Props) {
  const qc = useQueryClient();
  const [draft, setDraft] = useState<FilterForm>(initialFilter);
  const [filter, setFilter] = useState<FilterForm>(initialFilter);
  const [offset, setOffset] = useState(0);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [detail, setDetail] = useState<string | null>(null);
  const [focusJob, setFocusJob] = useState<string | undefined>();
  const [discardReason, setDiscardReason] = useState('');
  const query = filterQuery(filter);
  const list = useQuery({
    queryKey: ['q-list', query.toString(), offset],
    queryFn: () => api<ListResponse>(`/api/quarantine?${query}&offset=${offset}&limit=${PAGE}`),
    placeholderData: keepPreviousData,
    refetchInterval: 5000,
  });
  const counts = useQuery({
    queryKey: ['q-counts'],
    queryFn: () => api<QuarantineCounts>('/api/quarantine/counts'),
    refetchInterval: 5000,
  });
  const afterJob = (job: JobState) => {
    setFocusJob(job.id);
    setSelected(new Set());
    void qc.invalidateQueries({ queryKey: ['q-jobs'] });
    void qc.invalidateQueries({ queryKey: ['q-list'] });
  };
  const redrive = useMutation({
    mutationFn: (body: object) =>
      api<JobState>('/api/quarantine/redrive', { method: 'POST', body: JSON.stringify(body) }),
    onSuccess: afterJob,
  });
  const discard = useMutation({
    mutationFn: () =>
      api<{ discarded: number; skipped: number }>('/api/quarantine/discard', {
        method: 'POST',
        body: JSON.stringify({ qids: [...selected], reason: discardReason }),
      }),
    onSuccess: () => {
      setSelected(new Set());
      setDiscardReason('');
      void qc.invalidateQueries({ queryKey: ['q-list'] });
    },
  });
  const apply = (f: FilterForm) => {
    setFilter(f);
    setOffset(0);
    setSelected(new Set());
  };
  const set = (k: keyof FilterForm, v: string) => setDraft((d) => ({ ...d, [k]: v }));
  const select = (k: keyof FilterForm, v: string) => {
    const next = { ...draft, [k]: v };
    setDraft(next);
    apply(next);
  };
  const items = list.data?.items ?? [];
  const total = list.data?.total ?? 0;
  const allOnPage = items.length > 0 && items.every((i) => selected.has(i.qid));
  const toggle = (qid: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(qid)) n.delete(qid);
      else n.add(qid);
      return n;
    });

  return (
    <div className="quarantine">
      <p className="status" data-testid="q-counts">
        {counts.data ? (
          <>
            <strong>{counts.data.open.toLocaleString()}</strong> open · {counts.data.redriven.toLocaleString()}{' '}
            re-driven · {counts.data.discarded.toLocaleString()} discarded
            {Object.keys(counts.data.byReason).length ? (
              <span className="muted">
                {' '}
                — open by reason:{' '}
                {Object.entries(counts.data.byReason)
                  .map(([r, n]) => `${r} ${n}`)
                  .join(', ')}
              </span>
            ) : null}
          </>
        ) : (
          'Counting…'
        )}
      </p>
      {/* biome-ignore lint/a11y/useSemanticElements: a form with role search is the pattern the browser tests and screen readers both know; <search> wrapping a form says the same. */}
      <form
        className="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          apply(draft);
        }}
      >
        <label>
          Type{' '}
          <select value={draft.type} onChange={(e) => select('type', e.target.value)}>
            <option value="">any</option>
            {types.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <label>
          Stage{' '}
          <select value={draft.stage} onChange={(e) => select('stage', e.target.value)}>
            <option value="">any</option>
            {stages.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <label>
          Reason{' '}
          <select value={draft.reason} onChange={(e) => select('reason', e.target.value)}>
            <option value="">any</option>
            {reasons.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <label>
          Status{' '}
          <select value={draft.status} onChange={(e) => select('status', e.target.value)}>
            {['open', 'redriven', 'discarded', 'all'].map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <label>
          From (UTC) <input type="datetime-local" value={draft.from} onChange={(e) => set('from', e.target.value)} />
        </label>
        <label>
          To (UTC) <input type="datetime-local" value={draft.to} onChange={(e) => set('to', e.target.value)} />
        </label>
        <label>
          Text{' '}
          <input
            type="search"
            value={draft.q}
            onChange={(e) => set('q', e.target.value)}
            placeholder="in payload or error path"
          />
        </label>
        <button type="submit">Apply</button>
        <button
          type="button"
          onClick={() => {
            setDraft(EMPTY_FILTER);
            apply(EMPTY_FILTER);
          }}
        >
          Reset
        </button>
      </form>
      {list.error ? (
        <p className="error" role="alert">
          {list.error.message}
        </p>
      ) : null}
      <div className="toolbar">
        <span data-testid="q-total">
          {list.isLoading
            ? 'Loading…'
            : total === 0
              ? 'No records match.'
              : `${offset + 1}–${offset + items.length} of ${total.toLocaleString()} matching`}
        </span>
        <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
          ← Newer
        </button>
        <button type="button" disabled={offset + PAGE >= total} onClick={() => setOffset(offset + PAGE)}>
          Older →
        </button>
        {canOperate ? (
          <>
            <button
              type="button"
              disabled={!selected.size || redrive.isPending}
              onClick={() => redrive.mutate({ qids: [...selected] })}
            >
              Re-drive selected ({selected.size})
            </button>
            <button
              type="button"
              disabled={!total || filter.status !== 'open' || redrive.isPending}
              onClick={() => redrive.mutate({ filter: filterBody(filter) })}
            >
              Re-drive all {total.toLocaleString()} matching
            </button>
            <input
              aria-label="Discard reason"
              value={discardReason}
              onChange={(e) => setDiscardReason(e.target.value)}
              placeholder="discard reason"
            />
            <button
              type="button"
              disabled={!selected.size || !discardReason.trim() || discard.isPending}
              onClick={() => discard.mutate()}
            >
              Discard selected
            </button>
            {exportEnabled ? (
              <>
                <a href={`/api/quarantine/export?format=jsonl&${query}`} download>
                  Export JSONL
                </a>
                <a href={`/api/quarantine/export?format=csv&${query}`} download>
                  Export CSV
                </a>
              </>
            ) : (
              <span className="muted">Export is switched off.</span>
            )}
          </>
        ) : (
          <span className="muted">Viewer: re-drive, discard and export need the operator role.</span>
        )}
      </div>
      {redrive.error || discard.error ? (
        <p className="error" role="alert">
          {(redrive.error ?? discard.error)!.message}
        </p>
      ) : null}
      <div className="q-grid">
        <div className="table-wrap q-list">
          <table data-testid="q-table">
            <thead>
              <tr>
                <th>
                  <input
                    type="checkbox"
                    aria-label="Select all on this page"
                    checked={allOnPage}
                    onChange={() => setSelected(allOnPage ? new Set() : new Set(items.map((i) => i.qid)))}
                  />
                </th>
                <th>quarantined (UTC)</th>
                <th>type</th>
                <th>stage</th>
                <th>reason</th>
                <th>first error</th>
                <th>status</th>
              </tr>
            </thead>
            <tbody>
              {items.map((i) => (
                <tr key={i.qid} className={i.qid === detail ? 'selected' : ''} data-qid={i.qid}>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Select ${i.id}`}
                      checked={selected.has(i.qid)}
                      onChange={() => toggle(i.qid)}
                    />
                  </td>
                  <td>
                    <button type="button" className="link" onClick={() => setDetail(i.qid)}>
                      {i.quarantined_at.replace('T', ' ').slice(0, 19)}
                    </button>
                  </td>
                  <td>{i.type ?? '—'}</td>
                  <td>{i.stage}</td>
                  <td>{i.reason}</td>
                  <td title={i.preview}>
                    {i.firstError ? (
                      <>
                        <code>{i.firstError.path}</code> {i.firstError.message}
                        {i.errorCount > 1 ? <span className="muted"> (+{i.errorCount - 1})</span> : null}
                      </>
                    ) : null}
                  </td>
                  <td>{i.status}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {detail ? (
          <div className="detail-pane">
            <RecordDetail
              key={detail}
              qid={detail}
              canOperate={canOperate}
              types={types}
              onJob={afterJob}
              onClose={() => setDetail(null)}
            />
          </div>
        ) : null}
      </div>
      <h2>Re-drive jobs</h2>
      <Jobs canOperate={canOperate} {...(focusJob ? { focus: focusJob } : {})} />
    </div>
  );
}
