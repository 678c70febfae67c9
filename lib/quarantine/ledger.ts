import { gzipSync } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { withRetries } from '../util/retry.ts';
import type { Claim } from './claims.ts';
import { QUARANTINE_PREFIX, type LedgerEntry, type QuarantineEntry, type QuarantineIndex } from './quarantine-index.ts';

/** Writes one ledger object and applies it to the index at once, so this process sees the change immediately. */
export async function writeLedger(
  s3: S3Client,
  index: QuarantineIndex,
  name: string,
  lines: LedgerEntry[],
  at: string,
): Promise<string> {
  const key = `${QUARANTINE_PREFIX.ledger}dt=${at.slice(0, 10)}/${name}.jsonl.gz`;
  const body = gzipSync(`${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
  // The ledger is what makes a record "redriven": retry before giving up, the records are already back on the stream.
  await withRetries(
    () =>
      s3.send(
        new PutObjectCommand({
          Bucket: index.bucket,
          Key: key,
          Body: body,
          ContentType: 'application/x-ndjson',
          ContentEncoding: 'gzip',
        }),
      ),
    { attempts: 5, baseMs: 200, maxMs: 3_200 },
  );
  index.applyLedger(key, lines);
  return key;
}

/**
 * The ledger line of a record left alone because another job holds its claim: skipped, naming the holder and when
 * it claimed it, with what to do (`then`) when the caller has advice.
 */
export function claimedSkip(
  base: Pick<LedgerEntry, 'job' | 'action' | 'at' | 'by'>,
  e: QuarantineEntry,
  holder: Claim,
  then?: string,
): LedgerEntry {
  return {
    ...base,
    qid: e.qid,
    id: e.record.id,
    outcome: 'skipped',
    errors: [
      {
        path: '/',
        keyword: 'claimed',
        message: `being re-driven by job ${holder.job} (claimed ${holder.at})${then ? `; ${then}` : ''}`,
      },
    ],
  };
}
