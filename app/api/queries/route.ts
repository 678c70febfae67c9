import { adhocParams } from '../../../lib/query/params.ts';
import { savedQuery, savedRequest } from '../../../lib/query/saved.ts';
import { QueryRefusedError } from '../../../lib/query/sql.ts';
import { sharedQueryService } from '../../../lib/runtime.ts';
import { errorResponse } from '../_lib/json.ts';

export const dynamic = 'force-dynamic';

/** History, newest first. */
export async function GET(req: Request): Promise<Response> {
  try {
    const limit = Math.min(200, Math.max(1, Number(new URL(req.url).searchParams.get('limit') ?? 50) || 50));
    return Response.json(await sharedQueryService().history(limit));
  } catch (err) {
    return errorResponse(err);
  }
}

interface StartBody {
  sql?: string;
  saved?: string;
  params?: Record<string, string>;
  allowFullScan?: boolean;
}

/** Starts ad-hoc SQL (`sql`, `:name` params as text) or a saved query (`saved`, typed params); answers at once. */
export async function POST(req: Request): Promise<Response> {
  try {
    const body = (await req.json().catch(() => ({}))) as StartBody;
    const svc = sharedQueryService();
    const raw = Object.fromEntries(Object.entries(body.params ?? {}).map(([k, v]) => [k, String(v)]));
    if (body.saved) {
      const info = await svc.start({ ...savedRequest(savedQuery(body.saved), raw, svc.engine), allowFullScan: !!body.allowFullScan, by: 'console' });
      return Response.json(info, { status: 202 });
    }
    if (typeof body.sql !== 'string') throw new QueryRefusedError('empty_query', 'Send {"sql": "SELECT …"} or {"saved": "<name>", "params": {…}}.');
    const info = await svc.start({ sql: body.sql, params: adhocParams(raw), allowFullScan: !!body.allowFullScan, by: 'console' });
    return Response.json(info, { status: 202 });
  } catch (err) {
    return errorResponse(err);
  }
}
