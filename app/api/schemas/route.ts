import { defaultRegistry } from '../../../lib/registry/registry.ts';
import { route } from '../_lib/route.ts';

export const dynamic = 'force-dynamic';

/** Event types with their manifest (table, id, event time, partitions, partition key) and every schema version. */
export const GET = route(async () => {
  const reg = defaultRegistry();
  return Response.json(
    reg.names().map((name) => {
      const t = reg.get(name);
      return {
        name,
        manifest: t.manifest,
        versions: [...t.versions.values()].sort((a, b) => a.v - b.v).map((v) => ({ v: v.v, schema: v.schema })),
      };
    }),
  );
});
