import { parseRange } from '@/lib/metrics/types.ts';
import { metricsSource } from '@/lib/composition.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/** Each consumer's lag per shard (the age of the newest record it was handed) for `range=15m|1h|24h|7d|14d`. */
export const GET = route(async (req: Request) => {
  const range = parseRange(new URL(req.url).searchParams.get('range'));
  return Response.json(await metricsSource().consumerLag({ range, now: new Date() }));
});
