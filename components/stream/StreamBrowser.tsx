'use client';
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import type { BrowsedRecord, ShardInfo } from '@/lib/stream/browse.ts';
import { api } from '../api.ts';

type Mode = 'latest' | 'timestamp' | 'sequence';

function RecordRow({ r, raw }: { r: BrowsedRecord; raw: boolean }) {
  const body = r.json !== undefined && !raw ? JSON.stringify(r.json, null, 2) : r.text;
  return (
    <li className="record">
      <div className="record-meta">
        <code title="sequence number">{r.sequenceNumber}</code> · key <code>{r.partitionKey}</code> ·{' '}
        {r.arrivedAt.replace('T', ' ').replace('Z', '')} · {r.bytes} bytes
        {r.encoding === 'base64' ? ' · not UTF-8 (base64)' : r.json === undefined ? ' · not JSON' : ''}
      </div>
      <pre>{body}</pre>
    </li>
  );
}

/** Shards of the stream and a record browser per shard: newest N, from a time, or from a sequence number. */
export function StreamBrowser() {
  const shards = useQuery({
    queryKey: ['shards'],
    queryFn: () => api<{ stream: string; shards: ShardInfo[] }>('/api/stream/shards'),
    refetchInterval: 10_000,
  });
  const [shard, setShard] = useState<string | null>(null);
  const [mode, setMode] = useState<Mode>('latest');
  const [at, setAt] = useState('');
  const [limit, setLimit] = useState(20);
  const [raw, setRaw] = useState(false);
  const [request, setRequest] = useState<{ shard: string; mode: Mode; at: string; limit: number } | null>(null);
  const records = useQuery({
    queryKey: ['records', request],
    queryFn: () =>
      api<BrowsedRecord[]>(
        `/api/stream/shards/${encodeURIComponent(request!.shard)}/records?from=${request!.mode}&at=${encodeURIComponent(request!.at)}&limit=${request!.limit}`,
      ),
    enabled: !!request,
  });
  const current = shard ?? shards.data?.shards.find((s) => s.open)?.id ?? null;

  return (
    <>
      <section aria-labelledby="shards">
        <h2 id="shards">Shards of {shards.data ? <code>{shards.data.stream}</code> : '…'}</h2>
        {shards.error ? (
          <p className="error" role="alert">
            {shards.error.message}
          </p>
        ) : null}
        <table data-testid="shards">
          <thead>
            <tr>
              <th>shard</th>
              <th>state</th>
              <th>hash-key range</th>
              <th>sequence range</th>
              <th>parent</th>
              <th>children</th>
            </tr>
          </thead>
          <tbody>
            {shards.data?.shards.map((s) => (
              <tr key={s.id} className={s.id === current ? 'selected' : ''}>
                <td>
                  <button type="button" className="link" onClick={() => setShard(s.id)}>
                    {s.id}
                  </button>
                </td>
                <td>{s.open ? 'open' : 'closed'}</td>
                <td>
                  <code title={`${s.hashKeyRange.start} – ${s.hashKeyRange.end}`}>
                    {s.hashKeyRange.start.slice(0, 8)}… – {s.hashKeyRange.end.slice(0, 8)}…
                  </code>
                </td>
                <td>
                  <code title={`${s.sequenceRange.start} – ${s.sequenceRange.end ?? 'open'}`}>
                    …{s.sequenceRange.start.slice(-10)} –{' '}
                    {s.sequenceRange.end ? `…${s.sequenceRange.end.slice(-10)}` : 'open'}
                  </code>
                </td>
                <td>{[s.parent, s.adjacentParent].filter(Boolean).join(', ') || '—'}</td>
                <td>{s.children.join(', ') || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="records">
        <h2 id="records">Records of {current ? <code>{current}</code> : '…'}</h2>
        <form
          className="toolbar"
          onSubmit={(e) => {
            e.preventDefault();
            if (current) setRequest({ shard: current, mode, at, limit });
          }}
        >
          <label>
            Read{' '}
            <select value={mode} onChange={(e) => setMode(e.target.value as Mode)} aria-label="Read from">
              <option value="latest">the newest</option>
              <option value="timestamp">from a time</option>
              <option value="sequence">from a sequence number</option>
            </select>
          </label>
          {mode !== 'latest' ? (
            <input
              aria-label={mode === 'timestamp' ? 'Time (ISO-8601)' : 'Sequence number'}
              value={at}
              onChange={(e) => setAt(e.target.value)}
              placeholder={mode === 'timestamp' ? '2026-01-15T10:00:00Z' : '4963…'}
            />
          ) : null}
          <label>
            Records{' '}
            <input
              type="number"
              min={1}
              max={1000}
              value={limit}
              onChange={(e) => setLimit(Number(e.target.value))}
              aria-label="Number of records"
            />
          </label>
          <button type="submit" disabled={!current}>
            Read
          </button>
          <label>
            <input type="checkbox" checked={raw} onChange={(e) => setRaw(e.target.checked)} /> raw
          </label>
        </form>
        {records.error ? (
          <p className="error" role="alert">
            {records.error.message}
          </p>
        ) : null}
        {records.isFetching ? <p className="muted">Reading…</p> : null}
        {records.data ? (
          <>
            <p className="muted" data-testid="records-count">
              {records.data.length} records
            </p>
            <ol className="plain records" data-testid="records">
              {records.data.map((r) => (
                <RecordRow key={r.sequenceNumber} r={r} raw={raw} />
              ))}
            </ol>
          </>
        ) : null}
      </section>
    </>
  );
}
