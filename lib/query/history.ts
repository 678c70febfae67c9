import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { listAll, newestFirstKey } from '../aws/s3.ts';
import type { QueryInfo } from './query-info.ts';

/*
 * Where queries are kept in the athena-results bucket: a record per query written when it starts (`queries/<id>.json`),
 * a history entry written once when it ends (newest first), and the local engine's result CSV.
 */
export const HISTORY_PREFIX = 'history/';
export const RESULTS_PREFIX = 'query-results/';
const RECORDS_PREFIX = 'queries/';

/** A query's start record. */
export const recordKey = (id: string) => `${RECORDS_PREFIX}${id}.json`;
/** A query's history entry: the same key from every instance, derived from its record. */
export const historyKey = (info: Pick<QueryInfo, 'id' | 'submittedAt'>) =>
  newestFirstKey(HISTORY_PREFIX, info.submittedAt, info.id);

/** The newest history entries first. */
export async function listHistory(s3: S3Client, bucket: string, limit: number): Promise<QueryInfo[]> {
  const keys = (await listAll(s3, bucket, HISTORY_PREFIX)).map((o) => o.Key!).sort();
  const out: QueryInfo[] = [];
  // Newest first, skipping the queries a page ran for itself (unlisted), until `limit` are found.
  for (const key of keys) {
    if (out.length >= limit) break;
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const info = JSON.parse(await res.Body!.transformToString()) as QueryInfo;
    if (!info.unlisted) out.push(info);
  }
  return out;
}
