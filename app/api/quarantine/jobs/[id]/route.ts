import { intParam, OFFSET } from '@/lib/http/params.ts';
import { maskerFor, sharedQuarantineService } from '@/lib/composition.ts';
import { withSearchWithheld } from '@/lib/quarantine/withheld-search.ts';
import { actorOf } from '@/app/api/_lib/actor.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/** A job's progress and a page of its per-record outcomes (`offset`, `limit`); a viewer's without the search text. */
export const GET = route(async (req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const params = new URL(req.url).searchParams;
  const job = await sharedQuarantineService().job((await ctx.params).id, {
    offset: intParam(params, 'offset', OFFSET),
    limit: intParam(params, 'limit', { fallback: 100, min: 1, max: 500 }),
  });
  return Response.json(maskerFor(actorOf(req)) ? { ...job, state: withSearchWithheld(job.state) } : job);
});

/** Cancels a running job (it stops after the chunk in flight); operators only. */
export const DELETE = route(async (req: Request, ctx: { params: Promise<{ id: string }> }) => {
  return Response.json(await sharedQuarantineService().cancel((await ctx.params).id, actorOf(req)));
});
