import type { JobState } from '../../lib/quarantine/service.ts';
import type { FixCheck, RedriveSource } from '../../lib/quarantine/redrive.ts';
import type { LedgerEntry, QuarantineCounts, QuarantineEntry } from '../../lib/quarantine/store.ts';
import type { QuarantineListItem } from '../../lib/quarantine/view.ts';
import type { AuditEntry } from '../../lib/quarantine/audit.ts';

export type { AuditEntry, FixCheck, JobState, LedgerEntry, QuarantineCounts, QuarantineListItem };

export interface ListResponse {
  total: number;
  offset: number;
  limit: number;
  items: QuarantineListItem[];
  refreshedAt: string;
}

export interface DetailResponse {
  entry: QuarantineEntry;
  source: RedriveSource;
  schema?: unknown;
  latestVersion?: number;
}

export interface JobResponse {
  state: JobState;
  outcomes: LedgerEntry[];
  outcomeTotal: number;
}

/** The filter form's fields, as the list route takes them (all text; empty = no filter). */
export interface FilterForm {
  type: string;
  stage: string;
  reason: string;
  status: string;
  from: string;
  to: string;
  q: string;
}

export const EMPTY_FILTER: FilterForm = { type: '', stage: '', reason: '', status: 'open', from: '', to: '', q: '' };

/** The form as query parameters; datetime-local values are read as UTC (the console shows UTC everywhere). */
export function filterQuery(f: FilterForm): URLSearchParams {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) {
    if (!v) continue;
    p.set(k, (k === 'from' || k === 'to') && /T\d{2}:\d{2}$/.test(v) ? `${v}:00Z` : v);
  }
  return p;
}
