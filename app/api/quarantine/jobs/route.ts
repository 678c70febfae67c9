import { sharedQuarantineService } from '../../../../lib/runtime.ts';
import { route } from '../../_lib/route.ts';

export const dynamic = 'force-dynamic';

/** The newest re-drive jobs. */
export const GET = route(async () => {
  return Response.json({ jobs: await sharedQuarantineService().jobs() });
});
