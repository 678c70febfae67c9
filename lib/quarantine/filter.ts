import { QuarantineRequestError } from './errors.ts';
import { QUARANTINE_REASONS, type QuarantineRecord, type QuarantineStage } from './record.ts';

/** A quarantined record's state, derived from the records plus the ledger (architecture.md §7). */
export type QuarantineStatus = 'open' | 'redriven' | 'discarded';
export const QUARANTINE_STATUSES: readonly QuarantineStatus[] = ['open', 'redriven', 'discarded'];
export const QUARANTINE_STAGES: readonly QuarantineStage[] = [
  'ingest',
  'lake-writer',
  'oltp-sink',
  'redrive',
  'import',
];

/** Server-side filters of the quarantine list; every field optional, all must match. */
export interface QuarantineFilter {
  type?: string;
  stage?: QuarantineStage;
  reason?: string;
  /** Default `open`; `all` for every status. */
  status?: QuarantineStatus | 'all';
  /** Inclusive lower / exclusive upper bound on `quarantined_at` (ISO-8601). */
  from?: string;
  to?: string;
  /** Case-insensitive text in the payload, an error path or an error message. */
  q?: string;
}

/** The `from` (inclusive) and `to` (exclusive) parameters as ISO-8601, refused unless `from` is before `to`. */
export function timeRange(get: (name: string) => string | undefined): { from?: string; to?: string } {
  const from = get('from');
  const to = get('to');
  const r = { ...(from ? { from: toIso('from', from) } : {}), ...(to ? { to: toIso('to', to) } : {}) };
  if (r.from && r.to && r.from >= r.to)
    throw new QuarantineRequestError(`"from" (${r.from}) must be before "to" (${r.to}).`);
  return r;
}

/** A date or date-time parameter as ISO-8601 (a date alone is its midnight UTC); a 400 that shows the form otherwise. */
function toIso(name: string, v: string): string {
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
  if (Number.isNaN(ms))
    throw new QuarantineRequestError(
      `"${name}" must be an ISO-8601 date or date-time, e.g. 2026-11-25 or 2026-11-25T10:00:00Z; got ${JSON.stringify(v)}.`,
    );
  return new Date(ms).toISOString();
}

/**
 * Reads a filter from query parameters (`type`, `stage`, `reason`, `status`, `from`, `to`, `q`), checking enums and
 * times so a typo is a clear 400 rather than an empty list.
 */
export function parseFilter(params: URLSearchParams | Record<string, string | undefined>): QuarantineFilter {
  const get = (k: string) => {
    const v = params instanceof URLSearchParams ? params.get(k) : params[k];
    return v === null || v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const f: QuarantineFilter = {};
  const type = get('type');
  if (type) f.type = type;
  const stage = get('stage');
  if (stage) {
    if (!QUARANTINE_STAGES.includes(stage as QuarantineStage))
      throw new QuarantineRequestError(
        `Unknown stage ${JSON.stringify(stage)}; use one of ${QUARANTINE_STAGES.join(', ')}.`,
      );
    f.stage = stage as QuarantineStage;
  }
  const reason = get('reason');
  if (reason) {
    if (!(QUARANTINE_REASONS as readonly string[]).includes(reason))
      throw new QuarantineRequestError(
        `Unknown reason ${JSON.stringify(reason)}; use one of ${QUARANTINE_REASONS.join(', ')}.`,
      );
    f.reason = reason;
  }
  const status = get('status');
  if (status) {
    if (status !== 'all' && !QUARANTINE_STATUSES.includes(status as QuarantineStatus))
      throw new QuarantineRequestError(
        `Unknown status ${JSON.stringify(status)}; use open, redriven, discarded or all.`,
      );
    f.status = status as QuarantineFilter['status'];
  }
  Object.assign(f, timeRange(get));
  const q = get('q');
  if (q) f.q = q;
  return f;
}

/** The filter as query parameters (for links, exports and the audit log), without empty fields. */
export function filterParams(f: QuarantineFilter): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(f)) if (v !== undefined && v !== '') out[k] = String(v);
  return out;
}

/** What a filter looks at in an entry; the text search's haystack is built once, on the first search. */
export interface Filterable {
  record: QuarantineRecord;
  status: QuarantineStatus;
  haystack?: string;
  /** The haystack of the masked payload (what a viewer's search looks in), built on a viewer's first search. */
  maskedHaystack?: string;
}

/** The text a search looks in: a payload (as stored, or as a viewer sees it), the id, each error's path and message. */
export function searchText(r: QuarantineRecord, payload: string = r.payload): string {
  return `${payload}\n${r.id}\n${r.errors.map((x) => `${x.path} ${x.message}`).join('\n')}`.toLowerCase();
}

/** An entry's search text, built on its first search. */
export function haystackOf(e: Filterable): string {
  e.haystack ??= searchText(e.record);
  return e.haystack;
}

/** Whether an entry passes a filter (`q` lower-cased once by the caller). */
export function matches(
  e: Filterable,
  f: QuarantineFilter,
  q: string | undefined,
  haystack: (e: Filterable) => string = haystackOf,
): boolean {
  const r = e.record;
  if ((f.status ?? 'open') !== 'all' && e.status !== (f.status ?? 'open')) return false;
  if (f.type !== undefined && r.type !== f.type) return false;
  if (f.stage !== undefined && r.stage !== f.stage) return false;
  if (f.reason !== undefined && r.reason !== f.reason) return false;
  if (f.from !== undefined && r.quarantined_at < f.from) return false;
  if (f.to !== undefined && r.quarantined_at >= f.to) return false;
  if (q !== undefined && !haystack(e).includes(q)) return false;
  return true;
}
