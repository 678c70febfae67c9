import { Suspense } from 'react';
import { headers } from 'next/headers';
import { SqlWorkspace } from '@/components/sql/SqlWorkspace.tsx';
import { PageHeader } from '@/components/ui/PageHeader.tsx';
import { actorFromHeaders } from '@/app/api/_lib/actor.ts';

export const metadata = { title: 'SQL · Tributary console' };
export const dynamic = 'force-dynamic';

export default async function SqlPage() {
  // Only an operator may lift the scan guard (the route refuses it to viewers); the page does not offer it to them.
  const canLiftGuard = actorFromHeaders(await headers()).role === 'operator';
  return (
    <>
      <PageHeader
        title="SQL workspace"
        description="Query the lake (DuckDB locally, Athena in AWS); a filter on dt keeps the scan small."
      />
      <Suspense>
        <SqlWorkspace canLiftGuard={canLiftGuard} />
      </Suspense>
    </>
  );
}
