/** What the console's table list and schema browser are given (GET /api/catalog, GET /api/schemas). */
import { describe, expect, it } from 'vitest';
import { Catalog } from '../../lib/catalog/catalog.ts';
import { tableListing } from '../../lib/catalog/listing.ts';
import { schemaListing } from '../../lib/registry/listing.ts';
import { defaultRegistry } from '../../lib/registry/registry.ts';

describe('listings', () => {
  it('lists every table with Hive column types, partition columns last and flagged', () => {
    const tables = tableListing(new Catalog(defaultRegistry()));
    const tx = tables.find((t) => t.name === 'transactions')!;
    expect(tx.columns.slice(0, 2)).toEqual([
      { name: 'id', type: 'string', partition: false },
      { name: 'v', type: 'int', partition: false },
    ]);
    expect(tx.columns.filter((c) => c.partition)).toEqual([
      { name: 'dt', type: 'string', partition: true },
      { name: 'hour', type: 'int', partition: true },
    ]);
    expect(tx.columns.findIndex((c) => c.partition)).toBe(tx.columns.length - 2);
    expect(new Set(tables.map((t) => t.name)).size).toBe(tables.length);
  });

  it('lists every event type with its manifest and versions, oldest first', () => {
    const registry = defaultRegistry();
    const listed = schemaListing(registry);
    expect(listed.map((s) => s.name)).toEqual(registry.names());
    for (const s of listed) {
      expect(s.manifest).toBe(registry.get(s.name).manifest);
      expect(s.versions.map((v) => v.v)).toEqual([...registry.get(s.name).versions.keys()].sort((a, b) => a - b));
    }
  });
});
