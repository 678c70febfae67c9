import { savedViews } from '@/lib/composition.ts';
import { actorOf } from '@/app/api/_lib/actor.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/** Deletes a saved view (`?page=`): its author or an operator; 204. */
export const DELETE = route(async (req: Request, ctx: { params: Promise<{ id: string }> }) => {
  await savedViews().remove(new URL(req.url).searchParams.get('page'), (await ctx.params).id, actorOf(req));
  return new Response(null, { status: 204 });
});
