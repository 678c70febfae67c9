import type { JobState } from '@/lib/quarantine/service.ts';
import type { FixCheck, RedriveSource } from '@/lib/quarantine/redrive-prepare.ts';
import type { LedgerEntry, QuarantineCounts, QuarantineEntry } from '@/lib/quarantine/quarantine-index.ts';
import type { QuarantineListItem } from '@/lib/quarantine/requests.ts';
import type { AuditEntry } from '@/lib/quarantine/audit.ts';

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

/**
 * The filter a link asked for (`/quarantine?stage=oltp-sink&reason=…`): the page's query parameters, each kept only
 * when the form can show it (a known type, stage, reason and status; a `YYYY-MM-DDTHH:MM` time, read as UTC).
 */
export function filterFromParams(
  params: Record<string, string | string[] | undefined>,
  choices: { types: readonly string[]; stages: readonly string[]; reasons: readonly string[] },
): FilterForm {
  const get = (k: string) => {
    const v = params[k];
    return (Array.isArray(v) ? v[0] : v)?.trim() ?? '';
  };
  const oneOf = (v: string, allowed: readonly string[]) => (allowed.includes(v) ? v : '');
  const time = (v: string) => (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v) ? v.slice(0, 16) : '');
  return {
    type: oneOf(get('type'), choices.types),
    stage: oneOf(get('stage'), choices.stages),
    reason: oneOf(get('reason'), choices.reasons),
    status: oneOf(get('status'), ['open', 'redriven', 'discarded', 'all']) || EMPTY_FILTER.status,
    from: time(get('from')),
    to: time(get('to')),
    q: get('q'),
  };
}
