import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { quarantineObjects, type QuarantineObject, type QuarantineRecord, type QuarantineStage } from './record.ts';

/** Puts one quarantine object (gzip JSONL) as every writer stores it. */
export async function putQuarantineObject(
  s3: S3Client,
  bucket: string,
  o: Pick<QuarantineObject, 'key' | 'body'>,
): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: o.key,
      Body: o.body,
      ContentType: 'application/x-ndjson',
      ContentEncoding: 'gzip',
    }),
  );
}

/**
 * Writes quarantine records: one object per (day, reason), named `<stage>-<unique>` ({@link quarantineObjects}), and
 * returns the objects written. The one way ingest, the OLTP sink and re-drive quarantine; the lake writer plans its
 * quarantine objects with the same naming and writes them through its journal.
 *
 * Exactly once: `unique` is deterministic for a retried batch, so a retry overwrites its own objects instead of
 * adding copies; a failed write throws, and the caller's batch is retried (nothing is acknowledged before it lands).
 *
 * @example
 * await writeQuarantine(s3, 'quarantine', records, 'oltp-sink', `${shardId}-${firstSeq}-${lastSeq}`);
 */
export async function writeQuarantine(
  s3: S3Client,
  bucket: string,
  records: QuarantineRecord[],
  stage: QuarantineStage,
  unique: string,
): Promise<QuarantineObject[]> {
  const objects = quarantineObjects(records, stage, unique);
  await Promise.all(objects.map((o) => putQuarantineObject(s3, bucket, o)));
  return objects;
}
