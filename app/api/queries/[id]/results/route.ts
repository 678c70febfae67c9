import { sharedQueryService } from '../../../../../lib/runtime.ts';
import { route } from '../../../_lib/route.ts';

export const dynamic = 'force-dynamic';

/** One page of a finished query's rows (`nextToken`, `maxResults` ≤ 1000). */
export const GET = route(async (req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const url = new URL(req.url);
  const nextToken = url.searchParams.get('nextToken') ?? undefined;
  const maxResults = Number(url.searchParams.get('maxResults') ?? 100) || 100;
  return Response.json(await sharedQueryService().results((await ctx.params).id, { ...(nextToken ? { nextToken } : {}), maxResults }));
});
