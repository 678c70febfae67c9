import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { runChild } from './child.ts';
import './s3-atomic.ts';
import { UPLOAD_CORS } from '../../lib/imports/uploads.ts';

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
// s3rver is CommonJS without types; it needs --openssl-legacy-provider (its ListObjectsV2 tokens use DES).
const S3rver = createRequire(import.meta.url)('s3rver') as new (opts: Record<string, unknown>) => S3rverInstance;

const [host = '127.0.0.1', portArg = '4569', dir = '.data/s3', buckets = '', notify = '', corsArg = ''] =
  process.argv.slice(2);

/**
 * Where this S3 sends event notifications, as a bucket's notification configuration says (`{"bucket", "prefixes"}`):
 * `ObjectCreated` events of those keys go to the parent, which delivers them as S3 delivers them to Lambda.
 */
const notifications = notify ? (JSON.parse(notify) as { bucket: string; prefixes: string[] }) : undefined;

/** The bucket the console uploads to from the browser, and the console's origins (its CORS rule, as in AWS). */
const cors = corsArg ? (JSON.parse(corsArg) as { bucket: string; origins: string[] }) : undefined;

/** The CORS configuration s3rver reads (the PutBucketCors XML): the upload rule of lib/imports/uploads.ts. */
function corsXml(origins: string[]): Buffer {
  const each = (tag: string, values: readonly string[]) => values.map((v) => `<${tag}>${v}</${tag}>`).join('');
  return Buffer.from(
    `<CORSConfiguration><CORSRule>${each('AllowedOrigin', origins)}${each('AllowedMethod', UPLOAD_CORS.allowedMethods)}${each('AllowedHeader', UPLOAD_CORS.allowedHeaders)}${each('ExposeHeader', UPLOAD_CORS.exposeHeaders)}<MaxAgeSeconds>${UPLOAD_CORS.maxAgeSeconds}</MaxAgeSeconds></CORSRule></CORSConfiguration>`,
  );
}

interface S3rverEvent {
  Records: { eventName: string; s3: { bucket: { name: string }; object: { key: string } } }[];
}

/** s3rver's event as S3 sends it: the key URL-encoded with spaces as `+` (s3rver gives it raw). */
function asS3Notification(e: S3rverEvent): S3rverEvent {
  return {
    Records: e.Records.map((r) => ({
      ...r,
      s3: { ...r.s3, object: { ...r.s3.object, key: encodeURIComponent(r.s3.object.key).replace(/%20/g, '+') } },
    })),
  };
}

runChild('s3rver', async () => {
  mkdirSync(dir, { recursive: true });
  const server = new S3rver({
    address: host,
    port: Number(portArg),
    directory: dir,
    silent: true,
    configureBuckets: buckets
      .split(',')
      .filter(Boolean)
      .map((name) => ({ name, ...(cors?.bucket === name ? { configs: [corsXml(cors.origins)] } : {}) })),
  });
  if (notifications)
    (server as unknown as NodeJS.EventEmitter).on('event', (e: S3rverEvent) => {
      const r = e.Records[0];
      if (
        !r?.eventName.startsWith('ObjectCreated:') ||
        r.s3.bucket.name !== notifications.bucket ||
        !notifications.prefixes.some((p) => r.s3.object.key.startsWith(p))
      )
        return;
      process.send?.({ s3Event: asS3Notification(e) });
    });
  const { port } = await server.run();
  return { port, close: () => server.close() };
});
