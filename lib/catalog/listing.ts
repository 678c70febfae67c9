import type { Catalog } from './catalog.ts';
import { hiveType } from './types.ts';

/** A table as the console lists it: its columns with their Hive types, the partition columns last and flagged. */
export interface TableListing {
  name: string;
  description: string;
  columns: { name: string; type: string; partition: boolean }[];
}

/** Every table of the catalog (raw, compacted and views) for the SQL editor's completion and table list. */
export function tableListing(catalog: Catalog): TableListing[] {
  return catalog.tables().map((t) => ({
    name: t.name,
    description: t.description,
    columns: [
      ...t.columns.map((c) => ({ name: c.name, type: hiveType(c.type), partition: false })),
      ...t.partitions.map((p) => ({ name: p.name, type: hiveType(p.type), partition: true })),
    ],
  }));
}
