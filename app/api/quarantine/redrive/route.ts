import { sharedQuarantineService } from '@/lib/composition.ts';
import { readRedriveRequest } from '@/lib/quarantine/requests.ts';
import { actorOf } from '@/app/api/_lib/actor.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/** Starts a re-drive job (`{qids}` or `{filter}`, optional `fixes` and `rate`); operators only. */
export const POST = route(async (req: Request) => {
  const job = await sharedQuarantineService().startRedrive(
    readRedriveRequest(await req.json().catch(() => null)),
    actorOf(req),
  );
  return Response.json(job, { status: 202 });
});
