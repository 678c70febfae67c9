import { createWriteStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  NoSuchKey,
  paginateListObjectsV2,
  PutObjectCommand,
  type S3Client,
  type _Object,
} from '@aws-sdk/client-s3';

/** Lists every object under a prefix, all pages (the SDK's paginator follows the continuation tokens). */
export async function listAll(s3: S3Client, bucket: string, prefix = ''): Promise<_Object[]> {
  const out: _Object[] = [];
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: prefix }))
    out.push(...(page.Contents ?? []));
  return out;
}

/** Reads a JSONL object (gzip when its key ends in `.gz`) and returns its lines, parsed. */
export async function readJsonl<T = Record<string, unknown>>(s3: S3Client, bucket: string, key: string): Promise<T[]> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const bytes = Buffer.from(await res.Body!.transformToByteArray());
  const text = (key.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

/** Reads a JSON object, or returns null when there is no such key (any other failure throws). */
export async function getJsonOrNull<T>(s3: S3Client, bucket: string, key: string): Promise<T | null> {
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return JSON.parse(await res.Body!.transformToString()) as T;
  } catch (err) {
    if (noSuchKey(err)) return null;
    throw err;
  }
}

const noSuchKey = (err: unknown) => err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey';

/**
 * Streams an object into a local file (exports and raw files can be large) and returns its ETag, size and time; undefined
 * when there is no such key (any other failure throws).
 */
export async function downloadToFile(
  s3: S3Client,
  bucket: string,
  key: string,
  file: string,
): Promise<{ etag: string; size: number; lastModified?: Date } | undefined> {
  let res: GetObjectCommandOutput;
  try {
    res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  } catch (err) {
    if (noSuchKey(err)) return undefined;
    throw err;
  }
  await pipeline(res.Body as Readable, createWriteStream(file));
  return {
    etag: res.ETag ?? '',
    size: res.ContentLength ?? statSync(file).size,
    ...(res.LastModified ? { lastModified: res.LastModified } : {}),
  };
}

/** Deletes keys with DeleteObjects (1,000 per call) and returns the ones S3 could not delete, for the caller's error. */
export async function deleteKeys(
  s3: S3Client,
  bucket: string,
  keys: string[],
): Promise<{ key: string; message: string }[]> {
  const failed: { key: string; message: string }[] = [];
  for (let i = 0; i < keys.length; i += 1000) {
    const res = await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
      }),
    );
    for (const e of res.Errors ?? [])
      failed.push({ key: e.Key ?? '?', message: e.Message ?? e.Code ?? 'unknown error' });
  }
  return failed;
}

const EPOCH_END = 9_999_999_999_999;

/**
 * A key under `prefix` that lists newest first (S3 lists keys in ascending order): the time inverted against a far
 * epoch end, zero-padded, then an id that keeps keys of the same millisecond apart.
 */
export function newestFirstKey(prefix: string, isoTime: string, id: string): string {
  return `${prefix}${String(EPOCH_END - Date.parse(isoTime)).padStart(13, '0')}-${id}.json`;
}

/** The time (epoch ms) a {@link newestFirstKey} was made for, or undefined for a key not of that shape. */
export function newestFirstTime(prefix: string, key: string): number | undefined {
  const m = /^(\d{13})-/.exec(key.startsWith(prefix) ? key.slice(prefix.length) : '');
  return m ? EPOCH_END - Number(m[1]) : undefined;
}

/** Writes a value as a JSON object. */
export async function putJson(s3: S3Client, bucket: string, key: string, value: unknown): Promise<void> {
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(value), ContentType: 'application/json' }),
  );
}

/**
 * A conditional PutObject that lost: 412 (the `If-None-Match`/`If-Match` condition did not hold), 409 (a concurrent
 * conditional write won), 404 (`If-Match` on a key that no longer exists).
 */
export function lostConditionalWrite(err: unknown): boolean {
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status === 412 || status === 409 || status === 404;
}
