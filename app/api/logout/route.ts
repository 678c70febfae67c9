import { SESSION_COOKIE } from '../../../lib/console/auth.ts';

export const dynamic = 'force-dynamic';

/** Signs out: clears the session cookie. */
export async function POST(): Promise<Response> {
  return new Response(null, { status: 303, headers: { location: '/login', 'set-cookie': `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0` } });
}
