import { awsClients } from '@/lib/aws/clients.ts';
import { loadConfig } from '@/lib/config.ts';
import { listShards } from '@/lib/stream/browse.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/** The stream's shards: hash-key and sequence ranges, lineage, open or closed. */
export const GET = route(async () => {
  const config = loadConfig();
  return Response.json({
    stream: config.streamName,
    shards: await listShards(awsClients(config).kinesis, config.streamName),
  });
});
