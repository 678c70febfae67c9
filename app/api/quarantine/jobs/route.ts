import { sharedQuarantineService } from '@/lib/composition.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/** The newest re-drive jobs. */
export const GET = route(async () => {
  return Response.json({ jobs: await sharedQuarantineService().jobs() });
});
