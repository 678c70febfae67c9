import { awsClients } from '@/lib/aws/clients.ts';
import { loadConfig } from '@/lib/config.ts';
import { lakeFreshness } from '@/lib/metrics/freshness.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/** The lake's newest object and newest event time, with their ages. */
export const GET = route(async () => {
  const config = loadConfig();
  return Response.json(await lakeFreshness(awsClients(config).s3, config.buckets.lake));
});
