'use client';
import { useEffect, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ResultChart } from './ResultChart.tsx';
import { summarizeSql } from '@/lib/query/sql.ts';
import { SqlEditor } from './SqlEditor.tsx';
import {
  api,
  formatBytes,
  isFinalState,
  type CatalogTable,
  type Cell,
  type ParamDef,
  type QueryInfo,
  type ResultPage,
  type SavedQueryInfo,
} from '../api.ts';

const PAGE = 100;
const DEFAULT_SQL =
  "SELECT category, count(*) AS n, round(sum(amt), 2) AS amount\nFROM transactions\nWHERE dt >= '2026-01-01'\nGROUP BY category\nORDER BY n DESC";

function cellText(v: Cell): string {
  if (v === null) return 'NULL';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function ParamInput({ def, value, onChange }: { def: ParamDef; value: string; onChange: (v: string) => void }) {
  const id = `param-${def.name}`;
  const label = (
    <label htmlFor={id}>
      {def.name} <span className="muted">({def.type})</span>
    </label>
  );
  if (def.type === 'enum') {
    return (
      <div className="param">
        {label}
        <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
          {def.values.map((v) => (
            <option key={v}>{v}</option>
          ))}
        </select>
      </div>
    );
  }
  if (def.type === 'daterange') {
    const [from = '', to = ''] = value.split('..');
    return (
      <div className="param">
        {label}
        <input
          id={id}
          aria-label={`${def.name} from`}
          value={from}
          placeholder="YYYY-MM-DD"
          onChange={(e) => onChange(`${e.target.value}..${to}`)}
        />
        <span>…</span>
        <input
          aria-label={`${def.name} to`}
          value={to}
          placeholder="YYYY-MM-DD"
          onChange={(e) => onChange(`${from}..${e.target.value}`)}
        />
      </div>
    );
  }
  return (
    <div className="param">
      {label}
      <input
        id={id}
        type={def.type === 'number' ? 'number' : 'text'}
        value={value}
        placeholder={def.type === 'date' ? 'YYYY-MM-DD or today-7d' : ''}
        onChange={(e) => onChange(e.target.value)}
      />
    </div>
  );
}

/** The SQL workspace: editor, saved queries with a parameter form, run/cancel, status and cost, paged results, CSV, chart, history. */
export function SqlWorkspace({ canLiftGuard }: { canLiftGuard: boolean }) {
  const qc = useQueryClient();
  const [sql, setSql] = useState(DEFAULT_SQL);
  const [saved, setSaved] = useState<SavedQueryInfo | null>(null);
  const [params, setParams] = useState<Record<string, string>>({});
  const [allowFullScan, setAllowFullScan] = useState(false);
  const [id, setId] = useState<string | null>(null);
  const [tokens, setTokens] = useState<string[]>([]);
  const [now, setNow] = useState(() => Date.now());

  const catalog = useQuery({ queryKey: ['catalog'], queryFn: () => api<CatalogTable[]>('/api/catalog') });
  const savedList = useQuery({
    queryKey: ['saved-queries'],
    queryFn: () => api<SavedQueryInfo[]>('/api/saved-queries'),
  });
  const history = useQuery({ queryKey: ['history'], queryFn: () => api<QueryInfo[]>('/api/queries?limit=20') });
  const status = useQuery({
    queryKey: ['query', id],
    queryFn: () => api<QueryInfo>(`/api/queries/${id}`),
    enabled: !!id,
    refetchInterval: (q) => (isFinalState(q.state.data?.state) ? false : 300),
  });
  const state = status.data?.state;
  const token = tokens[tokens.length - 1];
  const results = useQuery({
    queryKey: ['results', id, token ?? ''],
    queryFn: () =>
      api<ResultPage>(
        `/api/queries/${id}/results?maxResults=${PAGE}${token ? `&nextToken=${encodeURIComponent(token)}` : ''}`,
      ),
    enabled: !!id && state === 'SUCCEEDED',
  });

  useEffect(() => {
    if (isFinalState(state)) void qc.invalidateQueries({ queryKey: ['history'] });
  }, [state, qc]);
  useEffect(() => {
    if (!id || isFinalState(state)) return;
    const t = setInterval(() => setNow(Date.now()), 200);
    return () => clearInterval(t);
  }, [id, state]);

  const start = useMutation({
    mutationFn: (body: Record<string, unknown>) =>
      api<QueryInfo>('/api/queries', { method: 'POST', body: JSON.stringify(body) }),
    onSuccess: (info) => {
      setTokens([]);
      setId(info.id);
    },
  });
  const cancel = useMutation({
    mutationFn: () => api<QueryInfo>(`/api/queries/${id}`, { method: 'DELETE' }),
    onSuccess: () => void status.refetch(),
  });

  const running = !!id && !isFinalState(state);
  const run = () => {
    if (running) return;
    const lift = canLiftGuard && allowFullScan;
    if (saved && sql === saved.sql) start.mutate({ saved: saved.name, params, allowFullScan: lift });
    else start.mutate({ sql, allowFullScan: lift });
  };
  const pick = (q: SavedQueryInfo) => {
    setSaved(q);
    setSql(q.sql);
    setParams(Object.fromEntries(q.params.map((p) => [p.name, p.default === undefined ? '' : String(p.default)])));
  };
  const info = status.data;
  const elapsed = info
    ? isFinalState(info.state)
      ? info.elapsedMs
      : Math.max(info.elapsedMs, now - Date.parse(info.submittedAt))
    : 0;
  const page = results.data;

  return (
    <div className="workspace">
      <aside className="sidebar">
        <h2>Saved queries</h2>
        <ul className="plain">
          {savedList.data?.map((q) => (
            <li key={q.name}>
              <button
                type="button"
                className={`link ${saved?.name === q.name ? 'active' : ''}`}
                title={q.description}
                onClick={() => pick(q)}
              >
                {q.name}
              </button>
            </li>
          ))}
        </ul>
        <h2>Tables</h2>
        {catalog.data?.map((t) => (
          <details key={t.name}>
            <summary>{t.name}</summary>
            <ul className="plain columns">
              {t.columns.map((c) => (
                <li key={c.name}>
                  <code>{c.name}</code>{' '}
                  <span className="muted">
                    {c.type}
                    {c.partition ? ', partition' : ''}
                  </span>
                </li>
              ))}
            </ul>
          </details>
        ))}
      </aside>
      <section className="editor-pane" aria-label="Query">
        {saved && sql === saved.sql ? (
          <fieldset className="saved-form" aria-label="Parameters">
            <p>
              <strong>{saved.name}</strong>: {saved.description}
            </p>
            {saved.params.map((p) => (
              <ParamInput
                key={p.name}
                def={p}
                value={params[p.name] ?? ''}
                onChange={(v) => setParams({ ...params, [p.name]: v })}
              />
            ))}
          </fieldset>
        ) : null}
        <SqlEditor value={sql} onChange={setSql} onRun={run} tables={catalog.data ?? []} />
        <div className="toolbar">
          <button type="button" onClick={run} disabled={running || start.isPending}>
            Run <span className="muted">(Ctrl+Enter)</span>
          </button>
          <button type="button" onClick={() => cancel.mutate()} disabled={!running}>
            Cancel
          </button>
          {canLiftGuard ? (
            <label>
              <input type="checkbox" checked={allowFullScan} onChange={(e) => setAllowFullScan(e.target.checked)} />{' '}
              allow a full scan
            </label>
          ) : (
            <span className="muted">Viewer: only an operator can run a query past the scan guard.</span>
          )}
          {info?.state === 'SUCCEEDED' ? (
            <a href={`/api/queries/${info.id}/csv`} download>
              Download CSV
            </a>
          ) : null}
        </div>
        {start.error ? (
          <p className="error" role="alert" data-testid="query-error">
            {start.error.message}
          </p>
        ) : null}
        {info ? (
          <p className="status" role="status" data-testid="query-status">
            <strong>{info.state}</strong> · {(elapsed / 1000).toFixed(2)} s · {formatBytes(info.bytesScanned)} scanned ·
            ${info.costUsd.toFixed(6)} at Athena&apos;s price · {info.rows.toLocaleString('en-US')} rows
            {info.truncated ? ' (cut at the row limit)' : ''}
            {info.error ? <span className="error"> · {info.error}</span> : null}
          </p>
        ) : null}
        {page ? (
          <>
            <div className="table-wrap">
              <table data-testid="results">
                <thead>
                  <tr>
                    {page.columns.map((c) => (
                      <th key={c.name} title={c.type}>
                        {c.name}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {page.rows.map((r, i) => (
                    <tr key={i}>
                      {r.map((v, j) => (
                        <td key={j} className={typeof v === 'number' ? 'num' : ''}>
                          {cellText(v)}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div className="toolbar">
              <button type="button" disabled={!tokens.length} onClick={() => setTokens(tokens.slice(0, -1))}>
                Previous
              </button>
              <span className="muted">
                rows {tokens.length * PAGE + 1}–{tokens.length * PAGE + page.rows.length}
              </span>
              <button
                type="button"
                disabled={!page.nextToken}
                onClick={() => page.nextToken && setTokens([...tokens, page.nextToken])}
              >
                Next
              </button>
            </div>
            <ResultChart columns={page.columns} rows={page.rows} />
          </>
        ) : null}
        <h2>History</h2>
        <table className="history">
          <thead>
            <tr>
              <th>submitted</th>
              <th>by</th>
              <th>state</th>
              <th>scanned</th>
              <th>query</th>
            </tr>
          </thead>
          <tbody>
            {history.data?.map((h) => (
              <tr key={h.id}>
                <td>{h.submittedAt.replace('T', ' ').slice(0, 19)}</td>
                <td>{h.by ?? ''}</td>
                <td>{h.state}</td>
                <td className="num">{formatBytes(h.bytesScanned)}</td>
                <td>
                  <button
                    type="button"
                    className="link"
                    onClick={() => {
                      setSaved(null);
                      setSql(h.sql);
                    }}
                    title="Load into the editor"
                  >
                    {h.saved ? `[${h.saved}] ` : ''}
                    {summarizeSql(h.sql)}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}
