import type { LakeFreshness } from '@/lib/metrics/freshness.ts';
import { formatCount, formatDuration } from '@/lib/util/format.ts';

export interface KpiValues {
  /** Events per minute over the last few minutes; undefined while loading. */
  acceptedPerMinute?: number;
  rejectedPerMinute?: number;
  /** Open quarantined records (the quarantine index); undefined while loading. */
  backlog?: number;
  freshness?: LakeFreshness;
}

function Tile({ name, label, value, note }: { name: string; label: string; value: string; note: string }) {
  return (
    <div className="kpi" data-testid={`kpi-${name}`}>
      <dt>{label}</dt>
      <dd className="kpi-value">{value}</dd>
      <dd className="kpi-note muted">{note}</dd>
    </div>
  );
}

const rate = (v: number | undefined) => (v === undefined ? '…' : formatCount(v));

/** The pipeline at a glance: ingest rates, quarantine, lake freshness. */
export function KpiTiles({ acceptedPerMinute, rejectedPerMinute, backlog, freshness }: KpiValues) {
  return (
    <dl className="kpis" aria-label="Pipeline indicators">
      <Tile name="accepted" label="Accepted / min" value={rate(acceptedPerMinute)} note="last 5 minutes" />
      <Tile name="rejected" label="Rejected / min" value={rate(rejectedPerMinute)} note="last 5 minutes, quarantined" />
      <Tile
        name="quarantine"
        label="Quarantine backlog"
        value={backlog === undefined ? '…' : backlog.toLocaleString('en-US')}
        note="open records (not re-driven or discarded)"
      />
      <Tile
        name="freshness"
        label="Lake freshness"
        value={
          !freshness
            ? '…'
            : freshness.newestObjectAgeMs === null
              ? 'empty'
              : `${formatDuration(freshness.newestObjectAgeMs)} ago`
        }
        note={
          !freshness
            ? 'newest object'
            : freshness.newestEventAgeMs === null
              ? 'no events yet'
              : `newest object; newest event time ${formatDuration(freshness.newestEventAgeMs)} old`
        }
      />
    </dl>
  );
}
