import { mapLimit } from '../util/concurrency.ts';
import { claimRecord, DEFAULT_CLAIM_TIMES, type Claim } from './claims.ts';
import type { QuarantineDeps } from './deps.ts';
import type { QuarantineEntry } from './quarantine-index.ts';

/** Claims written in parallel per chunk (one conditional PutObject each). */
export const CLAIM_CONCURRENCY = 32;

/**
 * Claims open records for a job (a re-drive chunk, or a discard): `held` are the ones this job now holds and may act
 * on; `refused` the ones another live job holds, with that holder. A claim older than `takeoverMs` whose record still
 * has no outcome belongs to a job that died and is taken over — after reading the ledger as it is now (once per call),
 * so a claimant that finished is never overtaken.
 */
export async function claimEntries(
  deps: QuarantineDeps,
  jobId: string,
  chunkNo: number,
  entries: QuarantineEntry[],
): Promise<{
  held: { e: QuarantineEntry; claim: Claim; etag: string }[];
  refused: { e: QuarantineEntry; holder: Claim }[];
}> {
  const times = { ...DEFAULT_CLAIM_TIMES, ...deps.claims };
  // The deps' clock, as every other time of a job: claims compared across jobs are on one clock.
  const now = () => (deps.now?.() ?? new Date()).getTime();
  let fresh: Promise<void> | undefined;
  const mayTakeOver = async (holder: Claim) => {
    if (now() - Date.parse(holder.at) < times.takeoverMs) return false;
    await (fresh ??= deps.index.refresh());
    return (
      deps.index.has(holder.qid) &&
      deps.index.get(holder.qid).status === 'open' &&
      !deps.index.outcomeOf(holder.job, holder.qid)
    );
  };
  const outcomes = await mapLimit(entries, CLAIM_CONCURRENCY, (e) =>
    claimRecord(
      deps.s3,
      deps.bucket,
      { qid: e.qid, job: jobId, chunk: chunkNo, at: new Date(now()).toISOString() },
      mayTakeOver,
    ),
  );
  const held: { e: QuarantineEntry; claim: Claim; etag: string }[] = [];
  const refused: { e: QuarantineEntry; holder: Claim }[] = [];
  outcomes.forEach((c, i) => {
    const e = entries[i]!;
    if (c.claimed) held.push({ e, claim: c.claim, etag: c.etag });
    else refused.push({ e, holder: c.holder });
  });
  return { held, refused };
}
