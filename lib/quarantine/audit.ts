import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { newestFirstKey, putJson } from '../aws/s3.ts';
import { listAll } from '../aws/s3.ts';
import { mapLimit } from '../util/concurrency.ts';
import { QUARANTINE_PREFIX } from './quarantine-index.ts';

/** One line of the audit log: who did what to the quarantine, when, with which filter, and how it went. */
export interface AuditEntry {
  id: string;
  at: string;
  by: string;
  role: string;
  /** `read`: sensitive fields seen unmasked (lib/quarantine/read-audit.ts). */
  action: 'redrive' | 'discard' | 'export' | 'read';
  /** What the action was applied to: one record, a selection, or every record matching a filter. */
  selection: 'one' | 'selected' | 'filter';
  filter?: Record<string, string>;
  /** Records asked for (for an export: records written). */
  requested: number;
  counts: Record<string, number>;
  job?: string;
  status?: string;
  /** Discard reason, export format… */
  note?: string;
}

/**
 * Writes an audit entry under `audit/` in the quarantine bucket, keyed newest first; writing the same entry again
 * (a job's start, then its end) replaces it.
 */
export async function writeAudit(s3: S3Client, bucket: string, entry: AuditEntry): Promise<void> {
  await putJson(s3, bucket, newestFirstKey(QUARANTINE_PREFIX.audit, entry.at, entry.id), entry);
}

/** The newest audit entries, newest first. */
export async function listAudit(s3: S3Client, bucket: string, limit = 100): Promise<AuditEntry[]> {
  const keys = (await listAll(s3, bucket, QUARANTINE_PREFIX.audit))
    .map((o) => o.Key!)
    .sort()
    .slice(0, Math.max(1, limit));
  return mapLimit(keys, 16, async (Key) => {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
    return JSON.parse(await res.Body!.transformToString()) as AuditEntry;
  });
}
