import { sharedQuarantineService } from '@/lib/composition.ts';
import { readDiscardRequest } from '@/lib/quarantine/requests.ts';
import { actorOf } from '@/app/api/_lib/actor.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/** Discards records (`{qids}` or `{filter}`, and a `reason`); operators only. */
export const POST = route(async (req: Request) => {
  return Response.json(
    await sharedQuarantineService().discard(readDiscardRequest(await req.json().catch(() => null)), actorOf(req)),
  );
});
