import { sharedQueryService } from '../../../../lib/runtime.ts';
import { errorResponse } from '../../_lib/json.ts';

export const dynamic = 'force-dynamic';

type Ctx = { params: Promise<{ id: string }> };

/** State, elapsed time, bytes scanned, cost and row count of a query. */
export async function GET(_req: Request, ctx: Ctx): Promise<Response> {
  try {
    return Response.json(await sharedQueryService().status((await ctx.params).id));
  } catch (err) {
    return errorResponse(err);
  }
}

/** Cancels a running query. */
export async function DELETE(_req: Request, ctx: Ctx): Promise<Response> {
  try {
    return Response.json(await sharedQueryService().cancel((await ctx.params).id));
  } catch (err) {
    return errorResponse(err);
  }
}
