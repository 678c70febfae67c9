import { loadSavedQueries, savedSql } from '@/lib/query/saved.ts';
import { sharedQueryService } from '@/lib/composition.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/** Saved queries with their typed parameters and the SQL this engine runs. */
export const GET = route(async () => {
  const engine = sharedQueryService().engine;
  return Response.json(
    loadSavedQueries().map((q) => ({
      name: q.name,
      description: q.description,
      params: q.params,
      sql: savedSql(q, engine),
    })),
  );
});
