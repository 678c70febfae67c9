import { sharedQueryService } from '../../../../../lib/runtime.ts';
import { errorResponse } from '../../../_lib/json.ts';
import { streamedResponse } from '../../../_lib/stream.ts';

export const dynamic = 'force-dynamic';

/**
 * The CSV of a finished query as a streamed download, from any instance (locally the stored CSV, in AWS Athena's own
 * result object), with no cell a spreadsheet would take for a formula.
 */
export async function GET(_req: Request, ctx: { params: Promise<{ id: string }> }): Promise<Response> {
  try {
    const id = (await ctx.params).id;
    return await streamedResponse(await sharedQueryService().csv(id), {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="query-${id.replace(/[^A-Za-z0-9_-]/g, '')}.csv"`,
    });
  } catch (err) {
    return errorResponse(err);
  }
}
