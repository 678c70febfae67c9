import { tableListing } from '@/lib/catalog/listing.ts';
import { sharedQueryService } from '@/lib/composition.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/** Tables and their columns (partition columns flagged), for the SQL editor's completion and table list. */
export const GET = route(async () => Response.json(tableListing(sharedQueryService().deps.catalog)));
