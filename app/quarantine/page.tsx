import { Suspense } from 'react';
import { headers } from 'next/headers';
import { QuarantineBrowser } from '@/components/quarantine/QuarantineBrowser.tsx';
import { PageHeader } from '@/components/ui/PageHeader.tsx';
import { QUARANTINE_REASONS } from '@/lib/quarantine/record.ts';
import { QUARANTINE_STAGES } from '@/lib/quarantine/filter.ts';
import { defaultRegistry } from '@/lib/registry/registry.ts';
import { sharedQuarantineService } from '@/lib/composition.ts';
import { actorFromHeaders } from '@/app/api/_lib/actor.ts';

export const metadata = { title: 'Quarantine · Tributary console' };
export const dynamic = 'force-dynamic';

export default async function QuarantinePage() {
  // Re-drive, discard and export are the operator's (the routes refuse them to viewers); the page offers them to operators.
  const canOperate = actorFromHeaders(await headers()).role === 'operator';
  return (
    <>
      <PageHeader
        title="Quarantine"
        description="Records that failed a stage: filter, fix with live validation, re-drive or discard."
      />
      {/* The filter, page, record and job come from the URL (/quarantine?stage=oltp-sink, the OLTP page's link). */}
      <Suspense>
        <QuarantineBrowser
          canOperate={canOperate}
          exportEnabled={sharedQuarantineService().exportEnabled}
          types={defaultRegistry().names()}
          stages={QUARANTINE_STAGES}
          reasons={QUARANTINE_REASONS}
        />
      </Suspense>
    </>
  );
}
