import { headers } from 'next/headers';
import { QuarantineBrowser } from '@/components/quarantine/QuarantineBrowser.tsx';
import { filterFromParams } from '@/components/quarantine/types.ts';
import { QUARANTINE_REASONS } from '@/lib/quarantine/record.ts';
import { QUARANTINE_STAGES } from '@/lib/quarantine/filter.ts';
import { defaultRegistry } from '@/lib/registry/registry.ts';
import { sharedQuarantineService } from '@/lib/composition.ts';
import { actorFromHeaders } from '@/app/api/_lib/actor.ts';

export const metadata = { title: 'Quarantine · Tributary console' };
export const dynamic = 'force-dynamic';

export default async function QuarantinePage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  // Re-drive, discard and export are the operator's (the routes refuse them to viewers); the page offers them to operators.
  const canOperate = actorFromHeaders(await headers()).role === 'operator';
  const types = defaultRegistry().names();
  // A link can open the page filtered: /quarantine?stage=oltp-sink (the OLTP page's failures card).
  const initialFilter = filterFromParams(await searchParams, {
    types,
    stages: QUARANTINE_STAGES,
    reasons: QUARANTINE_REASONS,
  });
  return (
    <>
      <h1>Quarantine</h1>
      <QuarantineBrowser
        canOperate={canOperate}
        exportEnabled={sharedQuarantineService().exportEnabled}
        types={types}
        stages={QUARANTINE_STAGES}
        reasons={QUARANTINE_REASONS}
        initialFilter={initialFilter}
      />
    </>
  );
}
