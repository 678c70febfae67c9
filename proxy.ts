import { NextResponse, type NextRequest } from 'next/server';
import { consoleGate, gate } from '@/lib/console/gate.ts';
import { SESSION_COOKIE } from '@/lib/console/sessions.ts';

/**
 * The console's gate (lib/console/gate.ts) for every page and route: cross-site state changes are refused; without a
 * valid session pages go to /login and API routes answer 401. Locally sign-in is off unless a password is set; in AWS
 * a password is required.
 */
export async function proxy(req: NextRequest): Promise<NextResponse> {
  const decision = await gate(
    {
      method: req.method,
      path: req.nextUrl.pathname,
      headers: req.headers,
      cookie: req.cookies.get(SESSION_COOKIE)?.value,
    },
    consoleGate(),
  );
  if (decision.pass) {
    // Set or removed (never passed on) so a client cannot smuggle its own role or name past the gate.
    const headers = new Headers(req.headers);
    headers.delete('x-tributary-role');
    headers.delete('x-tributary-user');
    if (decision.user) {
      headers.set('x-tributary-role', decision.user.role);
      headers.set('x-tributary-user', encodeURIComponent(decision.user.name));
    }
    return NextResponse.next({ request: { headers } });
  }
  if (decision.signIn) {
    const login = new URL('/login', req.url);
    login.searchParams.set('next', `${req.nextUrl.pathname}${req.nextUrl.search}`);
    return NextResponse.redirect(login);
  }
  return NextResponse.json(decision.body, {
    status: decision.status,
    headers: decision.retryAfterS ? { 'retry-after': String(decision.retryAfterS) } : {},
  });
}

export const config = {
  // Everything but Next's static assets (the sign-in page and route pass the gate's Origin check too).
  matcher: ['/((?!_next/static|_next/image|icon.svg|favicon.ico).*)'],
};
