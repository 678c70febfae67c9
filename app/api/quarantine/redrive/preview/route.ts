import { sharedQuarantineService } from '@/lib/composition.ts';
import { readRedriveRequest } from '@/lib/quarantine/requests.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/**
 * What a re-drive (or discard) of `{qids}` or `{filter}` would act on: the records and how many would fail validation
 * again now. Changes nothing; the console asks before it confirms a bulk action.
 */
export const POST = route(async (req: Request) =>
  Response.json(await sharedQuarantineService().preview(readRedriveRequest(await req.json().catch(() => null)))),
);
