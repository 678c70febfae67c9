'use client';
import { useQuery } from '@tanstack/react-query';
import { api } from '../api.ts';
import type { AuditEntry } from '../quarantine/types.ts';

/** Who re-drove, discarded or exported what, when, with which filter, and how it went; newest first. */
export function AuditLog() {
  const audit = useQuery({
    queryKey: ['audit'],
    queryFn: () => api<{ entries: AuditEntry[] }>('/api/audit?limit=200'),
    refetchInterval: 5000,
  });
  if (audit.isLoading) return <p className="muted">Loading audit log…</p>;
  if (audit.error)
    return (
      <p className="error" role="alert">
        {audit.error.message}
      </p>
    );
  if (!audit.data?.entries.length)
    return <p className="muted">Nothing yet: re-drives, discards and exports are recorded here.</p>;
  return (
    <table data-testid="audit">
      <thead>
        <tr>
          <th>when (UTC)</th>
          <th>who</th>
          <th>action</th>
          <th>applied to</th>
          <th className="num">records</th>
          <th>outcome</th>
          <th>note</th>
        </tr>
      </thead>
      <tbody>
        {audit.data.entries.map((a) => (
          <tr key={a.id}>
            <td>{a.at.replace('T', ' ').slice(0, 19)}</td>
            <td>
              {a.by} <span className="muted">({a.role})</span>
            </td>
            <td>{a.action}</td>
            <td>
              {a.selection === 'filter' ? (
                <code>{new URLSearchParams(a.filter).toString() || 'everything'}</code>
              ) : a.selection === 'one' ? (
                'one record'
              ) : (
                'selected records'
              )}
            </td>
            <td className="num">{a.requested.toLocaleString()}</td>
            <td>
              {a.status ? `${a.status}: ` : ''}
              {Object.entries(a.counts)
                .filter(([, n]) => n > 0)
                .map(([k, n]) => `${n} ${k}`)
                .join(', ') || '—'}
            </td>
            <td>{a.note ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
