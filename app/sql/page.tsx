import { headers } from 'next/headers';
import { SqlWorkspace } from '@/components/sql/SqlWorkspace.tsx';
import { actorFromHeaders } from '@/app/api/_lib/actor.ts';

export const metadata = { title: 'SQL · Tributary console' };
export const dynamic = 'force-dynamic';

export default async function SqlPage() {
  // Only an operator may lift the scan guard (the route refuses it to viewers); the page does not offer it to them.
  const canLiftGuard = actorFromHeaders(await headers()).role === 'operator';
  return (
    <>
      <h1>SQL workspace</h1>
      <SqlWorkspace canLiftGuard={canLiftGuard} />
    </>
  );
}
