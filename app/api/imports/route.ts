import { consoleDatabase } from '@/lib/composition.ts';
import { masksFor } from '@/lib/masking.ts';
import { intParam } from '@/lib/http/params.ts';
import { withRowTextWithheld } from '@/lib/imports/service.ts';
import { actorOf } from '@/app/api/_lib/actor.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/**
 * The Imports page: every defined table, each tenant/table with its newest `perTable` imports (default 20, at most
 * 200), its lease and rows, and the newest `raw` raw-file loads (default 50). A viewer gets refused rows' text
 * withheld. 503 when the database is unavailable.
 */
export const GET = route(async (req: Request) => {
  const params = new URL(req.url).searchParams;
  const overview = await consoleDatabase()({
    op: 'imports',
    perTable: intParam(params, 'perTable', { fallback: 20, min: 1, max: 200 }),
    raw: intParam(params, 'raw', { fallback: 50, min: 1, max: 500 }),
  });
  return Response.json(masksFor(actorOf(req)) ? withRowTextWithheld(overview) : overview);
});
