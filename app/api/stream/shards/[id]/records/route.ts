import { intParam } from '@/lib/http/params.ts';
import { awsClients } from '@/lib/aws/clients.ts';
import { loadConfig } from '@/lib/config.ts';
import { readShard, StreamBrowseError, type ReadFrom } from '@/lib/stream/browse.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/** Records of one shard: `from=latest` (the newest `limit`), `from=timestamp&at=<ISO>` or `from=sequence&at=<n>`. */
export const GET = route(async (req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const url = new URL(req.url);
  const mode = url.searchParams.get('from') ?? 'latest';
  const at = url.searchParams.get('at') ?? '';
  const limit = intParam(url.searchParams, 'limit', { fallback: 50, min: 1, max: 10_000 });
  let from: ReadFrom;
  if (mode === 'latest') from = { latest: true };
  else if (mode === 'timestamp') from = { timestamp: new Date(at) };
  else if (mode === 'sequence') from = { sequence: at };
  else
    throw new StreamBrowseError('bad_from', `from must be latest, timestamp or sequence, got ${JSON.stringify(mode)}.`);
  const config = loadConfig();
  return Response.json(
    await readShard(awsClients(config).kinesis, config.streamName, (await ctx.params).id, { from, limit }),
  );
});
