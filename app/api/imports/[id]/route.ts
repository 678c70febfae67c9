import { consoleDatabase } from '@/lib/composition.ts';
import { ImportRequestError } from '@/lib/imports/errors.ts';
import { actorOf } from '@/app/api/_lib/actor.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/**
 * Decides on a held import: `{"decision": "approve"}` (it is queued again and publishes) or `"reject"` (final);
 * operators only. 409 when the import is not held, 404 when there is no such import.
 */
export const POST = route(async (req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const body = (await req.json().catch(() => null)) as { decision?: unknown } | null;
  const decision = body?.decision;
  if (decision !== 'approve' && decision !== 'reject')
    throw new ImportRequestError('Send {"decision": "approve"} or {"decision": "reject"}.');
  return Response.json(
    await consoleDatabase()({ op: 'import-decision', id: (await ctx.params).id, decision, actor: actorOf(req) }),
  );
});
