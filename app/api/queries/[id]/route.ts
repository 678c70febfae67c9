import { sharedQueryService } from '@/lib/composition.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

type Ctx = { params: Promise<{ id: string }> };

/** State, elapsed time, bytes scanned, cost and row count of a query. */
export const GET = route(async (_req: Request, ctx: Ctx) => {
  return Response.json(await sharedQueryService().status((await ctx.params).id));
});

/** Cancels a running query. */
export const DELETE = route(async (_req: Request, ctx: Ctx) => {
  return Response.json(await sharedQueryService().cancel((await ctx.params).id));
});
