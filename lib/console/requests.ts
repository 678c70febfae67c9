import { MIMEType } from 'node:util';
import { BadConsoleRequestError, CrossSiteRequestError } from './errors.ts';

/** Methods that change state: each must come from the console's own pages (Origin) and carry JSON. */
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Routes an HTML form posts to (sign-in and sign-out work without JavaScript): JSON or a urlencoded form. */
export const FORM_ROUTES = new Set(['/api/login', '/api/logout']);

/** The essence of a Content-Type (`application/json`), parsed by Node's WHATWG MIME parser; null when absent or invalid. */
export function mediaType(contentType: string | null | undefined): string | null {
  if (!contentType) return null;
  try {
    return new MIMEType(contentType).essence;
  } catch {
    return null;
  }
}

/** What the checks read of a request (any HTTP framework's request maps onto it). */
export interface ConsoleRequest {
  method: string;
  /** The URL path, e.g. `/api/queries`. */
  path: string;
  headers: Pick<Headers, 'get'>;
}

/**
 * Refuses a state-changing request to a console route unless it comes from the console's own origin and carries JSON
 * (or, on the sign-in and sign-out routes, an HTML form), so another site cannot make a signed-in browser act
 * (cross-site request forgery: a form post or a `fetch` from another origin). The origin is compared with the host the
 * browser addressed: `x-forwarded-host`, which CloudFront's viewer-request function sets from the viewer's `Host`, else
 * `Host`; a browser sends `Origin` with every POST, PUT, PATCH and DELETE. Reads (GET, HEAD) pass.
 *
 * @throws CrossSiteRequestError (403) for a missing or foreign `Origin`; BadConsoleRequestError for another content
 *   type: 400 on the sign-in routes, 415 elsewhere.
 */
export function checkStateChange(req: ConsoleRequest): void {
  if (!STATE_CHANGING.has(req.method.toUpperCase()) || !req.path.startsWith('/api/')) return;
  const host = req.headers.get('x-forwarded-host') ?? req.headers.get('host');
  const origin = req.headers.get('origin');
  let originHost: string | null = null;
  try {
    originHost = origin && origin !== 'null' ? new URL(origin).host : null;
  } catch {
    originHost = null;
  }
  if (!originHost || !host || originHost.toLowerCase() !== host.toLowerCase()) {
    throw new CrossSiteRequestError(
      origin
        ? `Refused: this request comes from ${origin.slice(0, 200)}, not from the console (${host ?? 'unknown host'}). State-changing requests are accepted from the console's own pages only.`
        : `Refused: a state-changing request needs an Origin header naming the console (Origin: https://${host ?? '<console host>'}); browsers send it, scripts must add it.`,
    );
  }
  const type = mediaType(req.headers.get('content-type'));
  const form = FORM_ROUTES.has(req.path);
  if (
    type === 'application/json' ||
    (form && type === 'application/x-www-form-urlencoded') ||
    (req.path === '/api/logout' && type === null)
  )
    return;
  throw new BadConsoleRequestError(
    'bad_content_type',
    form
      ? `Send the sign-in as JSON (Content-Type: application/json, {"password": …}) or as an HTML form (application/x-www-form-urlencoded), not ${type ?? 'an unreadable content type'}.`
      : `Send this request as JSON (Content-Type: application/json), not ${type ?? 'without a content type'}.`,
    form ? 400 : 415,
  );
}
