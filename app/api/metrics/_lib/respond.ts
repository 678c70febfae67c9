import { MetricsError } from '../../../../lib/metrics/types.ts';
import { errorResponse } from '../../_lib/json.ts';

/** A bad range → 400; a metrics store that cannot be read (CloudWatch refused, files unreadable) → 502; else as usual. */
export function metricsErrorResponse(err: unknown): Response {
  if (err instanceof MetricsError) return Response.json({ error: err.message, code: err.code }, { status: err.code === 'bad_range' ? 400 : 502 });
  return errorResponse(err);
}
