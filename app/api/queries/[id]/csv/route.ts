import { sharedQueryService } from '../../../../../lib/runtime.ts';
import { errorResponse } from '../../../_lib/json.ts';

export const dynamic = 'force-dynamic';

/** The stored CSV of a finished query, as a download. */
export async function GET(_req: Request, ctx: { params: Promise<{ id: string }> }): Promise<Response> {
  try {
    const id = (await ctx.params).id;
    const csv = await sharedQueryService().csv(id);
    return new Response(csv, { headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="query-${id.replace(/[^A-Za-z0-9-]/g, '')}.csv"` } });
  } catch (err) {
    return errorResponse(err);
  }
}
