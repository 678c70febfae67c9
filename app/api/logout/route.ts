import { cookies } from 'next/headers';
import { consoleGate } from '../../../lib/console/gate.ts';
import { ConsoleAuthError } from '../../../lib/console/errors.ts';
import { SESSION_COOKIE, sessionCookie } from '../../../lib/console/sessions.ts';

export const dynamic = 'force-dynamic';

/** Signs out: revokes the session server-side (the cookie stops working everywhere) and clears the cookie. */
export async function POST(): Promise<Response> {
  const deps = consoleGate();
  try {
    await deps.sessions.revoke((await cookies()).get(SESSION_COOKIE)?.value, deps.cfg);
  } catch (err) {
    if (!(err instanceof ConsoleAuthError)) throw err;
    return Response.json({ error: err.message, code: err.code }, { status: err.status, headers: err.retryAfterS ? { 'retry-after': String(err.retryAfterS) } : {} });
  }
  return new Response(null, { status: 303, headers: { location: '/login', 'set-cookie': sessionCookie(null, deps.cfg) } });
}
