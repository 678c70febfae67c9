import { savedQuery, savedRequest } from '@/lib/query/saved.ts';
import { sharedQueryService } from '@/lib/composition.ts';
import { actorOf } from '@/app/api/_lib/actor.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/** Validation failures per type, version and field path (the failures_by_field saved query), for `period=FROM..TO`. */
export const GET = route(async (req: Request) => {
  const period = new URL(req.url).searchParams.get('period') ?? undefined;
  const svc = sharedQueryService();
  const { info, columns, rows } = await svc.run({
    ...savedRequest(savedQuery('failures_by_field'), period ? { period } : {}, svc.engine),
    actor: actorOf(req),
    // The page's own query: not one for its user's SQL history.
    unlisted: true,
  });
  return Response.json({
    query: info,
    rows: rows.map((r) => Object.fromEntries(columns.map((c, i) => [c.name, r[i]]))),
  });
});
