import { sharedQueryService } from '@/lib/composition.ts';
import { actorOf } from '@/app/api/_lib/actor.ts';
import { route } from '@/app/api/_lib/route.ts';
import { streamedResponse } from '@/app/api/_lib/stream.ts';

export const dynamic = 'force-dynamic';

/**
 * The CSV of a finished query as a streamed download, from any instance (locally the stored CSV, in AWS Athena's own
 * result object), with no cell a spreadsheet would take for a formula.
 */
export const GET = route(async (req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const id = (await ctx.params).id;
  return await streamedResponse(await sharedQueryService().csv(id, actorOf(req)), {
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': `attachment; filename="query-${id.replace(/[^A-Za-z0-9_-]/g, '')}.csv"`,
  });
});
