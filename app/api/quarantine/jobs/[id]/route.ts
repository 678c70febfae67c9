import { sharedQuarantineService } from '../../../../../lib/runtime.ts';
import { actorOf } from '../../../_lib/actor.ts';
import { errorResponse } from '../../../_lib/json.ts';

export const dynamic = 'force-dynamic';

/** A job's progress and a page of its per-record outcomes (`offset`, `limit`). */
export async function GET(req: Request, ctx: { params: Promise<{ id: string }> }): Promise<Response> {
  try {
    const params = new URL(req.url).searchParams;
    return Response.json(await sharedQuarantineService().job((await ctx.params).id, { offset: Number(params.get('offset') ?? 0) || 0, limit: Number(params.get('limit') ?? 100) || 100 }));
  } catch (err) {
    return errorResponse(err);
  }
}

/** Cancels a running job (it stops after the chunk in flight); operators only. */
export async function DELETE(req: Request, ctx: { params: Promise<{ id: string }> }): Promise<Response> {
  try {
    return Response.json(await sharedQuarantineService().cancel((await ctx.params).id, actorOf(req)));
  } catch (err) {
    return errorResponse(err);
  }
}
