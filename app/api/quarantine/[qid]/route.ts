import { auditUnmaskedRead, maskerFor, sharedQuarantineService } from '@/lib/composition.ts';
import { maskDetail } from '@/lib/quarantine/masked.ts';
import { actorOf } from '@/app/api/_lib/actor.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/** One quarantined record: the stored record, its status and ledger line, the event to fix and the schema it failed. */
export const GET = route(async (req: Request, ctx: { params: Promise<{ qid: string }> }) => {
  const qid = (await ctx.params).qid;
  const detail = await sharedQuarantineService().detail(qid);
  const actor = actorOf(req);
  const masker = maskerFor(actor);
  if (!masker) await auditUnmaskedRead(actor, 'quarantine record', qid);
  return Response.json(masker ? maskDetail(masker, detail) : detail);
});
