import { DeleteObjectsCommand, GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';

/** Reads a JSON object, or returns null when there is no such key (any other failure throws). */
export async function getJsonOrNull<T>(s3: S3Client, bucket: string, key: string): Promise<T | null> {
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return JSON.parse(await res.Body!.transformToString()) as T;
  } catch (err) {
    if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') return null;
    throw err;
  }
}

/** Deletes keys with DeleteObjects (1,000 per call) and returns the ones S3 could not delete, for the caller's error. */
export async function deleteKeys(s3: S3Client, bucket: string, keys: string[]): Promise<{ key: string; message: string }[]> {
  const failed: { key: string; message: string }[] = [];
  for (let i = 0; i < keys.length; i += 1000) {
    const res = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }));
    for (const e of res.Errors ?? []) failed.push({ key: e.Key ?? '?', message: e.Message ?? e.Code ?? 'unknown error' });
  }
  return failed;
}
