import { errorMessage } from '../../../lib/errors.ts';
import { DatabaseUnavailableError } from '../../../lib/oltp/errors.ts';
import { QuarantineError } from '../../../lib/quarantine/errors.ts';
import { QueryError } from '../../../lib/query/errors.ts';
import { StreamBrowseError } from '../../../lib/stream/browse.ts';

/**
 * The HTTP answer for an error: refused or malformed input → 400, not allowed → 403, unknown query, shard or record →
 * 404, the OLTP database unreachable → 503, anything else → 500.
 */
export function errorResponse(err: unknown): Response {
  if (err instanceof DatabaseUnavailableError) return Response.json({ error: err.message, code: err.code }, { status: 503 });
  if (err instanceof QuarantineError) return Response.json({ error: err.message, code: err.code }, { status: err.status });
  if (err instanceof StreamBrowseError) return Response.json({ error: err.message, code: err.code }, { status: 400 });
  if ((err as { name?: string }).name === 'ResourceNotFoundException') return Response.json({ error: errorMessage(err), code: 'not_found' }, { status: 404 });
  // Each query error class carries its status: refused 400, forbidden 403, unknown 404, the query's state 409.
  if (err instanceof QueryError) return Response.json({ error: err.message, code: err.code }, { status: err.status });
  return Response.json({ error: errorMessage(err), code: 'internal' }, { status: 500 });
}
