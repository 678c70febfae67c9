import { sharedQuarantineService } from '../../../../lib/runtime.ts';
import { errorResponse } from '../../_lib/json.ts';

export const dynamic = 'force-dynamic';

/** One quarantined record: the stored record, its status and ledger line, the event to fix and the schema it failed. */
export async function GET(_req: Request, ctx: { params: Promise<{ qid: string }> }): Promise<Response> {
  try {
    return Response.json(await sharedQuarantineService().detail((await ctx.params).qid));
  } catch (err) {
    return errorResponse(err);
  }
}
