import Link from 'next/link';
import { Anchor } from '@mantine/core';
import { Kpi } from '@/components/ui/Kpi.tsx';
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
    <Kpi
      testId="oltp-failures"
      label="Failures"
      value={open === null ? '?' : count(open)}
      alert={!!open}
      note={
        <>
          {open === null
            ? `open records unknown: ${error ?? 'the quarantine cannot be read'}`
            : 'open in quarantine, stage oltp-sink'}{' '}
          · {count(quarantinedTotal)} quarantined in all{' '}
          <Anchor component={Link} href={OLTP_FAILURES_HREF} size="xs">
            Review in quarantine →
          </Anchor>
        </>
      }
    />
  );
}
