import type { QueryEngine } from './engine.ts';
import { QueryRefusedError } from './errors.ts';
import { adhocParams } from './params.ts';
import { savedQuery, savedRequest } from './saved.ts';
import type { QueryRequest } from './query-info.ts';

const USAGE =
  'Send {"sql": "SELECT …", "params": {"name": "value"}} or {"saved": "<name>", "params": {…}}, optionally with "allowFullScan": true (operators).';

/**
 * Reads the body of a request to start a query — ad-hoc SQL (`sql`, `$name` parameters as text) or a saved query by
 * name (`saved`, typed parameters), optionally `allowFullScan` — into what `QueryService.start` runs, for `engine`.
 * Who runs it (and whether they may lift the guard) is the caller's to add and the service's to check.
 *
 * @throws QueryRefusedError (400) for a body that is not one of those shapes, an unknown saved query or a bad parameter.
 * @example
 * await svc.start({ ...readStartRequest(await req.json(), svc.engine), actor });
 */
export function readStartRequest(body: unknown, engine: QueryEngine['name']): Omit<QueryRequest, 'actor'> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new QueryRefusedError('bad_request', USAGE);
  const b = body as { sql?: unknown; saved?: unknown; params?: unknown; allowFullScan?: unknown; via?: unknown };
  const params = b.params ?? {};
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw new QueryRefusedError('bad_request', `"params" must be an object of names and values. ${USAGE}`);
  }
  if (b.allowFullScan !== undefined && typeof b.allowFullScan !== 'boolean') {
    throw new QueryRefusedError('bad_request', `"allowFullScan" must be true or false. ${USAGE}`);
  }
  const raw = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]));
  const allowFullScan = b.allowFullScan === true;
  // The console's workspace says it is the console, so a refusal names its checkbox rather than the API's field.
  const via = b.via === 'console' ? { via: 'console' as const } : {};
  if (b.saved !== undefined) {
    if (typeof b.saved !== 'string') throw new QueryRefusedError('bad_request', USAGE);
    return { ...savedRequest(savedQuery(b.saved), raw, engine), allowFullScan, ...via };
  }
  if (typeof b.sql !== 'string') throw new QueryRefusedError('empty_query', USAGE);
  return { sql: b.sql, params: adhocParams(raw), allowFullScan, ...via };
}
