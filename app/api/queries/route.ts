import { intParam } from '@/lib/http/params.ts';
import { readStartRequest } from '@/lib/query/start-request.ts';
import { sharedQueryService } from '@/lib/composition.ts';
import { actorOf } from '@/app/api/_lib/actor.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/** History, newest first. */
export const GET = route(async (req: Request) => {
  const limit = intParam(new URL(req.url).searchParams, 'limit', { fallback: 50, min: 1, max: 200 });
  return Response.json(await sharedQueryService().history(limit));
});

/**
 * Starts ad-hoc SQL (`sql`, `$name` params as text) or a saved query (`saved`, typed params) as the signed-in user;
 * answers at once. Lifting the scan guard (`allowFullScan`) is refused to viewers (403).
 */
export const POST = route(async (req: Request) => {
  const svc = sharedQueryService();
  const ask = readStartRequest(await req.json().catch(() => null), svc.engine);
  return Response.json(await svc.start({ ...ask, actor: actorOf(req) }), { status: 202 });
});
