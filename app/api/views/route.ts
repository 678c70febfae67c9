import { savedViews } from '@/lib/composition.ts';
import { actorOf } from '@/app/api/_lib/actor.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/** The saved views of a page (`?page=quarantine|stream`), by name. */
export const GET = route(async (req: Request) =>
  Response.json({ views: await savedViews().list(new URL(req.url).searchParams.get('page')) }),
);

/** Saves a view (`{page, name, query}`): 201, or 409 when the name is taken on that page. */
export const POST = route(async (req: Request) =>
  Response.json(await savedViews().save(await req.json().catch(() => null), actorOf(req)), { status: 201 }),
);
