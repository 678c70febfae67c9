import { schemaListing } from '@/lib/registry/listing.ts';
import { defaultRegistry } from '@/lib/registry/registry.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/** Event types with their manifest (table, id, event time, partitions, partition key) and every schema version. */
export const GET = route(async () => Response.json(schemaListing(defaultRegistry())));
