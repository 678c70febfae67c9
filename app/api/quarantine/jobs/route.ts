import { maskerFor, sharedQuarantineService } from '@/lib/composition.ts';
import { withSearchWithheld } from '@/lib/quarantine/withheld-search.ts';
import { actorOf } from '@/app/api/_lib/actor.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/** The newest re-drive jobs; a viewer sees their filters without the search text (an operator's typing). */
export const GET = route(async (req: Request) => {
  const jobs = await sharedQuarantineService().jobs();
  return Response.json({ jobs: maskerFor(actorOf(req)) ? jobs.map(withSearchWithheld) : jobs });
});
