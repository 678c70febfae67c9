import { NextResponse, type NextRequest } from 'next/server';
import { authConfig, SESSION_COOKIE, sessionUser } from './lib/console/auth.ts';

/**
 * Sign-in gate for every page and route of the console: pages without a valid session go to /login, API routes answer
 * 401. Locally the console is open unless a password is set; in AWS a password is required.
 */
export async function proxy(req: NextRequest): Promise<NextResponse> {
  const cfg = authConfig();
  if (!cfg.required) return NextResponse.next();
  const user = await sessionUser(req.cookies.get(SESSION_COOKIE)?.value, cfg);
  if (user) {
    // Set (not appended) so a client cannot smuggle its own role or name past the gate.
    const headers = new Headers(req.headers);
    headers.set('x-tributary-role', user.role);
    headers.set('x-tributary-user', encodeURIComponent(user.name));
    return NextResponse.next({ request: { headers } });
  }
  if (req.nextUrl.pathname.startsWith('/api/')) {
    return NextResponse.json({ error: 'Sign in first: POST /api/login with the console password.', code: 'unauthenticated' }, { status: 401 });
  }
  const login = new URL('/login', req.url);
  login.searchParams.set('next', `${req.nextUrl.pathname}${req.nextUrl.search}`);
  return NextResponse.redirect(login);
}

export const config = {
  // Everything but the sign-in page and route and Next's static assets.
  matcher: ['/((?!login|api/login|_next/static|_next/image|icon.svg|favicon.ico).*)'],
};
