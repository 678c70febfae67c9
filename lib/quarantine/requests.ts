import { QuarantineRequestError } from './errors.ts';
import type { RecordFix } from './redrive-prepare.ts';
import type { RedriveRequest } from './service.ts';
import type { LedgerEntry, QuarantineEntry } from './quarantine-index.ts';
import { parseFilter, type QuarantineFilter, type QuarantineStatus, timeRange } from './filter.ts';
import type { AuditEntry, AuditQuery } from './audit.ts';
import { intParam } from '../http/params.ts';

/** A quarantined record as a list row: what the table shows, without the whole payload. */
export interface QuarantineListItem {
  qid: string;
  status: QuarantineStatus;
  id: string;
  stage: string;
  reason: string;
  type?: string;
  v?: number;
  received_at: string;
  quarantined_at: string;
  attempts: number;
  errorCount: number;
  firstError?: { path: string; message: string };
  /** The first 160 characters of the payload. */
  preview: string;
  last?: Pick<LedgerEntry, 'job' | 'outcome' | 'at' | 'by'>;
}

/** The list row of an entry. */
export function listItem(e: QuarantineEntry): QuarantineListItem {
  const r = e.record;
  const first = r.errors[0];
  return {
    qid: e.qid,
    status: e.status,
    id: r.id,
    stage: r.stage,
    reason: r.reason,
    ...(r.type !== undefined ? { type: r.type } : {}),
    ...(r.v !== undefined ? { v: r.v } : {}),
    received_at: r.received_at,
    quarantined_at: r.quarantined_at,
    attempts: r.attempts,
    errorCount: r.errors.length,
    ...(first ? { firstError: { path: first.path, message: first.message } } : {}),
    preview:
      r.payload_encoding === 'base64'
        ? `(binary, ${Math.floor((r.payload.length * 3) / 4)} bytes)`
        : r.payload.slice(0, 160),
    ...(e.last ? { last: { job: e.last.job, outcome: e.last.outcome, at: e.last.at, by: e.last.by } } : {}),
  };
}

function object(body: unknown, what: string): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new QuarantineRequestError(`Send ${what} as a JSON object.`);
  return body as Record<string, unknown>;
}

function qidList(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((q) => typeof q !== 'string'))
    throw new QuarantineRequestError('"qids" must be an array of record ids.');
  if (v.length > 100_000)
    throw new QuarantineRequestError('Select at most 100,000 records at a time; re-drive by filter for more.');
  return v as string[];
}

function filterOf(v: unknown): QuarantineFilter | undefined {
  if (v === undefined) return undefined;
  const o = object(v, '"filter"');
  return parseFilter(
    Object.fromEntries(Object.entries(o).map(([k, x]) => [k, x === null || x === undefined ? undefined : String(x)])),
  );
}

/** Reads `{event, type?}` (the fix editor's text). */
export function readFix(body: unknown): RecordFix {
  const o = object(body, 'the fix');
  if (typeof o.event !== 'string') throw new QuarantineRequestError('"event" must be the edited event as JSON text.');
  if (o.type !== undefined && typeof o.type !== 'string')
    throw new QuarantineRequestError('"type" must be an event type name.');
  return { event: o.event, ...(typeof o.type === 'string' && o.type ? { type: o.type } : {}) };
}

/** Reads a re-drive request: `{qids}` or `{filter}`, optional `fixes` by qid and `rate`. */
export function readRedriveRequest(body: unknown): RedriveRequest {
  const o = object(body, 'the re-drive request');
  const req: RedriveRequest = {};
  const qids = qidList(o.qids);
  if (qids) req.qids = qids;
  const filter = filterOf(o.filter);
  if (filter) req.filter = filter;
  if (o.fixes !== undefined) {
    const fixes = object(o.fixes, '"fixes"');
    req.fixes = Object.fromEntries(Object.entries(fixes).map(([q, f]) => [q, readFix(f)]));
  }
  if (o.rate !== undefined) {
    if (typeof o.rate !== 'number') throw new QuarantineRequestError('"rate" must be a number of records per second.');
    req.rate = o.rate;
  }
  return req;
}

/** Reads a discard request: `{qids}` or `{filter}`, and a `reason`. */
export function readDiscardRequest(body: unknown): { qids?: string[]; filter?: QuarantineFilter; reason: string } {
  const o = object(body, 'the discard request');
  const qids = qidList(o.qids);
  const filter = filterOf(o.filter);
  return {
    ...(qids ? { qids } : {}),
    ...(filter ? { filter } : {}),
    reason: typeof o.reason === 'string' ? o.reason : '',
  };
}

const AUDIT_ACTIONS: readonly AuditEntry['action'][] = ['redrive', 'discard', 'export', 'read'];

/** Reads the audit log's filters from a URL: `action by record job from to limit` (limit 1…1000, default 100). */
export function parseAuditQuery(params: URLSearchParams): AuditQuery {
  const get = (k: string) => params.get(k)?.trim() || undefined;
  const q: AuditQuery = { limit: intParam(params, 'limit', { fallback: 100, min: 1, max: 1000 }) };
  const action = get('action');
  if (action) {
    if (!(AUDIT_ACTIONS as readonly string[]).includes(action))
      throw new QuarantineRequestError(
        `Unknown action ${JSON.stringify(action)}; use one of ${AUDIT_ACTIONS.join(', ')}.`,
      );
    q.action = action as AuditEntry['action'];
  }
  for (const k of ['by', 'record', 'job'] as const) {
    const v = get(k);
    if (v && v.length > 200) throw new QuarantineRequestError(`"${k}" is at most 200 characters.`);
    if (v) q[k] = v;
  }
  return { ...q, ...timeRange(get) };
}
