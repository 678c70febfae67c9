import { authConfig } from '@/lib/console/auth.ts';
import type { Actor } from '@/lib/quarantine/service.ts';

/**
 * Who is calling a route: the role and name the sign-in gate (proxy.ts) put in the request headers. A console without
 * sign-in (local, no password set) is run by its only user, who may do everything.
 */
export function actorOf(req: Request): Actor {
  return actorFromHeaders(req.headers);
}

/** The same for a page (server component), from `headers()`. */
export function actorFromHeaders(headers: Pick<Headers, 'get'>): Actor {
  if (!authConfig().required) return { by: 'local', role: 'operator' };
  const role = headers.get('x-tributary-role') === 'operator' ? 'operator' : 'viewer';
  const name = headers.get('x-tributary-user');
  return { by: name ? decodeURIComponent(name) : role, role };
}
