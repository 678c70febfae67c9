import { intParam, OFFSET } from '@/lib/http/params.ts';
import { auditUnmaskedRead, maskerFor, sharedQuarantineService } from '@/lib/composition.ts';
import { maskListItem } from '@/lib/quarantine/masked.ts';
import { parseFilter } from '@/lib/quarantine/filter.ts';
import { listReadSubject } from '@/lib/quarantine/read-audit.ts';
import { listItem } from '@/lib/quarantine/requests.ts';
import { actorOf } from '@/app/api/_lib/actor.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/** Newest-first page of quarantined records: filters `type stage reason status from to q`, paging `offset limit`. */
export const GET = route(async (req: Request) => {
  const params = new URL(req.url).searchParams;
  // A viewer gets every payload preview masked, and searches only what they can see (lib/masking.ts).
  const actor = actorOf(req);
  const masker = maskerFor(actor);
  const filter = parseFilter(params);
  const page = await sharedQuarantineService().list(
    filter,
    {
      offset: intParam(params, 'offset', OFFSET),
      limit: intParam(params, 'limit', { fallback: 50, min: 1, max: 500 }),
    },
    masker,
  );
  if (!masker) await auditUnmaskedRead(actor, 'quarantine list', listReadSubject(filter));
  return Response.json({
    ...page,
    items: page.items.map((e) => (masker ? maskListItem(masker, listItem(e), e) : listItem(e))),
  });
});
