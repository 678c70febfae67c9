import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * s3rver writes objects in place (truncate, then write) and answers before the bytes are on disk, so a reader can see a
 * half-written object and an overwrite can cut a GET short mid-response. S3 itself replaces objects atomically, and
 * the pipeline's retry logic relies on that. These overrides make s3rver's filesystem store behave the same way:
 * writes go to a temporary file that is renamed into place once complete, and reads stream from the file they opened.
 *
 * s3rver also ignores S3's conditional writes, which the re-drive's record claims rely on (lib/quarantine/claims.ts):
 * PutObject with `If-None-Match: *` must fail with 412 PreconditionFailed when the key exists, and with
 * `If-Match: <etag>` when the key's ETag differs (404 NoSuchKey when there is no object). The override below checks
 * the condition and writes under a per-key lock, so of two concurrent conditional writes exactly one wins, as in S3
 * (which may instead answer the loser 409 ConditionalRequestConflict; callers treat both alike).
 */
interface Store {
  getResourcePath(bucket: string, key: string | undefined, type: string): string;
  getMetadata(bucket: string, key: string): Promise<Record<string, unknown>>;
}
interface PutContext {
  params: { bucket: string; key: string };
  headers: Record<string, string | undefined>;
  store: Store & { existsObject(bucket: string, key: string): Promise<boolean> };
}
interface S3ObjectInput {
  bucket: string;
  key: string;
  content: Buffer | Readable;
  metadata: Record<string, unknown>;
}

const require = createRequire(import.meta.url);
const FilesystemStore = require('s3rver/lib/stores/filesystem') as { prototype: Record<string, unknown> };
const ObjectController = require('s3rver/lib/controllers/object') as { putObject: (ctx: PutContext) => Promise<void> };
const S3Error = require('s3rver/lib/models/error') as new (
  code: string,
  message: string,
  detail?: Record<string, string>,
) => Error;
const S3Object = require('s3rver/lib/models/object') as (new (
  bucket: string,
  key: string,
  content: unknown,
  metadata: unknown,
) => { range?: unknown }) & {
  ALLOWED_METADATA: string[];
};

let counter = 0;
const tmpName = (file: string) => `${file}.${process.pid}.${counter++}.tmp`;

async function writeAtomic(file: string, data: string | Buffer): Promise<void> {
  const tmp = tmpName(file);
  await writeFile(tmp, data);
  await rename(tmp, file);
}

type PutMetadata = (
  this: Store,
  bucket: string,
  key: string,
  metadata: Record<string, unknown>,
  md5?: string,
) => Promise<void>;

FilesystemStore.prototype.putMetadata = async function putMetadata(
  this: Store,
  bucket: string,
  key: string,
  metadata: Record<string, unknown>,
  md5?: string,
) {
  const metadataPath = this.getResourcePath(bucket, key, 'metadata.json');
  const md5Path = this.getResourcePath(bucket, key, 'object.md5');
  const json: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metadata))
    if (S3Object.ALLOWED_METADATA.includes(k) || k.startsWith('x-amz-meta-')) json[k] = v;
  if (md5) await writeAtomic(md5Path, md5);
  await writeAtomic(metadataPath, JSON.stringify(json, null, 2));
};

FilesystemStore.prototype.putObject = async function putObject(
  this: Store & { putMetadata: PutMetadata },
  object: S3ObjectInput,
) {
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  await mkdir(path.dirname(objectPath), { recursive: true });
  const tmp = tmpName(objectPath);
  const md5 = createHash('md5');
  let size = 0;
  try {
    if (Buffer.isBuffer(object.content)) {
      md5.update(object.content);
      size = object.content.length;
      await writeFile(tmp, object.content);
    } else {
      await pipeline(
        object.content,
        new Transform({
          transform(chunk: Buffer, _enc, cb) {
            md5.update(chunk);
            size += chunk.length;
            cb(null, chunk);
          },
        }),
        createWriteStream(tmp),
      );
    }
    const digest = md5.digest('hex');
    await this.putMetadata(object.bucket, object.key, object.metadata, digest);
    await rename(tmp, objectPath);
    return { size, md5: digest };
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
};

FilesystemStore.prototype.getObject = async function getObject(
  this: Store,
  bucket: string,
  key: string,
  options?: { start?: number; end?: number },
) {
  // The file and its metadata (the ETag) are opened under the key's write lock: a write puts the metadata in place
  // before it renames the object file, so a read between the two would pair the old bytes with the new ETag, and a
  // conditional write on that ETag would then succeed on bytes it never read (a lost update S3 cannot have).
  const opened = await withKeyLock(`${bucket}/${key}`, async () => {
    let handle: import('node:fs/promises').FileHandle;
    try {
      handle = await open(this.getResourcePath(bucket, key, 'object'), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    try {
      const { size } = await handle.stat();
      return { fh: handle, size, meta: await this.getMetadata(bucket, key) };
    } catch (err) {
      await handle.close().catch(() => {});
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  });
  if (!opened) return null;
  const { fh, size } = opened;
  try {
    const metadata = { ...opened.meta, 'content-length': size };
    const lastByte = Math.max(0, size - 1);
    const range = { start: options?.start || 0, end: Math.min(options?.end || Infinity, lastByte) };
    if (range.start < 0 || Math.min(range.end, lastByte) < range.start) {
      await fh.close();
      const obj = new S3Object(bucket, key, null, metadata);
      if (options && (options.start !== undefined || options.end)) obj.range = range;
      return obj;
    }
    const content = fh.createReadStream({ start: range.start, end: range.end, autoClose: true });
    const obj = new S3Object(bucket, key, content, metadata);
    if (options && (options.start !== undefined || options.end)) obj.range = range;
    return obj;
  } catch (err) {
    await fh.close().catch(() => {});
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
};

/** Tail of the write chain per bucket/key: a conditional write checks and writes with no other write in between. */
const keyLocks = new Map<string, Promise<unknown>>();

function withKeyLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
  const run = (keyLocks.get(id) ?? Promise.resolve()).then(fn, fn);
  const tail = run.catch(() => {});
  keyLocks.set(id, tail);
  void tail.then(() => {
    if (keyLocks.get(id) === tail) keyLocks.delete(id);
  });
  return run;
}

const unquote = (etag: string) => etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
const PRECONDITION = 'At least one of the pre-conditions you specified did not hold';

const putObject = ObjectController.putObject;
ObjectController.putObject = function conditionalPutObject(ctx: PutContext) {
  const { bucket, key } = ctx.params;
  const ifNoneMatch = ctx.headers['if-none-match'];
  const ifMatch = ctx.headers['if-match'];
  return withKeyLock(`${bucket}/${key}`, async () => {
    if (ifNoneMatch !== undefined || ifMatch !== undefined) {
      const exists = await ctx.store.existsObject(bucket, key);
      if (ifNoneMatch !== undefined) {
        if (ifNoneMatch.trim() !== '*')
          throw new S3Error('NotImplemented', 'If-None-Match on PutObject accepts only "*".');
        if (exists) throw new S3Error('PreconditionFailed', PRECONDITION, { Condition: 'If-None-Match' });
      }
      if (ifMatch !== undefined) {
        if (!exists) throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: key });
        const etag = String((await ctx.store.getMetadata(bucket, key)).etag ?? '');
        if (unquote(etag) !== unquote(ifMatch))
          throw new S3Error('PreconditionFailed', PRECONDITION, { Condition: 'If-Match' });
      }
    }
    return putObject(ctx);
  });
};
