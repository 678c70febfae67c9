// About 300 lines: one class, the in-memory index of the quarantine bucket and its ledger; filtering is filter.ts.
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { listAll, readJsonl } from '../aws/s3.ts';
import { mapLimit } from '../util/concurrency.ts';
import { QuarantineNotFoundError } from './errors.ts';
import { type Filterable, matches, type QuarantineFilter, type QuarantineStatus } from './filter.ts';
import type { QuarantineRecord } from './record.ts';
import type { FieldError } from '../registry/registry.ts';

/**
 * Prefixes of the quarantine bucket: the records, the ledger of what happened to them, jobs, the audit log and the
 * re-drive claims (one object per record a job is sending or has sent, lib/quarantine/claims.ts).
 */
export const QUARANTINE_PREFIX = {
  records: 'records/',
  ledger: 'ledger/',
  jobs: 'jobs/',
  audit: 'audit/',
  claims: 'claims/',
} as const;

/**
 * One line of the ledger (`ledger/dt=YYYY-MM-DD/<job>-<n>.jsonl.gz`): what a job did to one quarantined record.
 * `accepted` (back on the stream) and `failed` (quarantined again as `new_qid`) make the record `redriven`;
 * `discarded` makes it `discarded`; `skipped` (not open when the job reached it) and `error` (the stream refused it after
 * retries) leave its status as it was.
 */
export interface LedgerEntry {
  qid: string;
  id: string;
  job: string;
  action: 'redrive' | 'discard';
  outcome: 'accepted' | 'failed' | 'skipped' | 'error' | 'discarded';
  at: string;
  by: string;
  reason?: string;
  errors?: FieldError[];
  new_qid?: string;
  shard_id?: string;
  sequence_number?: string;
}

/** A quarantined record as the console sees it: where it is stored, its stable id (`qid`) and its status. */
export interface QuarantineEntry {
  /** Stable, URL-safe id of this line of this object (a record id can repeat: the same event rejected twice). */
  qid: string;
  key: string;
  line: number;
  record: QuarantineRecord;
  status: QuarantineStatus;
  /** The ledger line that set the status (absent while open and never touched). */
  last?: LedgerEntry;
}

/** The qid of line `line` of object `key`. */
export function qidOf(key: string, line: number): string {
  return `${createHash('sha256').update(key).digest('base64url').slice(0, 16)}.${line}`;
}

interface Indexed extends QuarantineEntry {
  /** Lower-cased payload + error paths and messages, built on the first text search. */
  haystack?: string;
}

function statusOf(l: LedgerEntry | undefined): QuarantineStatus | undefined {
  if (!l) return undefined;
  if (l.outcome === 'discarded') return 'discarded';
  if (l.outcome === 'accepted' || l.outcome === 'failed') return 'redriven';
  return undefined;
}

export interface QuarantinePage {
  total: number;
  offset: number;
  limit: number;
  items: QuarantineEntry[];
  /** When the index last listed the bucket. */
  refreshedAt: string;
}

/** Every quarantined record whatever its status, per stage, reason and type, and the objects holding them. */
export interface QuarantineTotals {
  objects: number;
  records: number;
  byStage: Record<string, number>;
  byReason: Record<string, number>;
  byType: Record<string, number>;
}

export interface QuarantineCounts {
  open: number;
  redriven: number;
  discarded: number;
  byType: Record<string, number>;
  byStage: Record<string, number>;
  byReason: Record<string, number>;
}

/**
 * An in-memory index of the quarantine bucket: every record line with its status from the ledger. It lists the
 * bucket and reads only objects it has not seen (objects are immutable once written: a retried batch rewrites the same
 * bytes), so a refresh costs a listing, and a list request is a scan of memory — fast at 100k records. Jobs in the same
 * process apply their ledger lines directly, so the console sees its own changes at once.
 */
export class QuarantineIndex {
  readonly #s3: S3Client;
  readonly #bucket: string;
  /** key → its entries, for the objects already read. */
  readonly #objects = new Map<string, Indexed[]>();
  readonly #ledgerKeys = new Set<string>();
  readonly #byQid = new Map<string, Indexed>();
  /** Ledger lines for records not (yet) indexed: a ledger can be read before the object a job re-quarantined into. */
  readonly #pendingLedger = new Map<string, LedgerEntry>();
  readonly #byJob = new Map<string, LedgerEntry[]>();
  readonly #byJobQid = new Map<string, Map<string, LedgerEntry>>();
  #sorted: Indexed[] = [];
  #dirty = false;
  #refreshing: Promise<void> | undefined;
  #refreshedAt = 0;

  constructor(s3: S3Client, bucket: string) {
    this.#s3 = s3;
    this.#bucket = bucket;
  }

  get bucket(): string {
    return this.#bucket;
  }

  get size(): number {
    return this.#byQid.size;
  }

  /** Re-lists the bucket when the last listing is older than `maxAgeMs`; concurrent callers share one refresh. */
  async ensureFresh(maxAgeMs = 2000): Promise<void> {
    if (Date.now() - this.#refreshedAt <= maxAgeMs) return;
    await this.refresh();
  }

  /** Lists the records and the ledger and reads what is new. */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #refresh(): Promise<void> {
    const started = Date.now();
    const [records, ledger] = await Promise.all([
      listAll(this.#s3, this.#bucket, QUARANTINE_PREFIX.records),
      listAll(this.#s3, this.#bucket, QUARANTINE_PREFIX.ledger),
    ]);
    const listed = new Set(records.map((o) => o.Key!));
    for (const key of [...this.#objects.keys()]) if (!listed.has(key)) this.#dropObject(key);
    const newRecords = records.filter((o) => !this.#objects.has(o.Key!));
    const loaded = await mapLimit(newRecords, 16, async (o) => ({
      key: o.Key!,
      records: await readJsonl<QuarantineRecord>(this.#s3, this.#bucket, o.Key!),
    }));
    for (const { key, records: recs } of loaded) this.addObject(key, recs);
    const newLedger = ledger.filter((o) => !this.#ledgerKeys.has(o.Key!));
    const ledgerLines = await mapLimit(newLedger, 16, async (o) => ({
      key: o.Key!,
      lines: await readJsonl<LedgerEntry>(this.#s3, this.#bucket, o.Key!),
    }));
    for (const { key, lines } of ledgerLines) this.applyLedger(key, lines);
    this.#refreshedAt = started;
  }

  #dropObject(key: string): void {
    for (const e of this.#objects.get(key) ?? []) this.#byQid.delete(e.qid);
    this.#objects.delete(key);
    this.#dirty = true;
  }

  /** Adds the records of one quarantine object (idempotent per key). */
  addObject(key: string, records: QuarantineRecord[]): QuarantineEntry[] {
    if (this.#objects.has(key)) return this.#objects.get(key)!;
    const entries: Indexed[] = records.map((record, line) => {
      const qid = qidOf(key, line);
      const e: Indexed = { qid, key, line, record, status: 'open' };
      const pending = this.#pendingLedger.get(qid);
      if (pending) {
        this.#pendingLedger.delete(qid);
        this.#setLedger(e, pending);
      }
      return e;
    });
    this.#objects.set(key, entries);
    for (const e of entries) this.#byQid.set(e.qid, e);
    this.#dirty = true;
    return entries;
  }

  #setLedger(e: Indexed, l: LedgerEntry): void {
    const next = statusOf(l);
    // A status once set by an accepted/failed/discarded line is final; skipped/error lines are kept only as "last".
    if (next) {
      if (e.status !== 'open' && e.last && statusOf(e.last) && e.last.at > l.at) return;
      e.status = next;
      e.last = l;
    } else if (e.status === 'open') {
      e.last = l;
    }
  }

  /** Applies the lines of one ledger object (idempotent per key). */
  applyLedger(key: string, lines: LedgerEntry[]): void {
    if (this.#ledgerKeys.has(key)) return;
    this.#ledgerKeys.add(key);
    for (const l of lines) {
      let job = this.#byJob.get(l.job);
      if (!job) this.#byJob.set(l.job, (job = []));
      job.push(l);
      let byQid = this.#byJobQid.get(l.job);
      if (!byQid) this.#byJobQid.set(l.job, (byQid = new Map()));
      byQid.set(l.qid, l);
      const e = this.#byQid.get(l.qid);
      if (e) this.#setLedger(e, l);
      else this.#pendingLedger.set(l.qid, l);
    }
  }

  #all(): Indexed[] {
    if (this.#dirty) {
      this.#sorted = [...this.#byQid.values()].sort(
        (a, b) =>
          (a.record.quarantined_at < b.record.quarantined_at
            ? 1
            : a.record.quarantined_at > b.record.quarantined_at
              ? -1
              : 0) ||
          (a.key < b.key ? 1 : a.key > b.key ? -1 : 0) ||
          a.line - b.line,
      );
      this.#dirty = false;
    }
    return this.#sorted;
  }

  /** The entry of a qid; throws {@link QuarantineNotFoundError}. */
  get(qid: string): QuarantineEntry {
    const e = this.#byQid.get(qid);
    if (!e) throw new QuarantineNotFoundError(`Quarantined record ${JSON.stringify(qid)}`);
    return e;
  }

  has(qid: string): boolean {
    return this.#byQid.has(qid);
  }

  /** Newest-first page of the records matching a filter, with the total number of matches. */
  list(
    filter: QuarantineFilter,
    page: { offset?: number; limit?: number } = {},
    haystack?: (e: Filterable) => string,
  ): QuarantinePage {
    const offset = Math.max(0, Math.floor(page.offset ?? 0));
    const limit = Math.min(500, Math.max(1, Math.floor(page.limit ?? 50)));
    const q = filter.q?.toLowerCase();
    const items: QuarantineEntry[] = [];
    let total = 0;
    for (const e of this.#all()) {
      if (!matches(e, filter, q, haystack)) continue;
      if (total >= offset && items.length < limit) items.push(e);
      total++;
    }
    return { total, offset, limit, items, refreshedAt: new Date(this.#refreshedAt).toISOString() };
  }

  /** Every match, newest first (re-drive all matching, export). */
  *matching(filter: QuarantineFilter): Generator<QuarantineEntry> {
    const q = filter.q?.toLowerCase();
    // A snapshot: jobs change statuses while a caller iterates.
    for (const e of [...this.#all()]) if (matches(e, filter, q)) yield e;
  }

  /** Records per status, and open records per type, stage and reason (the backlog). */
  counts(): QuarantineCounts {
    const c: QuarantineCounts = { open: 0, redriven: 0, discarded: 0, byType: {}, byStage: {}, byReason: {} };
    for (const e of this.#byQid.values()) {
      c[e.status]++;
      if (e.status !== 'open') continue;
      const t = e.record.type ?? '(none)';
      c.byType[t] = (c.byType[t] ?? 0) + 1;
      c.byStage[e.record.stage] = (c.byStage[e.record.stage] ?? 0) + 1;
      c.byReason[e.record.reason] = (c.byReason[e.record.reason] ?? 0) + 1;
    }
    return c;
  }

  /** Every record whatever its status (what the bucket holds, for `tributary status` and the Overview). */
  totals(): QuarantineTotals {
    const t: QuarantineTotals = { objects: this.#objects.size, records: 0, byStage: {}, byReason: {}, byType: {} };
    for (const e of this.#byQid.values()) {
      t.records++;
      t.byStage[e.record.stage] = (t.byStage[e.record.stage] ?? 0) + 1;
      t.byReason[e.record.reason] = (t.byReason[e.record.reason] ?? 0) + 1;
      const type = e.record.type ?? '(unknown)';
      t.byType[type] = (t.byType[type] ?? 0) + 1;
    }
    return t;
  }

  /** Ledger lines of one job, in the order the job wrote them (per-record outcomes). */
  outcomesOf(job: string): LedgerEntry[] {
    return this.#byJob.get(job) ?? [];
  }

  /** The jobs (re-drives, and discards as `discard-<id>`) whose ledger holds a line for the record. */
  jobsOf(qid: string): Set<string> {
    const out = new Set<string>();
    for (const [job, lines] of this.#byJobQid) if (lines.has(qid)) out.add(job);
    return out;
  }

  /** The ledger line a job wrote for one record, if it has written one (a resumed job does not redo that record). */
  outcomeOf(job: string, qid: string): LedgerEntry | undefined {
    return this.#byJobQid.get(job)?.get(qid);
  }
}
