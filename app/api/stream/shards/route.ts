import { awsClients } from '../../../../lib/aws/clients.ts';
import { loadConfig } from '../../../../lib/config.ts';
import { listShards } from '../../../../lib/stream/browse.ts';
import { errorResponse } from '../../_lib/json.ts';

export const dynamic = 'force-dynamic';

/** The stream's shards: hash-key and sequence ranges, lineage, open or closed. */
export async function GET(): Promise<Response> {
  try {
    const config = loadConfig();
    return Response.json({ stream: config.streamName, shards: await listShards(awsClients(config).kinesis, config.streamName) });
  } catch (err) {
    return errorResponse(err);
  }
}
