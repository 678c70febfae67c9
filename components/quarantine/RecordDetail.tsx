'use client';
import { useEffect, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../api.ts';
import { JsonEditor } from './JsonEditor.tsx';
import { JsonView } from './JsonView.tsx';
import type { DetailResponse, FixCheck, JobState } from './types.ts';

/** Pretty text for the editor, unless re-printing could change a number (integers beyond 2^53). */
function editable(event: string): string {
  if (/[:[,]\s*-?[0-9]{16,}/.test(event)) return event;
  try {
    return JSON.stringify(JSON.parse(event), null, 2);
  } catch {
    return event;
  }
}

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

interface Props {
  qid: string;
  canOperate: boolean;
  types: string[];
  onJob: (job: JobState) => void;
  onClose: () => void;
}

/** One quarantined record: metadata, errors highlighted in the payload, a fix editor that re-validates as you type. */
export function RecordDetail({ qid, canOperate, types, onJob, onClose }: Props) {
  const qc = useQueryClient();
  const detail = useQuery({
    queryKey: ['q-detail', qid],
    queryFn: () => api<DetailResponse>(`/api/quarantine/${encodeURIComponent(qid)}`),
  });
  const [text, setText] = useState<string | null>(null);
  const [type, setType] = useState('');
  const [discardReason, setDiscardReason] = useState('');
  const source = detail.data?.source;
  const original = source ? editable(source.event) : '';
  const edited = text !== null && text !== original;
  const retyped = !!type && type !== (source?.type ?? '');
  const fix = useDebounced({ event: text ?? original, type }, 250);
  const check = useQuery({
    queryKey: ['q-check', qid, fix],
    queryFn: () =>
      api<FixCheck>(`/api/quarantine/${encodeURIComponent(qid)}/check`, {
        method: 'POST',
        body: JSON.stringify({ event: fix.event, ...(fix.type ? { type: fix.type } : {}) }),
      }),
    enabled: !!source,
  });
  const redrive = useMutation({
    mutationFn: () =>
      api<JobState>('/api/quarantine/redrive', {
        method: 'POST',
        body: JSON.stringify({
          qids: [qid],
          ...(edited || retyped ? { fixes: { [qid]: { event: text ?? original, ...(type ? { type } : {}) } } } : {}),
        }),
      }),
    onSuccess: (job) => {
      onJob(job);
      void qc.invalidateQueries({ queryKey: ['q-list'] });
    },
  });
  const discard = useMutation({
    mutationFn: () =>
      api<{ discarded: number }>('/api/quarantine/discard', {
        method: 'POST',
        body: JSON.stringify({ qids: [qid], reason: discardReason }),
      }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['q-list'] });
      void qc.invalidateQueries({ queryKey: ['q-detail', qid] });
    },
  });

  if (detail.isLoading) return <p className="muted">Loading record…</p>;
  if (detail.error)
    return (
      <p className="error" role="alert">
        {detail.error.message}
      </p>
    );
  const { entry, latestVersion } = detail.data!;
  const r = entry.record;
  const open = entry.status === 'open';
  return (
    <section className="detail" aria-labelledby="detail-title" data-testid="record-detail">
      <div className="toolbar">
        <h2 id="detail-title">
          Record <code>{r.id}</code>
        </h2>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      <dl className="meta">
        <dt>status</dt>
        <dd data-testid="detail-status">
          {entry.status}
          {entry.last ? ` (${entry.last.outcome} by ${entry.last.by}, job ${entry.last.job})` : ''}
        </dd>
        <dt>stage · reason</dt>
        <dd>
          {r.stage} · {r.reason}
        </dd>
        <dt>type · schema</dt>
        <dd>
          {source?.type ?? '(none)'}
          {source?.v !== undefined ? ` · failed v${source.v}` : ''}
          {latestVersion !== undefined ? ` · re-drive validates against v${latestVersion}` : ''}
        </dd>
        <dt>received · quarantined</dt>
        <dd>
          {r.received_at} · {r.quarantined_at}
        </dd>
        <dt>attempts · source</dt>
        <dd>
          {r.attempts} · {r.source}
        </dd>
      </dl>
      <h3>Errors</h3>
      <ul className="plain errors" data-testid="detail-errors">
        {r.errors.map((e, i) => (
          <li key={i}>
            <code>{e.path}</code> <span className="muted">{e.keyword}</span> {e.message}
          </li>
        ))}
      </ul>
      <h3>Payload as received {r.payload_encoding === 'base64' ? '(not UTF-8; shown as base64)' : ''}</h3>
      <JsonView text={r.payload} errors={r.errors} />
      {open && canOperate ? (
        <>
          <h3>Fix and re-drive</h3>
          <div className="toolbar">
            <label>
              Type{' '}
              <select value={type || source?.type || ''} onChange={(e) => setType(e.target.value)}>
                {!source?.type ? <option value="">choose…</option> : null}
                {types.map((t) => (
                  <option key={t}>{t}</option>
                ))}
              </select>
            </label>
            <span className="muted">Edits are checked against the schema as you type.</span>
          </div>
          <JsonEditor key={qid} value={text ?? original} onChange={setText} label="Fix the event" />
          <div className="check" aria-live="polite" data-testid="fix-check">
            {check.data ? (
              check.data.valid ? (
                <span className="ok">
                  ✓ valid against {check.data.type} v{check.data.v}
                </span>
              ) : (
                <ul className="plain">
                  {check.data.errors.map((e, i) => (
                    <li key={i} className="error">
                      <code>{e.path}</code> {e.message}
                    </li>
                  ))}
                </ul>
              )
            ) : (
              <span className="muted">Checking…</span>
            )}
          </div>
          <div className="toolbar">
            <button
              type="button"
              onClick={() => redrive.mutate()}
              disabled={redrive.isPending || !check.data?.valid || fix.event !== (text ?? original)}
            >
              {edited || retyped ? 'Re-drive fixed record' : 'Re-drive record'}
            </button>
            {redrive.error ? (
              <span className="error" role="alert">
                {redrive.error.message}
              </span>
            ) : null}
          </div>
          <div className="toolbar">
            <label>
              Discard reason{' '}
              <input
                value={discardReason}
                onChange={(e) => setDiscardReason(e.target.value)}
                placeholder="why this record is dropped"
              />
            </label>
            <button
              type="button"
              onClick={() => discard.mutate()}
              disabled={!discardReason.trim() || discard.isPending}
            >
              Discard
            </button>
            {discard.error ? (
              <span className="error" role="alert">
                {discard.error.message}
              </span>
            ) : null}
          </div>
        </>
      ) : null}
    </section>
  );
}
