import type { LakeFreshness } from '@/lib/metrics/freshness.ts';
import { formatCount, formatDuration } from '@/lib/util/format.ts';
import { Kpi, KpiGrid } from '@/components/ui/Kpi.tsx';

export interface KpiValues {
  /** Events per minute over the last few minutes; undefined while loading. */
  acceptedPerMinute?: number;
  rejectedPerMinute?: number;
  /** Open quarantined records (the quarantine index); undefined while loading. */
  backlog?: number;
  freshness?: LakeFreshness;
  /** The worst consumer lag now (null: nothing measured in the range); undefined while loading. */
  lag?: { ms: number; consumer: string; shardId: string } | null;
}

const rate = (v: number | undefined) => (v === undefined ? '…' : formatCount(v));

/** The pipeline at a glance: ingest rates, quarantine, lake freshness. */
export function KpiTiles({ acceptedPerMinute, rejectedPerMinute, backlog, freshness, lag }: KpiValues) {
  return (
    <KpiGrid label="Pipeline indicators">
      <Kpi testId="kpi-accepted" label="Accepted / min" value={rate(acceptedPerMinute)} note="last 5 minutes" />
      <Kpi
        testId="kpi-rejected"
        label="Rejected / min"
        value={rate(rejectedPerMinute)}
        note="last 5 minutes, quarantined"
        alert={!!rejectedPerMinute}
      />
      <Kpi
        testId="kpi-quarantine"
        label="Quarantine backlog"
        value={backlog === undefined ? '…' : backlog.toLocaleString('en-US')}
        note="open records (not re-driven or discarded)"
      />
      <Kpi
        testId="kpi-lag"
        label="Worst consumer lag"
        value={lag === undefined ? '…' : lag === null ? 'none' : formatDuration(lag.ms)}
        note={lag ? `${lag.consumer} on ${lag.shardId}, its newest batch` : 'time behind the stream, any consumer'}
        alert={!!lag && lag.ms > 60_000}
      />
      <Kpi
        testId="kpi-freshness"
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
              : `newest object; the newest event's own time is ${new Date(Date.now() - freshness.newestEventAgeMs).toISOString().slice(0, 10)} (data can be historical)`
        }
      />
    </KpiGrid>
  );
}
