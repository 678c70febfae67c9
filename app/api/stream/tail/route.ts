import { awsClients } from '@/lib/aws/clients.ts';
import { loadConfig } from '@/lib/config.ts';
import { tailStream } from '@/lib/stream/tail.ts';
import { auditUnmaskedRead, maskerFor } from '@/lib/composition.ts';
import { maskRecord } from '@/lib/stream/masked.ts';
import { actorOf } from '@/app/api/_lib/actor.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/**
 * The live tail: `{}` starts at the stream's tip, `{cursor}` answers what arrived since; the answer's cursor is the
 * next position (kept by the client, so any instance answers). POST because a cursor of many shards outgrows a URL.
 */
export const POST = route(async (req: Request) => {
  const body = (await req.json().catch(() => ({}))) as { cursor?: unknown };
  const config = loadConfig();
  const page = await tailStream(
    awsClients(config).kinesis,
    config.streamName,
    typeof body.cursor === 'string' && body.cursor ? body.cursor : undefined,
  );
  const actor = actorOf(req);
  const masker = maskerFor(actor);
  if (!masker && page.records.length) await auditUnmaskedRead(actor, 'live tail', config.streamName);
  return Response.json(masker ? { ...page, records: page.records.map((r) => maskRecord(masker, r)) } : page);
});
