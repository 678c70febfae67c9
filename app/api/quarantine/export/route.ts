import { sharedQuarantineService } from '../../../../lib/runtime.ts';
import { QuarantineRequestError } from '../../../../lib/quarantine/errors.ts';
import { parseFilter } from '../../../../lib/quarantine/store.ts';
import { actorOf } from '../../_lib/actor.ts';
import { errorResponse } from '../../_lib/json.ts';

export const dynamic = 'force-dynamic';

/** Every record matching the filter as JSONL or CSV (`format`), streamed; operators only, and only when enabled. */
export async function GET(req: Request): Promise<Response> {
  try {
    const params = new URL(req.url).searchParams;
    const format = params.get('format') ?? 'jsonl';
    if (format !== 'jsonl' && format !== 'csv') throw new QuarantineRequestError(`Unknown export format ${JSON.stringify(format)}; use jsonl or csv.`);
    const chunks = sharedQuarantineService().export(parseFilter(params), format, actorOf(req));
    // Pull the first chunk before answering, so a refusal (role, switched off) is a proper 403 and not a broken stream.
    const first = await chunks.next();
    const enc = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        if (!first.done) controller.enqueue(enc.encode(first.value));
        if (first.done) controller.close();
      },
      async pull(controller) {
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(enc.encode(next.value));
      },
      async cancel() {
        await chunks.return(undefined);
      },
    });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    return new Response(body, {
      headers: {
        'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
        'content-disposition': `attachment; filename="quarantine-${stamp}.${format}"`,
        'cache-control': 'no-store',
      },
    });
  } catch (err) {
    return errorResponse(err);
  }
}
