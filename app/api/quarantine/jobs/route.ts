import { sharedQuarantineService } from '../../../../lib/runtime.ts';
import { errorResponse } from '../../_lib/json.ts';

export const dynamic = 'force-dynamic';

/** The newest re-drive jobs. */
export async function GET(): Promise<Response> {
  try {
    return Response.json({ jobs: await sharedQuarantineService().jobs() });
  } catch (err) {
    return errorResponse(err);
  }
}
