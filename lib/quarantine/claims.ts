import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { QUARANTINE_PREFIX } from './quarantine-index.ts';
import { lostConditionalWrite } from '../aws/s3.ts';

/**
 * A re-drive job's claim on one quarantined record (`claims/<qid>.json` in the quarantine bucket), written with an
 * S3 conditional write before the record goes back on the stream: of any number of jobs, workers or instances that
 * reach the same record, exactly one claims it, and only the claimant sends it.
 */
export interface Claim {
  qid: string;
  job: string;
  /** The job's chunk that claimed it (a resumed job re-runs the same chunk numbers). */
  chunk: number;
  /** When the claim was written or last renewed (ISO-8601). */
  at: string;
  /** Set when the claimant let the record go without a final outcome (the stream refused it): anyone may claim it. */
  released?: boolean;
}

/** How long claims live (see README "Re-drive: exactly once"). */
export interface ClaimTimes {
  /**
   * A claimant sends a record only within this long of claiming it; a chunk that took longer lets it go instead.
   * Default 60 s.
   */
  leaseMs: number;
  /**
   * Another job may take over a claim this old whose record still has no outcome (its claimant died): by then the
   * claimant is past its lease and its put deadline, so it can no longer send the record. Default 5 min.
   */
  takeoverMs: number;
}

export const DEFAULT_CLAIM_TIMES: ClaimTimes = { leaseMs: 60_000, takeoverMs: 5 * 60_000 };

export type ClaimOutcome =
  | { claimed: true; claim: Claim; etag: string; from?: Claim }
  | { claimed: false; holder: Claim };

export const claimKey = (qid: string) => `${QUARANTINE_PREFIX.claims}${qid}.json`;

function status(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

async function put(
  s3: S3Client,
  bucket: string,
  claim: Claim,
  condition: { IfNoneMatch: '*' } | { IfMatch: string },
): Promise<string | undefined> {
  try {
    const res = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: claimKey(claim.qid),
        Body: JSON.stringify(claim),
        ContentType: 'application/json',
        ...condition,
      }),
    );
    return res.ETag ?? '';
  } catch (err) {
    if (lostConditionalWrite(err)) return undefined;
    throw err;
  }
}

async function read(s3: S3Client, bucket: string, qid: string): Promise<{ claim: Claim; etag: string } | undefined> {
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: claimKey(qid) }));
    return { claim: JSON.parse(await res.Body!.transformToString()) as Claim, etag: res.ETag ?? '' };
  } catch (err) {
    if (status(err) === 404) return undefined;
    throw err;
  }
}

/**
 * Claims one record for `mine.job`. A new claim is a PutObject with `If-None-Match: *`. When a claim exists, it is
 * replaced with `If-Match: <its ETag>` — so only if nobody changed it meanwhile — when it is this job's own (a resumed
 * job renews it), released, or `mayTakeOver` says its claimant is dead; otherwise the holder is returned and the
 * record must not be sent. Races (another writer between the read and the write) are retried a few times from the
 * start, then reported as held.
 */
export async function claimRecord(
  s3: S3Client,
  bucket: string,
  mine: Claim,
  mayTakeOver: (holder: Claim) => boolean | Promise<boolean>,
): Promise<ClaimOutcome> {
  let holder: Claim | undefined;
  for (let attempt = 0; attempt < 4; attempt++) {
    const etag = await put(s3, bucket, mine, { IfNoneMatch: '*' });
    if (etag !== undefined) return { claimed: true, claim: mine, etag };
    const current = await read(s3, bucket, mine.qid);
    if (!current) continue;
    holder = current.claim;
    const ours = holder.job === mine.job;
    if (!ours && !holder.released && !(await mayTakeOver(holder))) return { claimed: false, holder };
    const replaced = await put(s3, bucket, mine, { IfMatch: current.etag });
    if (replaced !== undefined)
      return { claimed: true, claim: mine, etag: replaced, ...(ours ? {} : { from: holder }) };
  }
  return { claimed: false, holder: holder ?? { ...mine, job: '(unknown)' } };
}

/** Lets a claimed record go (the job has no final outcome for it), unless someone else holds the claim by now. */
export async function releaseClaim(
  s3: S3Client,
  bucket: string,
  claim: Claim,
  etag: string,
  at: string,
): Promise<void> {
  await put(s3, bucket, { ...claim, at, released: true }, { IfMatch: etag });
}
