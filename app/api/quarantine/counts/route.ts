import { sharedQuarantineService } from '../../../../lib/runtime.ts';
import { errorResponse } from '../../_lib/json.ts';

export const dynamic = 'force-dynamic';

/** Records per status and the open backlog per type, stage and reason. */
export async function GET(): Promise<Response> {
  try {
    return Response.json(await sharedQuarantineService().counts());
  } catch (err) {
    return errorResponse(err);
  }
}
