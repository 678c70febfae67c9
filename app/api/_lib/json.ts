import { ConsoleAuthError } from '@/lib/console/errors.ts';
import { errorMessage, TributaryError } from '@/lib/errors.ts';

/**
 * The HTTP answer for an error: a Tributary error with its own status and code (refused input 400, not allowed 403,
 * unknown 404, the state of a query or job 409, a dependency unavailable 502/503 with `Retry-After` where it has one),
 * an AWS resource that does not exist 404, anything else 500.
 */
export function errorResponse(err: unknown): Response {
  if (err instanceof TributaryError) {
    const retry =
      err instanceof ConsoleAuthError && err.retryAfterS ? { 'retry-after': String(err.retryAfterS) } : undefined;
    return Response.json(
      { error: err.message, code: err.code },
      { status: err.status, ...(retry ? { headers: retry } : {}) },
    );
  }
  if ((err as { name?: string }).name === 'ResourceNotFoundException')
    return Response.json({ error: errorMessage(err), code: 'not_found' }, { status: 404 });
  return Response.json({ error: errorMessage(err), code: 'internal' }, { status: 500 });
}
