import { importUploadDeps } from '@/lib/composition.ts';
import { uploadTarget } from '@/lib/imports/uploads.ts';
import { requireOperator } from '@/lib/quarantine/access.ts';
import { actorOf } from '@/app/api/_lib/actor.ts';
import { route } from '@/app/api/_lib/route.ts';

export const dynamic = 'force-dynamic';

/**
 * Where the browser uploads a file: a presigned PUT to its drop location in the imports bucket (lib/imports/uploads.ts).
 * `{"kind": "export", tenant, table, version, file, size}` or `{"kind": "raw", type, file, size}`; operators only.
 */
export const POST = route(async (req: Request) => {
  requireOperator(actorOf(req), 'Uploading a file to import');
  return Response.json(await uploadTarget(importUploadDeps(), await req.json().catch(() => null)));
});
