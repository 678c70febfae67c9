import { defaultRegistry } from '../../../lib/registry/registry.ts';
import { errorResponse } from '../_lib/json.ts';

export const dynamic = 'force-dynamic';

/** Event types with their manifest (table, id, event time, partitions, partition key) and every schema version. */
export async function GET(): Promise<Response> {
  try {
    const reg = defaultRegistry();
    return Response.json(
      reg.names().map((name) => {
        const t = reg.get(name);
        return { name, manifest: t.manifest, versions: [...t.versions.values()].sort((a, b) => a.v - b.v).map((v) => ({ v: v.v, schema: v.schema })) };
      }),
    );
  } catch (err) {
    return errorResponse(err);
  }
}
