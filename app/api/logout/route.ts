import { cookies } from 'next/headers';
import { consoleGate } from '@/lib/console/gate.ts';
import { SESSION_COOKIE, sessionCookie } from '@/lib/console/sessions.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/** Signs out: revokes the session server-side (the cookie stops working everywhere) and clears the cookie. */
export const POST = route(async () => {
  const deps = consoleGate();
  await deps.sessions.revoke((await cookies()).get(SESSION_COOKIE)?.value, deps.cfg);
  return new Response(null, {
    status: 303,
    headers: { location: '/login', 'set-cookie': sessionCookie(null, deps.cfg) },
  });
});
