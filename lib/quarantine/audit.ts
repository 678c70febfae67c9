import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import diff from 'microdiff';
import { listAll, newestFirstKey, newestFirstTime, putJson } from '../aws/s3.ts';
import { type Masker, WITHHELD } from '../masking.ts';
import { compilePointer, encodePointer } from '../registry/pointer.ts';
import { parseJson } from '../registry/json.ts';
import { mapLimit } from '../util/concurrency.ts';
import { withSearchWithheld } from './withheld-search.ts';
import { QUARANTINE_PREFIX } from './quarantine-index.ts';

/** One field an operator changed in a record's fix: its JSON pointer and the values before and after (masked). */
export interface AuditChange {
  op: 'add' | 'remove' | 'replace';
  /** JSON pointer into the event; `(type)` when the fix changed the event type. */
  path: string;
  from?: unknown;
  to?: unknown;
}

/** What a fix changed in one record. */
export interface AuditEdit {
  qid: string;
  changes: AuditChange[];
  /** Changes left out past {@link AUDIT_CHANGES}. */
  more?: number;
}

/** One line of the audit log: who did what to the quarantine, when, with which filter, and how it went. */
export interface AuditEntry {
  id: string;
  at: string;
  by: string;
  role: string;
  /** `read`: sensitive fields seen unmasked (lib/quarantine/read-audit.ts). */
  action: 'redrive' | 'discard' | 'export' | 'read';
  /** What the action was applied to: one record, a selection, or every record matching a filter. */
  selection: 'one' | 'selected' | 'filter';
  filter?: Record<string, string>;
  /** The records named (one or selected), up to {@link AUDIT_QIDS}; a filter's records are in the job's outcomes. */
  qids?: string[];
  /** Records named past {@link AUDIT_QIDS}. */
  qidsMore?: number;
  /** Records asked for (for an export: records written). */
  requested: number;
  counts: Record<string, number>;
  job?: string;
  status?: string;
  /** Discard reason, export format… */
  note?: string;
  /** The fixes a re-drive carried, as diffs (sensitive values masked), up to {@link AUDIT_EDITS} records. */
  edits?: AuditEdit[];
  editsMore?: number;
  /** A read: the page or API, and what on it (a record id, a filter, a shard). */
  surface?: string;
  subject?: string;
}

export const AUDIT_QIDS = 100;
export const AUDIT_EDITS = 50;
export const AUDIT_CHANGES = 50;
const VALUE_CHARS = 200;

const isPlainObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** The records an entry names, capped so one entry stays small however large the selection. */
export function namedRecords(qids: readonly string[]): Pick<AuditEntry, 'qids' | 'qidsMore'> {
  return {
    qids: qids.slice(0, AUDIT_QIDS),
    ...(qids.length > AUDIT_QIDS ? { qidsMore: qids.length - AUDIT_QIDS } : {}),
  };
}

const at = (doc: unknown, path: readonly (string | number)[]): unknown => compilePointer(encodePointer(path))(doc);

/** A value small enough for an audit line: long values keep their first characters as JSON text. */
function brief(v: unknown): unknown {
  if (v === undefined) return undefined;
  const text = JSON.stringify(v);
  return text.length > VALUE_CHARS ? `${text.slice(0, VALUE_CHARS - 1)}…` : v;
}

function jsonOf(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: parseJson(text) };
  } catch {
    return { ok: false };
  }
}

/**
 * What a fix changed, field by field (microdiff over the parsed events). Values come from the masked events, so an
 * audit line never holds a card number or a name in full, even for an operator's edit; a change to a sensitive field
 * still shows, by its path. A side that is not JSON is one whole-event change; a value whose sensitive fields cannot be
 * located (no known type, not an object) is withheld.
 */
export function fixDiff(
  masker: Masker | undefined,
  before: { type?: string; event: string },
  after: { type?: string; event: string },
): Omit<AuditEdit, 'qid'> {
  const changes: AuditChange[] = [];
  if (before.type !== after.type) changes.push({ op: 'replace', path: '(type)', from: before.type, to: after.type });
  const a = jsonOf(before.event);
  const b = jsonOf(after.event);
  // Each side is masked as its own type, else as the other side's (a fix that names the type an unknown_type record
  // lacked); an array is masked element by element. What cannot be located that way is withheld whole.
  const mask = (own: string | undefined, other: string | undefined, v: unknown): unknown => {
    const type = masker?.knows(own) ? own : masker?.knows(other) ? other : undefined;
    if (!masker || !type) return WITHHELD;
    if (Array.isArray(v)) return v.map((x) => (isPlainObject(x) ? masker.maskData(type, x) : WITHHELD));
    return isPlainObject(v) ? masker.maskData(type, v) : WITHHELD;
  };
  if (a.ok && b.ok) {
    // A value the masked side no longer has at its path sat inside something withheld whole.
    const shown = (masked: unknown, plain: unknown, path: (string | number)[]) => {
      const v = at(masked, path);
      return v === undefined && at(plain, path) !== undefined ? WITHHELD : brief(v);
    };
    const ma = mask(before.type, after.type, a.value);
    const mb = mask(after.type, before.type, b.value);
    for (const d of diff({ v: a.value }, { v: b.value })) {
      const path = d.path.slice(1);
      const op = d.type === 'CREATE' ? 'add' : d.type === 'REMOVE' ? 'remove' : 'replace';
      changes.push({
        op,
        path: encodePointer(path) || '/',
        ...(op !== 'add' ? { from: shown(ma, a.value, path) } : {}),
        ...(op !== 'remove' ? { to: shown(mb, b.value, path) } : {}),
      });
    }
  } else if (before.event !== after.event) {
    const side = (s: typeof a, own: string | undefined, other: string | undefined, text: string) =>
      s.ok ? brief(mask(own, other, s.value)) : `(${text.length} characters, not JSON)`;
    changes.push({
      op: 'replace',
      path: '/',
      from: side(a, before.type, after.type, before.event),
      to: side(b, after.type, before.type, after.event),
    });
  }
  return {
    changes: changes.slice(0, AUDIT_CHANGES),
    ...(changes.length > AUDIT_CHANGES ? { more: changes.length - AUDIT_CHANGES } : {}),
  };
}

/**
 * Writes an audit entry under `audit/` in the quarantine bucket, keyed newest first; writing the same entry again
 * (a job's start, then its end) replaces it. A filter's search text is never written (lib/quarantine/filter.ts
 * withheldSearch): every signed-in user can read the log.
 */
export async function writeAudit(s3: S3Client, bucket: string, entry: AuditEntry): Promise<void> {
  await putJson(s3, bucket, newestFirstKey(QUARANTINE_PREFIX.audit, entry.at, entry.id), withSearchWithheld(entry));
}

/** What the audit log is asked for: the newest `limit` entries that match every filter given. */
export interface AuditQuery {
  limit?: number;
  action?: AuditEntry['action'];
  /** Who, case-insensitive, as a part of the name. */
  by?: string;
  /** A record's qid: entries that name it, and the jobs whose outcomes include it. */
  record?: string;
  job?: string;
  /** Inclusive lower and exclusive upper bound on the entry's time (ISO-8601). */
  from?: string;
  to?: string;
}

export interface AuditPage {
  entries: AuditEntry[];
  /** Entries read to answer. */
  scanned: number;
  /** The scan stopped at {@link AUDIT_SCAN} entries before the log's end, with fewer than `limit` found. */
  truncated: boolean;
}

/** The window of a read line: one per reader, surface and subject, keyed by the window's start (read-audit.ts). */
export const READ_WINDOW_MS = 15 * 60_000;

/** Most entries one request reads while filtering (the time bounds narrow the listing first, for free). */
export const AUDIT_SCAN = 5000;

/**
 * The newest audit entries matching a query, newest first. The time bounds are read off the keys (newest first by
 * time); the other filters need the entries, which are read newest first in batches until `limit` match.
 * `jobsOf(qid)` names the jobs whose ledger holds the record (the quarantine index knows), so a record filter finds
 * the filter re-drives that reached it too.
 */
export async function listAudit(
  s3: S3Client,
  bucket: string,
  q: AuditQuery = {},
  jobsOf: (qid: string) => ReadonlySet<string> = () => new Set(),
): Promise<AuditPage> {
  const limit = Math.max(1, q.limit ?? 100);
  const fromMs = q.from ? Date.parse(q.from) : Number.NEGATIVE_INFINITY;
  // A read line's key holds the start of its 15-minute window, up to 15 minutes before its time: the lower bound on
  // keys is widened by one window (the entries' own times decide).
  const toMs = q.to ? Date.parse(q.to) : Number.POSITIVE_INFINITY;
  const keys = (await listAll(s3, bucket, QUARANTINE_PREFIX.audit))
    .map((o) => o.Key!)
    .filter((k) => {
      const t = newestFirstTime(QUARANTINE_PREFIX.audit, k);
      return t === undefined || (t >= fromMs - READ_WINDOW_MS && t < toMs);
    })
    .sort();
  const jobs = q.record ? jobsOf(q.record) : new Set<string>();
  const by = q.by?.toLowerCase();
  const matches = (e: AuditEntry): boolean => {
    const t = Date.parse(e.at);
    if (t < fromMs || t >= toMs) return false;
    if (q.action && e.action !== q.action) return false;
    if (by && !e.by.toLowerCase().includes(by)) return false;
    if (q.job && e.job !== q.job && e.id !== q.job) return false;
    if (q.record) {
      const named = e.qids?.includes(q.record) || e.subject === q.record;
      const ran = (e.job && jobs.has(e.job)) || (e.action === 'discard' && jobs.has(`discard-${e.id}`));
      if (!named && !ran) return false;
    }
    return true;
  };
  const filtering = !!(q.action || by || q.job || q.record);
  const out: AuditEntry[] = [];
  let scanned = 0;
  const read = async (slice: string[]) => {
    scanned += slice.length;
    const entries = await mapLimit(slice, 16, async (Key) => {
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
      return JSON.parse(await res.Body!.transformToString()) as AuditEntry;
    });
    out.push(...entries.filter(matches));
  };
  const batch = filtering ? 64 : limit;
  while (out.length < limit && scanned < keys.length && scanned < AUDIT_SCAN)
    await read(keys.slice(scanned, Math.min(scanned + batch, AUDIT_SCAN)));
  // A read line's key holds the start of its 15-minute window, so a line newer than the oldest one taken can sit in
  // a key after the cut: the keys of that window are read too before the newest `limit` are kept.
  if (out.length >= limit) {
    const oldest = Math.min(...out.map((e) => Date.parse(e.at)));
    const more: string[] = [];
    for (const k of keys.slice(scanned)) {
      const t = newestFirstTime(QUARANTINE_PREFIX.audit, k);
      if (t === undefined || t < oldest - READ_WINDOW_MS) break;
      more.push(k);
    }
    if (more.length) await read(more);
  }
  out.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  return {
    entries: out.slice(0, limit),
    scanned,
    truncated: out.length < limit && scanned >= AUDIT_SCAN && scanned < keys.length,
  };
}
