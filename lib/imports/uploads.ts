import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Registry } from '../registry/registry.ts';
import { ImportRequestError } from './errors.ts';
import { RAW_PREFIX, parseRawKey } from './raw-files.ts';
import { EXPORTS_PREFIX, parseExportKey } from './registry.ts';
import type { TableRegistry } from './tables.ts';

/*
 * Uploads from the console: the browser puts the file straight into the imports bucket with a presigned PUT, so a
 * file of any size S3 takes in one PUT goes through (the console's server function in AWS accepts 6 MB bodies at
 * most), and the bucket's notification starts its import exactly as for a file dropped any other way. The URL is
 * signed for one key and one length, and only after the names and the table or type were checked.
 */

/** S3's limit for one PUT; larger files go up in parts (`aws s3 cp`, the CLI's upload). */
export const MAX_UPLOAD_BYTES = 5 * 1024 ** 3;
/** How long a signed upload URL stays valid. */
export const UPLOAD_URL_SECONDS = 15 * 60;

/**
 * The imports bucket's CORS rule for the console's origin (stacks/console.ts in AWS, the local S3's configuration):
 * the browser's PUT, with the content type it sends, the ETag shown to it.
 */
export const UPLOAD_CORS = {
  allowedMethods: ['PUT'],
  allowedHeaders: ['content-type'],
  exposeHeaders: ['ETag'],
  maxAgeSeconds: 600,
} as const;

/** What the console asks to upload: a table export (to its drop location) or a raw event file of a type. */
export type UploadRequest =
  | { kind: 'export'; tenant: string; table: string; version: string; file: string; size: number }
  | { kind: 'raw'; type: string; file: string; size: number };

/** Where the browser puts the file: `PUT url` with a body of exactly the size asked for. */
export interface UploadTarget {
  key: string;
  method: 'PUT';
  url: string;
  expiresAt: string;
}

export interface UploadDeps {
  s3: S3Client;
  bucket: string;
  tables: TableRegistry;
  types: Registry;
  now?: () => Date;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * Checks an upload request as received. The file keeps only its name (a path's folders are dropped) and must be a
 * name S3 and the drop location can hold.
 *
 * @throws ImportRequestError (400) saying what to give, (404) for an unknown event type; UnknownTableError (404)
 *   saying where to add the definition.
 */
export function readUploadRequest(
  value: unknown,
  deps: Pick<UploadDeps, 'tables' | 'types'>,
): UploadRequest & { key: string } {
  const r = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
  // Browsers send the bare name; a pasted Windows or POSIX path keeps its last part.
  const file = text(r.file).split(/[\\/]/).pop() ?? '';
  if (!file || file === '.' || file === '..' || file.length > 255 || /\p{Cc}/u.test(file))
    throw new ImportRequestError(
      'Give the file\'s name ("file"): at most 255 characters, no control characters, not "." or "..".',
    );
  const size = r.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    throw new ImportRequestError('Give the file\'s size in bytes ("size", a whole number).');
  if (size > MAX_UPLOAD_BYTES)
    throw new ImportRequestError(
      `The file is ${size} bytes; one upload takes at most 5 GiB. Upload larger files in parts: \`aws s3 cp\` to the drop location, or \`tributary import\`.`,
      413,
    );
  if (r.kind === 'export') {
    const tenant = text(r.tenant);
    const table = text(r.table);
    const version = text(r.version);
    deps.tables.get(table);
    const key = `${EXPORTS_PREFIX}${tenant}/${table}/${version}/${file}`;
    parseExportKey(key);
    return { kind: 'export', tenant, table, version, file, size, key };
  }
  if (r.kind === 'raw') {
    const type = text(r.type);
    if (!deps.types.has(type))
      throw new ImportRequestError(
        `Unknown event type ${JSON.stringify(type)}; raw files are of a type in schemas/: ${deps.types.names().join(', ')}.`,
        404,
      );
    const key = `${RAW_PREFIX}${type}/${file}`;
    parseRawKey(key);
    return { kind: 'raw', type, file, size, key };
  }
  throw new ImportRequestError('Say what the file is: "kind" is "export" (a table export) or "raw" (raw event file).');
}

/**
 * A presigned PUT of the request's file to its drop location, valid {@link UPLOAD_URL_SECONDS}. The length is part of
 * the signature: S3 refuses a body of any other size.
 */
export async function uploadTarget(deps: UploadDeps, value: unknown): Promise<UploadTarget> {
  const request = readUploadRequest(value, deps);
  const now = deps.now?.() ?? new Date();
  const url = await getSignedUrl(
    deps.s3,
    new PutObjectCommand({ Bucket: deps.bucket, Key: request.key, ContentLength: request.size }),
    { expiresIn: UPLOAD_URL_SECONDS, signableHeaders: new Set(['content-length']), signingDate: now },
  );
  return {
    key: request.key,
    method: 'PUT',
    url,
    expiresAt: new Date(now.getTime() + UPLOAD_URL_SECONDS * 1000).toISOString(),
  };
}
