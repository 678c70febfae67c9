import { awsClients } from '@/lib/aws/clients.ts';
import { loadConfig } from '@/lib/config.ts';
import { tailStream } from '@/lib/stream/tail.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/**
 * The live tail: `{}` starts at the stream's tip, `{cursor}` answers what arrived since; the answer's cursor is the
 * next position (kept by the client, so any instance answers). POST because a cursor of many shards outgrows a URL.
 */
export const POST = route(async (req: Request) => {
  const body = (await req.json().catch(() => ({}))) as { cursor?: unknown };
  const config = loadConfig();
  return Response.json(
    await tailStream(
      awsClients(config).kinesis,
      config.streamName,
      typeof body.cursor === 'string' && body.cursor ? body.cursor : undefined,
    ),
  );
});
