import { sharedQuarantineService } from '../../../../../lib/runtime.ts';
import { readFix } from '../../../../../lib/quarantine/view.ts';
import { errorResponse } from '../../../_lib/json.ts';

export const dynamic = 'force-dynamic';

/** Validates an edited event (`{event, type?}`) the way a re-drive would, without re-driving it. */
export async function POST(req: Request, ctx: { params: Promise<{ qid: string }> }): Promise<Response> {
  try {
    return Response.json(await sharedQuarantineService().check((await ctx.params).qid, readFix(await req.json().catch(() => null))));
  } catch (err) {
    return errorResponse(err);
  }
}
