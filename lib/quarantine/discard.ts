import { newId } from '../ids.ts';
import { type Actor, requireOperator } from './access.ts';
import { namedRecords, writeAudit } from './audit.ts';
import { QuarantineRequestError } from './errors.ts';
import type { LedgerEntry } from './quarantine-index.ts';
import type { QuarantineFilter } from './filter.ts';
import type { QuarantineDeps } from './deps.ts';
import { claimEntries } from './job-claims.ts';
import { claimedSkip, writeLedger } from './ledger.ts';
import { selectRecords } from './selection.ts';

/** A discard: the records (ids or a filter) and the reason the audit log keeps. */
export interface DiscardRequest {
  qids?: string[];
  filter?: QuarantineFilter;
  reason: string;
}

/**
 * Marks records discarded, with a reason for the audit log; records that are not open are left as they are (skipped,
 * with their status). Each open record is claimed first, like a re-drive claims it, and the claim is never released
 * (discarded is final): a discard and a running re-drive never both act on one record. The index must be fresh.
 *
 * Exactly once: the ledger object is named after the discard's id, so a retried write overwrites itself; a record a
 * re-drive holds is skipped with the job that holds it, never discarded under it.
 *
 * @throws QuarantineForbiddenError (403) for a viewer; QuarantineRequestError (400) without a reason or a selection.
 */
export async function discardRecords(
  deps: QuarantineDeps,
  req: DiscardRequest,
  actor: Actor,
  at: string,
): Promise<{ discarded: number; skipped: number; audit: string }> {
  requireOperator(actor, 'Discarding');
  const reason = (req.reason ?? '').trim();
  if (!reason) throw new QuarantineRequestError('Discarding needs a reason (it goes in the audit log).');
  if (reason.length > 500) throw new QuarantineRequestError('Keep the discard reason under 500 characters.');
  const { qids, selection, filter } = selectRecords(deps.index, req);
  const id = newId();
  const job = `discard-${id}`;
  const base = { job, action: 'discard' as const, at, by: actor.by };
  const entries = qids.map((qid) => deps.index.get(qid));
  const lines: LedgerEntry[] = entries
    .filter((e) => e.status !== 'open')
    .map((e) => ({
      ...base,
      qid: e.qid,
      id: e.record.id,
      outcome: 'skipped',
      errors: [{ path: '/', keyword: 'status', message: `already ${e.status}` }],
    }));
  const { held, refused } = await claimEntries(
    deps,
    job,
    0,
    entries.filter((e) => e.status === 'open'),
  );
  for (const { e } of held) lines.push({ ...base, qid: e.qid, id: e.record.id, outcome: 'discarded', reason });
  for (const { e, holder } of refused) lines.push(claimedSkip(base, e, holder, 'discard it once that job is done'));
  const discarded = lines.filter((l) => l.outcome === 'discarded').length;
  if (lines.length) await writeLedger(deps.s3, deps.index, `discard-${id}-000000`, lines, at);
  await writeAudit(deps.s3, deps.bucket, {
    id,
    at,
    by: actor.by,
    role: actor.role,
    action: 'discard',
    selection,
    ...(filter ? { filter } : namedRecords(qids)),
    requested: qids.length,
    counts: { discarded, skipped: lines.length - discarded },
    note: reason,
  });
  return { discarded, skipped: lines.length - discarded, audit: id };
}
