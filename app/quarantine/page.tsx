import { headers } from 'next/headers';
import { QuarantineBrowser } from '../../components/quarantine/QuarantineBrowser.tsx';
import { authConfig } from '../../lib/console/auth.ts';
import { QUARANTINE_REASONS } from '../../lib/quarantine/record.ts';
import { QUARANTINE_STAGES } from '../../lib/quarantine/store.ts';
import { defaultRegistry } from '../../lib/registry/registry.ts';
import { sharedQuarantineService } from '../../lib/runtime.ts';

export const metadata = { title: 'Quarantine · Tributary console' };
export const dynamic = 'force-dynamic';

export default async function QuarantinePage() {
  // Without sign-in (local, no password) the one user is an operator; otherwise the gate put the role in the headers.
  const canOperate = !authConfig().required || (await headers()).get('x-tributary-role') === 'operator';
  return (
    <>
      <h1>Quarantine</h1>
      <QuarantineBrowser canOperate={canOperate} exportEnabled={sharedQuarantineService().exportEnabled} types={defaultRegistry().names()} stages={QUARANTINE_STAGES} reasons={QUARANTINE_REASONS} />
    </>
  );
}
