import { sharedQuarantineService } from '../../../lib/runtime.ts';
import { errorResponse } from '../_lib/json.ts';

export const dynamic = 'force-dynamic';

/** The newest audit entries (`limit`, default 100). */
export async function GET(req: Request): Promise<Response> {
  try {
    const limit = Number(new URL(req.url).searchParams.get('limit') ?? 100) || 100;
    return Response.json({ entries: await sharedQuarantineService().audit(Math.min(1000, limit)) });
  } catch (err) {
    return errorResponse(err);
  }
}
