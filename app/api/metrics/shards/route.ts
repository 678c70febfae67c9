import { parseRange } from '../../../../lib/metrics/types.ts';
import { metricsSource } from '../../../../lib/runtime.ts';
import { metricsErrorResponse } from '../_lib/respond.ts';

export const dynamic = 'force-dynamic';

/** Per-shard Kinesis metrics for `range=15m|1h|24h|7d`. */
export async function GET(req: Request): Promise<Response> {
  try {
    const range = parseRange(new URL(req.url).searchParams.get('range'));
    return Response.json(await metricsSource().shardMetrics({ range, now: new Date() }));
  } catch (err) {
    return metricsErrorResponse(err);
  }
}
