import type { AuditEntry } from './audit.ts';
import { QuarantineRequestError } from './errors.ts';
import type { QuarantineIndex } from './quarantine-index.ts';
import { filterParams, type QuarantineFilter } from './filter.ts';

/** The records an action was asked to act on, and how they were chosen (for the audit log). */
export interface Selection {
  qids: string[];
  selection: AuditEntry['selection'];
  /** The filter, as query parameters, when the records were chosen by one. */
  filter?: Record<string, string>;
}

/**
 * The records a re-drive or discard acts on: the ids given (each once; every one must exist), or every open record
 * matching a filter, as the index holds them now (a snapshot: records quarantined later are not included).
 *
 * @throws QuarantineRequestError (400) for both or neither, or no ids; QuarantineNotFoundError (404) for an unknown id.
 */
export function selectRecords(index: QuarantineIndex, req: { qids?: string[]; filter?: QuarantineFilter }): Selection {
  if (req.qids && req.filter)
    throw new QuarantineRequestError('Give either record ids ("qids") or a filter, not both.');
  if (req.qids) {
    // At most once per job: a record listed twice is re-driven once.
    const qids = [...new Set(req.qids)];
    if (!qids.length) throw new QuarantineRequestError('No records selected.');
    for (const q of qids) index.get(q);
    return { qids, selection: qids.length === 1 ? 'one' : 'selected' };
  }
  if (!req.filter) throw new QuarantineRequestError('Give record ids ("qids") or a filter.');
  const filter = { ...req.filter, status: 'open' as const };
  return { qids: [...index.matching(filter)].map((e) => e.qid), selection: 'filter', filter: filterParams(filter) };
}
