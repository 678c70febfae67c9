import { sharedQuarantineService } from '@/lib/composition.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/** Records per status and the open backlog per type, stage and reason. */
export const GET = route(async () => {
  return Response.json(await sharedQuarantineService().counts());
});
