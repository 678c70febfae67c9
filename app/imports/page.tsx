import { headers } from 'next/headers';
import { ImportsOverview } from '@/components/imports/ImportsOverview.tsx';
import { PageHeader } from '@/components/ui/PageHeader.tsx';
import { actorFromHeaders } from '@/app/api/_lib/actor.ts';

export const metadata = { title: 'Imports · Tributary console' };

export default async function ImportsPage() {
  const actor = actorFromHeaders(await headers());
  return (
    <>
      <PageHeader
        title="Imports"
        description="Full table exports turned into inserts, updates and deletes, and raw event files loaded like API events."
      />
      <ImportsOverview operator={actor.role === 'operator'} />
    </>
  );
}
