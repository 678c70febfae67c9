import type { Registry, TypeManifest } from './registry.ts';

/** An event type as the console's schema browser lists it: its manifest and every schema version, oldest first. */
export interface SchemaListing {
  name: string;
  manifest: TypeManifest;
  versions: { v: number; schema: Record<string, unknown> }[];
}

/** Every event type of the registry with its manifest (table, id, event time, partitions, key) and versions. */
export function schemaListing(registry: Registry): SchemaListing[] {
  return registry.names().map((name) => {
    const t = registry.get(name);
    return {
      name,
      manifest: t.manifest,
      versions: [...t.versions.values()].sort((a, b) => a.v - b.v).map((v) => ({ v: v.v, schema: v.schema })),
    };
  });
}
