import { hiveType } from '../../../lib/catalog/types.ts';
import { sharedQueryService } from '../../../lib/composition.ts';
import { route } from '../_lib/route.ts';

export const dynamic = 'force-dynamic';

/** Tables and their columns (partition columns flagged), for the SQL editor's completion and table list. */
export const GET = route(async () => {
  const { catalog } = sharedQueryService().deps;
  return Response.json(
    catalog.tables().map((t) => ({
      name: t.name,
      description: t.description,
      columns: [
        ...t.columns.map((c) => ({ name: c.name, type: hiveType(c.type), partition: false })),
        ...t.partitions.map((p) => ({ name: p.name, type: hiveType(p.type), partition: true })),
      ],
    })),
  );
});
