import { count } from './format.ts';

/** Where the quarantine page lists what the OLTP database refused (the page reads its filter from the URL). */
export const OLTP_FAILURES_HREF = '/quarantine?stage=oltp-sink';

/**
 * Events the database refused: the open backlog of stage oltp-sink (null: the quarantine could not be read, with
 * why), everything the sink has quarantined so far, and a link to review them.
 */
export function FailuresCard({
  open,
  error,
  quarantinedTotal,
}: {
  open: number | null;
  error?: string | undefined;
  quarantinedTotal: number;
}) {
  return (
    <div className={`kpi${open ? ' kpi-alert' : ''}`} data-testid="oltp-failures">
      <dt>Failures</dt>
      <dd className="kpi-value">{open === null ? '?' : count(open)}</dd>
      <dd className="kpi-note muted">
        {open === null
          ? `open records unknown: ${error ?? 'the quarantine cannot be read'}`
          : 'open in quarantine, stage oltp-sink'}{' '}
        · {count(quarantinedTotal)} quarantined in all
      </dd>
      <dd className="kpi-note">
        <a href={OLTP_FAILURES_HREF}>Review in quarantine →</a>
      </dd>
    </div>
  );
}
