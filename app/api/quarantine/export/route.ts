import { sharedQuarantineService } from '@/lib/composition.ts';
import { QuarantineRequestError } from '@/lib/quarantine/errors.ts';
import { parseFilter } from '@/lib/quarantine/filter.ts';
import { actorOf } from '@/app/api/_lib/actor.ts';
import { route } from '@/app/api/_lib/route.ts';
import { streamedResponse } from '@/app/api/_lib/stream.ts';

export const dynamic = 'force-dynamic';

/** Every record matching the filter as JSONL or CSV (`format`), streamed; operators only, and only when enabled. */
export const GET = route(async (req: Request) => {
  const params = new URL(req.url).searchParams;
  const format = params.get('format') ?? 'jsonl';
  if (format !== 'jsonl' && format !== 'csv')
    throw new QuarantineRequestError(`Unknown export format ${JSON.stringify(format)}; use jsonl or csv.`);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return await streamedResponse(sharedQuarantineService().export(parseFilter(params), format, actorOf(req)), {
    'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
    'content-disposition': `attachment; filename="quarantine-${stamp}.${format}"`,
  });
});
