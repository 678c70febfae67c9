import { sharedQuarantineService } from '../../../../lib/runtime.ts';
import { readDiscardRequest } from '../../../../lib/quarantine/view.ts';
import { actorOf } from '../../_lib/actor.ts';
import { errorResponse } from '../../_lib/json.ts';

export const dynamic = 'force-dynamic';

/** Discards records (`{qids}` or `{filter}`, and a `reason`); operators only. */
export async function POST(req: Request): Promise<Response> {
  try {
    return Response.json(await sharedQuarantineService().discard(readDiscardRequest(await req.json().catch(() => null)), actorOf(req)));
  } catch (err) {
    return errorResponse(err);
  }
}
