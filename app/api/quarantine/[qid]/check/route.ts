import { sharedQuarantineService } from '@/lib/composition.ts';
import { readFix } from '@/lib/quarantine/requests.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/** Validates an edited event (`{event, type?}`) the way a re-drive would, without re-driving it. */
export const POST = route(async (req: Request, ctx: { params: Promise<{ qid: string }> }) => {
  return Response.json(
    await sharedQuarantineService().check((await ctx.params).qid, readFix(await req.json().catch(() => null))),
  );
});
