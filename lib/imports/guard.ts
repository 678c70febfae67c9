import { readSettings } from '../config.ts';
import type { DeltaResult } from './delta.ts';

/** Share of the previous export's rows an import may delete on its own (TRIBUTARY_IMPORT_DELETE_GUARD). */
export const DEFAULT_DELETE_GUARD = 0.2;

export interface DeleteGuardVerdict {
  hold: boolean;
  deletes: number;
  previousRows: number;
  /** deletes / previousRows (0 for a first export). */
  share: number;
  limit: number;
  /** Why it is held, in words for the registry and the operator. */
  reason?: string;
}

/** The configured limit, else {@link DEFAULT_DELETE_GUARD}. */
export function deleteGuardLimit(): number {
  return readSettings().TRIBUTARY_IMPORT_DELETE_GUARD ?? DEFAULT_DELETE_GUARD;
}

const pct = (x: number) => `${(Math.round(x * 10_000) / 100).toLocaleString('en-US')} %`;

/**
 * The delete guard: an export that would delete more than `limit` of the rows the previous one had is held for an
 * operator instead of published — a partial or wrong export reads as mass deletes, and deletes are the one change
 * the next export cannot quietly undo downstream. At exactly the limit it goes on; a first export deletes nothing.
 */
export function deleteGuard(
  delta: Pick<DeltaResult, 'ops' | 'previousRows'>,
  limit: number = deleteGuardLimit(),
): DeleteGuardVerdict {
  const deletes = delta.ops.delete;
  const share = delta.previousRows > 0 ? deletes / delta.previousRows : 0;
  const hold = share > limit;
  return {
    hold,
    deletes,
    previousRows: delta.previousRows,
    share,
    limit,
    ...(hold
      ? {
          reason: `It would delete ${deletes.toLocaleString('en-US')} of the ${delta.previousRows.toLocaleString('en-US')} rows the last applied export had (${pct(share)}), more than the ${pct(limit)} an import may delete on its own; it waits for an operator to approve or reject it.`,
        }
      : {}),
  };
}
