import { clientAddress } from '@/lib/console/auth.ts';
import { consoleGate } from '@/lib/console/gate.ts';
import { sessionCookie } from '@/lib/console/sessions.ts';
import { readSignIn, signIn } from '@/lib/console/signin.ts';
import { ConsoleAuthError } from '@/lib/console/errors.ts';
import { errorResponse } from '@/app/api/_lib/json.ts';

export const dynamic = 'force-dynamic';

/**
 * Signs in with the console password, as JSON `{password, name?, next?}` (answered with JSON) or the sign-in page's
 * form (answered with redirects); sets the session cookie. Failed sign-ins are throttled (429 with Retry-After).
 */
export async function POST(req: Request): Promise<Response> {
  const deps = consoleGate();
  let form = false;
  let next = '/';
  try {
    const ask = readSignIn(req.headers.get('content-type'), await req.text());
    ({ form, next } = ask);
    const { role, token } = await signIn(ask, clientAddress(req.headers), deps);
    const cookie = sessionCookie(token, deps.cfg);
    if (form) return new Response(null, { status: 303, headers: { location: next, 'set-cookie': cookie } });
    return Response.json({ role }, { headers: { 'set-cookie': cookie } });
  } catch (err) {
    // The form gets the sign-in page back with what went wrong; a script gets the error itself.
    if (form && err instanceof ConsoleAuthError) {
      return new Response(null, {
        status: 303,
        headers: {
          location: `/login?error=${err.code}&next=${encodeURIComponent(next)}${err.retryAfterS ? `&retry=${err.retryAfterS}` : ''}`,
        },
      });
    }
    return errorResponse(err);
  }
}
