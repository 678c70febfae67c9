'use client';
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import type { SchemaListing } from '@/lib/registry/listing.ts';
import { api } from '../api.ts';

type SchemaType = SchemaListing;

interface Failure {
  type: string;
  v: number | null;
  path: string;
  keyword: string;
  failures: number;
  example: string;
}

function isoDay(offsetDays: number): string {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

/** Event types, their versions and JSON Schemas, and how often each field fails validation. */
export function SchemaBrowser() {
  const types = useQuery({ queryKey: ['schemas'], queryFn: () => api<SchemaType[]>('/api/schemas') });
  const [selected, setSelected] = useState<string | null>(null);
  const [version, setVersion] = useState<number | null>(null);
  const [from, setFrom] = useState(isoDay(-6));
  const [to, setTo] = useState(isoDay(0));
  const failures = useQuery({
    queryKey: ['failures', from, to],
    queryFn: () => api<{ rows: Failure[] }>(`/api/schemas/failures?period=${encodeURIComponent(`${from}..${to}`)}`),
  });
  const type = types.data?.find((t) => t.name === (selected ?? types.data[0]?.name));
  const shown = type?.versions.find((v) => v.v === (version ?? type.manifest.latest)) ?? type?.versions.at(-1);
  const rows = (failures.data?.rows ?? []).filter((f) => f.type === type?.name);
  const m = type?.manifest;

  return (
    <>
      {types.error ? (
        <p className="error" role="alert">
          {types.error.message}
        </p>
      ) : null}
      <nav className="tabs" aria-label="Event types">
        {types.data?.map((t) => (
          <button
            key={t.name}
            type="button"
            className={`link ${t.name === type?.name ? 'active' : ''}`}
            onClick={() => {
              setSelected(t.name);
              setVersion(null);
            }}
          >
            {t.name}
          </button>
        ))}
      </nav>
      {type && m ? (
        <div className="schema-grid">
          <section aria-labelledby="manifest">
            <h2 id="manifest">{type.name}</h2>
            <p>{m.description}</p>
            <table>
              <tbody>
                <tr>
                  <th>table</th>
                  <td>
                    <code>{m.table}</code>
                  </td>
                </tr>
                <tr>
                  <th>event id</th>
                  <td>
                    <code>{m.id?.pointer ?? 'generated (UUIDv7)'}</code>
                  </td>
                </tr>
                <tr>
                  <th>event time</th>
                  <td>
                    {m.eventTime ? (
                      <>
                        <code>{m.eventTime.pointer}</code> ({m.eventTime.format})
                      </>
                    ) : (
                      'received time'
                    )}
                  </td>
                </tr>
                <tr>
                  <th>partitions</th>
                  <td>dt, hour{m.partitions.map((p) => `, ${p.name} (${p.pointer})`).join('')}</td>
                </tr>
                <tr>
                  <th>partition key</th>
                  <td>
                    <code>{m.partitionKey?.pointer ?? 'id'}</code>
                  </td>
                </tr>
                <tr>
                  <th>versions</th>
                  <td>
                    {type.versions.map((v) => `v${v.v}`).join(', ')} (latest v{m.latest})
                  </td>
                </tr>
              </tbody>
            </table>
            <h2>Validation failures by field</h2>
            <div className="toolbar">
              <label>
                From <input aria-label="Failures from" value={from} onChange={(e) => setFrom(e.target.value)} />
              </label>
              <label>
                To <input aria-label="Failures to" value={to} onChange={(e) => setTo(e.target.value)} />
              </label>
            </div>
            {failures.error ? (
              <p className="error" role="alert">
                {failures.error.message}
              </p>
            ) : null}
            {failures.isFetching ? <p className="muted">Counting…</p> : null}
            <table data-testid="failures">
              <thead>
                <tr>
                  <th>version</th>
                  <th>field</th>
                  <th>rule</th>
                  <th>failures</th>
                  <th>example</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((f) => (
                  <tr key={`${f.v}|${f.path}|${f.keyword}`}>
                    <td>{f.v === null ? '—' : `v${f.v}`}</td>
                    <td>
                      <code>{f.path}</code>
                    </td>
                    <td>{f.keyword}</td>
                    <td className="num">{f.failures.toLocaleString('en-US')}</td>
                    <td>{f.example}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {failures.data && !rows.length ? (
              <p className="muted">No validation failures for {type.name} in this period.</p>
            ) : null}
          </section>
          <section aria-labelledby="schema">
            <h2 id="schema">
              JSON Schema{' '}
              <select aria-label="Schema version" value={shown?.v} onChange={(e) => setVersion(Number(e.target.value))}>
                {type.versions.map((v) => (
                  <option key={v.v} value={v.v}>
                    v{v.v}
                  </option>
                ))}
              </select>
            </h2>
            <pre className="schema" data-testid="schema">
              {JSON.stringify(shown?.schema, null, 2)}
            </pre>
          </section>
        </div>
      ) : null}
    </>
  );
}
