import { intParam } from '../../../lib/http/params.ts';
import { QueryRefusedError } from '../../../lib/query/errors.ts';
import { adhocParams } from '../../../lib/query/params.ts';
import { savedQuery, savedRequest } from '../../../lib/query/saved.ts';
import { sharedQueryService } from '../../../lib/composition.ts';
import { actorOf } from '../_lib/actor.ts';
import { route } from '../_lib/route.ts';

export const dynamic = 'force-dynamic';

/** History, newest first. */
export const GET = route(async (req: Request) => {
  const limit = intParam(new URL(req.url).searchParams, 'limit', { fallback: 50, min: 1, max: 200 });
  return Response.json(await sharedQueryService().history(limit));
});

interface StartBody {
  sql?: unknown;
  saved?: unknown;
  params?: unknown;
  allowFullScan?: unknown;
}

const USAGE =
  'Send {"sql": "SELECT …", "params": {"name": "value"}} or {"saved": "<name>", "params": {…}}, optionally with "allowFullScan": true (operators).';

/**
 * Starts ad-hoc SQL (`sql`, `$name` params as text) or a saved query (`saved`, typed params) as the signed-in user;
 * answers at once. Lifting the scan guard (`allowFullScan`) is refused to viewers (403).
 */
export const POST = route(async (req: Request) => {
  const body = (await req.json().catch(() => null)) as StartBody | null;
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new QueryRefusedError('bad_request', USAGE);
  const params = body.params ?? {};
  if (typeof params !== 'object' || params === null || Array.isArray(params))
    throw new QueryRefusedError('bad_request', `"params" must be an object of names and values. ${USAGE}`);
  if (body.allowFullScan !== undefined && typeof body.allowFullScan !== 'boolean')
    throw new QueryRefusedError('bad_request', `"allowFullScan" must be true or false. ${USAGE}`);
  const svc = sharedQueryService();
  const raw = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]));
  const common = { allowFullScan: body.allowFullScan === true, actor: actorOf(req) };
  if (body.saved !== undefined) {
    if (typeof body.saved !== 'string') throw new QueryRefusedError('bad_request', USAGE);
    return Response.json(await svc.start({ ...savedRequest(savedQuery(body.saved), raw, svc.engine), ...common }), {
      status: 202,
    });
  }
  if (typeof body.sql !== 'string') throw new QueryRefusedError('empty_query', USAGE);
  return Response.json(await svc.start({ sql: body.sql, params: adhocParams(raw), ...common }), { status: 202 });
});
