import { maskOltpOverview, OLTP_LATEST, oltpOverview } from '@/lib/console/oltp.ts';
import { intParam } from '@/lib/http/params.ts';
import { auditUnmaskedRead, maskerFor, oltpStatusReader, sharedQuarantineService } from '@/lib/composition.ts';
import { actorOf } from '@/app/api/_lib/actor.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/**
 * The OLTP database: rows per table, migration, the sink's progress per shard, the newest `latest` transactions
 * (default 20, at most 100) and the open quarantine backlog of stage oltp-sink. 503 when the database is unavailable.
 */
export const GET = route(async (req: Request) => {
  const latest = intParam(new URL(req.url).searchParams, 'latest', OLTP_LATEST);
  const overview = await oltpOverview(oltpStatusReader(), sharedQuarantineService(), latest);
  const actor = actorOf(req);
  if (maskerFor(actor)) return Response.json(maskOltpOverview(overview));
  if (overview.latest.length) await auditUnmaskedRead(actor, 'oltp', 'latest transactions');
  return Response.json(overview);
});
