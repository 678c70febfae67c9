import { parseAuditQuery } from '@/lib/quarantine/requests.ts';
import { sharedQuarantineService } from '@/lib/composition.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/** The newest audit entries matching `action by record job from to` (`limit`, default 100). */
export const GET = route(async (req: Request) =>
  Response.json(await sharedQuarantineService().audit(parseAuditQuery(new URL(req.url).searchParams))),
);
