import { authConfig, roleForPassword, safeNext, SESSION_COOKIE, SESSION_MS, signSession } from '../../../lib/console/auth.ts';

export const dynamic = 'force-dynamic';

/** Signs in with the console password (form or JSON `{password, next}`); sets the session cookie. */
export async function POST(req: Request): Promise<Response> {
  const cfg = authConfig();
  const form = req.headers.get('content-type')?.includes('application/json')
    ? ((await req.json().catch(() => ({}))) as { password?: string; next?: string; name?: string })
    : Object.fromEntries((await req.formData()).entries()) as { password?: string; next?: string; name?: string };
  const next = safeNext(form.next);
  const role = await roleForPassword(String(form.password ?? ''), cfg);
  const isForm = !req.headers.get('content-type')?.includes('application/json');
  if (!role) {
    if (isForm) return new Response(null, { status: 303, headers: { location: `/login?error=1&next=${encodeURIComponent(next)}` } });
    return Response.json({ error: 'Wrong password.', code: 'bad_password' }, { status: 401 });
  }
  const cookie = `${SESSION_COOKIE}=${await signSession(role, cfg, Date.now(), form.name)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${SESSION_MS / 1000}${cfg.secure ? '; Secure' : ''}`;
  if (isForm) return new Response(null, { status: 303, headers: { location: next, 'set-cookie': cookie } });
  return Response.json({ role }, { headers: { 'set-cookie': cookie } });
}
