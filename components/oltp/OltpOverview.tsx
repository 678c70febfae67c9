'use client';
import { useQuery } from '@tanstack/react-query';
import type { OltpOverview as OltpData } from '@/lib/console/oltp.ts';
import { ApiError, api } from '../api.ts';
import { LatestTransactions } from './LatestTransactions.tsx';
import { OltpKpis } from './OltpKpis.tsx';
import { SinkTable } from './SinkTable.tsx';
import { serverName, utcTime } from './format.ts';

const REFRESH_MS = 5_000;
const LATEST = 20;

/** What to do when the database cannot be read. */
export function OltpUnavailable({ error, stale }: { error: Error; stale: boolean }) {
  const down = error instanceof ApiError && error.status === 503;
  return (
    <div className="error" role="alert" data-testid="oltp-error">
      <p>
        {down ? 'The OLTP database is unavailable' : 'Cannot load the OLTP status'}: {error.message}
      </p>
      <p>
        Run <code>tributary dev</code> (it starts the sink and its embedded database), or set <code>DATABASE_URL</code>{' '}
        to your Postgres server before starting the console. This page retries every {REFRESH_MS / 1000} s
        {stale ? '; the figures below are from the last successful read' : ''}.
      </p>
    </div>
  );
}

/** The OLTP database and its sink, refreshed every 5 s: rows per table, failures, per-shard progress, newest rows. */
export function OltpOverview() {
  const status = useQuery({
    queryKey: ['oltp', LATEST],
    queryFn: () => api<OltpData>(`/api/oltp?latest=${LATEST}`),
    refetchInterval: REFRESH_MS,
  });
  if (status.isPending) {
    return (
      <p className="muted" role="status">
        Loading the OLTP database…
      </p>
    );
  }
  const data = status.data;
  return (
    <div className="oltp">
      {status.error ? <OltpUnavailable error={status.error} stale={!!data} /> : null}
      {data ? (
        <>
          <p className="status muted" data-testid="oltp-server">
            {serverName(data.server)} · read {utcTime(data.at)} UTC · refreshes every {REFRESH_MS / 1000} s
          </p>
          <OltpKpis status={data} />
          <section aria-labelledby="oltp-sink-title">
            <h2 id="oltp-sink-title">Sink per shard</h2>
            <SinkTable sink={data.sink} />
          </section>
          <section aria-labelledby="oltp-latest-title">
            <h2 id="oltp-latest-title">Latest transactions</h2>
            <p className="muted">The {LATEST} most recently applied, newest first.</p>
            <LatestTransactions rows={data.latest} />
          </section>
        </>
      ) : null}
    </div>
  );
}
