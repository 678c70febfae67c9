import { sharedQueryService } from '../../../../../lib/runtime.ts';
import { errorResponse } from '../../../_lib/json.ts';

export const dynamic = 'force-dynamic';

/** One page of a finished query's rows (`nextToken`, `maxResults` ≤ 1000). */
export async function GET(req: Request, ctx: { params: Promise<{ id: string }> }): Promise<Response> {
  try {
    const url = new URL(req.url);
    const nextToken = url.searchParams.get('nextToken') ?? undefined;
    const maxResults = Number(url.searchParams.get('maxResults') ?? 100) || 100;
    return Response.json(await sharedQueryService().results((await ctx.params).id, { ...(nextToken ? { nextToken } : {}), maxResults }));
  } catch (err) {
    return errorResponse(err);
  }
}
