import { sharedQuarantineService } from '../../../lib/runtime.ts';
import { route } from '../_lib/route.ts';

export const dynamic = 'force-dynamic';

/** The newest audit entries (`limit`, default 100). */
export const GET = route(async (req: Request) => {
  const limit = Number(new URL(req.url).searchParams.get('limit') ?? 100) || 100;
  return Response.json({ entries: await sharedQuarantineService().audit(Math.min(1000, limit)) });
});
