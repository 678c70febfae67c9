import type { OltpOverview } from '@/lib/console/oltp.ts';
import { Kpi, KpiGrid } from '@/components/ui/Kpi.tsx';
import { FailuresCard } from './FailuresCard.tsx';
import { count } from './format.ts';

// The tables in parent-first order, as `tributary db status` lists them.
const TABLES: { name: keyof OltpOverview['tables']; label: string; note: string }[] = [
  { name: 'transaction', label: 'Transactions', note: 'rows in transaction' },
  { name: 'customer', label: 'Customers', note: 'rows in customer (one per card)' },
  { name: 'merchant', label: 'Merchants', note: 'rows in merchant' },
  { name: 'address', label: 'Addresses', note: 'rows in address' },
  { name: 'city', label: 'Cities', note: 'rows in city' },
];

function migrationNote({ current, latest }: OltpOverview['migration']): string {
  if (current === 0) return 'not migrated: the sink migrates on start, or run tributary db migrate';
  if (current < latest) return 'behind this release: run tributary db migrate';
  if (current > latest) return 'ahead of this release: run a newer tributary';
  return 'schema up to date';
}

/** Rows per table, the schema's migration, and the sink's failures. */
export function OltpKpis({ status }: { status: OltpOverview }) {
  const quarantinedTotal = status.sink.reduce((a, s) => a + s.rejected, 0);
  return (
    <KpiGrid label="OLTP database indicators">
      {TABLES.map((t) => (
        <Kpi
          key={t.name}
          testId={`oltp-rows-${t.name}`}
          label={t.label}
          value={count(status.tables[t.name])}
          note={t.note}
        />
      ))}
      <Kpi
        testId="oltp-migration"
        label="Migration"
        value={`${status.migration.current} / ${status.migration.latest}`}
        note={migrationNote(status.migration)}
        alert={status.migration.current !== status.migration.latest}
      />
      <FailuresCard open={status.quarantine.open} error={status.quarantine.error} quarantinedTotal={quarantinedTotal} />
    </KpiGrid>
  );
}
