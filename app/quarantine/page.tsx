import { headers } from 'next/headers';
import { QuarantineBrowser } from '../../components/quarantine/QuarantineBrowser.tsx';
import { filterFromParams } from '../../components/quarantine/types.ts';
import { authConfig } from '../../lib/console/auth.ts';
import { QUARANTINE_REASONS } from '../../lib/quarantine/record.ts';
import { QUARANTINE_STAGES } from '../../lib/quarantine/store.ts';
import { defaultRegistry } from '../../lib/registry/registry.ts';
import { sharedQuarantineService } from '../../lib/runtime.ts';

export const metadata = { title: 'Quarantine · Tributary console' };
export const dynamic = 'force-dynamic';

export default async function QuarantinePage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  // Without sign-in (local, no password) the one user is an operator; otherwise the gate put the role in the headers.
  const canOperate = !authConfig().required || (await headers()).get('x-tributary-role') === 'operator';
  const types = defaultRegistry().names();
  // A link can open the page filtered: /quarantine?stage=oltp-sink (the OLTP page's failures card).
  const initialFilter = filterFromParams(await searchParams, { types, stages: QUARANTINE_STAGES, reasons: QUARANTINE_REASONS });
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
