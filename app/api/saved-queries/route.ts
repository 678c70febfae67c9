import { loadSavedQueries, savedSql } from '../../../lib/query/saved.ts';
import { sharedQueryService } from '../../../lib/runtime.ts';
import { errorResponse } from '../_lib/json.ts';

export const dynamic = 'force-dynamic';

/** Saved queries with their typed parameters and the SQL this engine runs. */
export async function GET(): Promise<Response> {
  try {
    const engine = sharedQueryService().engine;
    return Response.json(loadSavedQueries().map((q) => ({ name: q.name, description: q.description, params: q.params, sql: savedSql(q, engine) })));
  } catch (err) {
    return errorResponse(err);
  }
}
