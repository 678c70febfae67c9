import { intParam } from '@/lib/http/params.ts';
import { sharedQueryService } from '@/lib/composition.ts';
import { actorOf } from '@/app/api/_lib/actor.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/** One page of a finished query's rows (`nextToken`, `maxResults` ≤ 1000). */
export const GET = route(async (req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const url = new URL(req.url);
  const nextToken = url.searchParams.get('nextToken') ?? undefined;
  const maxResults = intParam(url.searchParams, 'maxResults', { fallback: 100, min: 1, max: 1000 });
  return Response.json(
    await sharedQueryService().results(
      (await ctx.params).id,
      { ...(nextToken ? { nextToken } : {}), maxResults },
      actorOf(req),
    ),
  );
});
