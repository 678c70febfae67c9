import { sharedQuarantineService } from '../../../lib/runtime.ts';
import { parseFilter } from '../../../lib/quarantine/store.ts';
import { listItem } from '../../../lib/quarantine/view.ts';
import { route } from '../_lib/route.ts';

export const dynamic = 'force-dynamic';

/** Newest-first page of quarantined records: filters `type stage reason status from to q`, paging `offset limit`. */
export const GET = route(async (req: Request) => {
  const params = new URL(req.url).searchParams;
  const page = await sharedQuarantineService().list(parseFilter(params), { offset: Number(params.get('offset') ?? 0) || 0, limit: Number(params.get('limit') ?? 50) || 50 });
  return Response.json({ ...page, items: page.items.map(listItem) });
});
