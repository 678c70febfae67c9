import { intParam } from '@/lib/http/params.ts';
import { sharedQuarantineService } from '@/lib/composition.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/** The newest audit entries (`limit`, default 100). */
export const GET = route(async (req: Request) => {
  const limit = intParam(new URL(req.url).searchParams, 'limit', { fallback: 100, min: 1, max: 1000 });
  return Response.json({ entries: await sharedQuarantineService().audit(limit) });
});
