import { intParam } from '@/lib/http/params.ts';
import { awsClients } from '@/lib/aws/clients.ts';
import { loadConfig } from '@/lib/config.ts';
import { readShard, StreamBrowseError, type ReadFrom } from '@/lib/stream/browse.ts';
import { auditUnmaskedRead, maskerFor } from '@/lib/composition.ts';
import { maskRecord } from '@/lib/stream/masked.ts';
import { actorOf } from '@/app/api/_lib/actor.ts';
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
  const shard = (await ctx.params).id;
  const records = await readShard(awsClients(config).kinesis, config.streamName, shard, { from, limit });
  const actor = actorOf(req);
  const masker = maskerFor(actor);
  if (!masker) await auditUnmaskedRead(actor, 'stream records', shard);
  return Response.json(masker ? records.map((r) => maskRecord(masker, r)) : records);
});
