import { parseRange } from '@/lib/metrics/types.ts';
import { metricsSource } from '@/lib/composition.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/** Per-shard Kinesis metrics for `range=15m|1h|24h|7d|14d`. */
export const GET = route(async (req: Request) => {
  const range = parseRange(new URL(req.url).searchParams.get('range'));
  return Response.json(await metricsSource().shardMetrics({ range, now: new Date() }));
});
