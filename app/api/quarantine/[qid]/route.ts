import { sharedQuarantineService } from '@/lib/composition.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/** One quarantined record: the stored record, its status and ledger line, the event to fix and the schema it failed. */
export const GET = route(async (_req: Request, ctx: { params: Promise<{ qid: string }> }) => {
  return Response.json(await sharedQuarantineService().detail((await ctx.params).qid));
});
