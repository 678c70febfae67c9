import type { Actor } from './access.ts';
import { type AuditPage, type AuditQuery, listAudit } from './audit.ts';
import { type DiscardRequest, discardRecords } from './discard.ts';
import { QuarantineForbiddenError } from './errors.ts';
import { type ExportFormat, exportRecords } from './export.ts';
import { type JobState, RedriveJobs, type RedriveRequest } from './jobs.ts';
import type {
  LedgerEntry,
  QuarantineCounts,
  QuarantineEntry,
  QuarantinePage,
  QuarantineTotals,
} from './quarantine-index.ts';
import type { Filterable, QuarantineFilter } from './filter.ts';
import type { QuarantineDeps } from './deps.ts';
import { checkFix, type FixCheck, type RecordFix, type RedriveSource, redriveSource } from './redrive-prepare.ts';
import { selectRecords } from './selection.ts';
import { maskedHaystack } from './masked.ts';
import type { Masker } from '../masking.ts';

export type { Actor } from './access.ts';
export type { ExportFormat } from './export.ts';
export type { JobState, JobStatus, RedriveRequest } from './jobs.ts';

export interface QuarantineOptions {
  defaultRate?: number;
  /** Export can be switched off (TRIBUTARY_CONSOLE_EXPORT=off). */
  exportEnabled?: boolean;
  /** How stale the index may be before a request re-lists the bucket. */
  maxStaleMs?: number;
  /**
   * Runs a started job somewhere else (in AWS: an asynchronous invoke of the re-drive worker, since a console
   * function is frozen once it has answered). Without it, jobs run in this process.
   */
  dispatch?: (jobId: string) => Promise<void>;
}

/**
 * The quarantine as operators use it, one façade over its parts: browse with server-side filters, inspect, check a
 * fix (here), re-drive jobs (jobs.ts), discard with a reason (discard.ts), export every match (export.ts) and the
 * audit log (audit.ts). Everything it records lives in the quarantine bucket, so cloud and local behave alike.
 */
export class QuarantineService {
  readonly deps: QuarantineDeps;
  readonly #maxStaleMs: number;
  readonly #exportEnabled: boolean;
  readonly #jobs: RedriveJobs;

  constructor(deps: QuarantineDeps, opts: QuarantineOptions = {}) {
    this.deps = deps;
    this.#maxStaleMs = opts.maxStaleMs ?? 2000;
    this.#exportEnabled = opts.exportEnabled ?? true;
    this.#jobs = new RedriveJobs(deps, {
      defaultRate: opts.defaultRate ?? 500,
      maxStaleMs: this.#maxStaleMs,
      ...(opts.dispatch ? { dispatch: opts.dispatch } : {}),
    });
  }

  get exportEnabled(): boolean {
    return this.#exportEnabled;
  }

  #now(): string {
    return (this.deps.now?.() ?? new Date()).toISOString();
  }

  /** Newest-first page of records matching a filter (default: open ones). */
  async list(
    filter: QuarantineFilter,
    page: { offset?: number; limit?: number } = {},
    masker?: Masker,
  ): Promise<QuarantinePage> {
    await this.deps.index.ensureFresh(this.#maxStaleMs);
    // A viewer's search looks in the masked payloads only.
    return this.deps.index.list(filter, page, masker ? (e) => maskedHaystack(masker, e as QuarantineEntry) : undefined);
  }

  /** Records per status and the open backlog per type, stage and reason. */
  async counts(): Promise<QuarantineCounts> {
    await this.deps.index.ensureFresh(this.#maxStaleMs);
    return this.deps.index.counts();
  }

  /** Every record whatever its status, per stage, reason and type (the Overview, `tributary status`). */
  async totals(): Promise<QuarantineTotals> {
    await this.deps.index.ensureFresh(this.#maxStaleMs);
    return this.deps.index.totals();
  }

  /** One record with the event a re-drive would send, its schema and its ledger history. */
  async detail(
    qid: string,
  ): Promise<{ entry: QuarantineEntry; source: RedriveSource; schema?: unknown; latestVersion?: number }> {
    await this.deps.index.ensureFresh(this.#maxStaleMs);
    // Without the search's cached haystacks: they are the index's, and hold the payload unmasked.
    const { haystack: _h, maskedHaystack: _m, ...entry } = this.deps.index.get(qid) as QuarantineEntry & Filterable;
    const source = redriveSource(entry.record);
    const { registry } = this.deps;
    if (!source.type || !registry.has(source.type)) return { entry, source };
    const failed = source.v !== undefined ? registry.get(source.type).versions.get(source.v) : undefined;
    const latest = registry.version(source.type);
    return { entry, source, schema: (failed ?? latest).schema, latestVersion: latest.v };
  }

  /**
   * What a re-drive or discard of a selection would act on, for the console's confirmation: how many records, and how
   * many of them would fail validation again if re-driven now (each checked as the re-drive would, with its fix).
   */
  async preview(
    req: RedriveRequest,
  ): Promise<{ records: number; valid: number; invalid: number; reasons: Record<string, number> }> {
    await this.deps.index.ensureFresh(this.#maxStaleMs);
    const { qids } = selectRecords(this.deps.index, req);
    let valid = 0;
    const reasons: Record<string, number> = {};
    for (const qid of qids) {
      const check = checkFix(this.deps.registry, this.deps.index.get(qid).record, req.fixes?.[qid]);
      if (check.valid) valid++;
      else {
        const why = check.errors[0] ? `${check.errors[0].path} ${check.errors[0].message}` : 'invalid';
        reasons[why] = (reasons[why] ?? 0) + 1;
      }
    }
    return { records: qids.length, valid, invalid: qids.length - valid, reasons };
  }

  /** Validates an edited event the way a re-drive would (the editor's live check). */
  async check(qid: string, fix: RecordFix): Promise<FixCheck> {
    await this.deps.index.ensureFresh(this.#maxStaleMs);
    return checkFix(this.deps.registry, this.deps.index.get(qid).record, fix);
  }

  /** Starts a re-drive job and returns its first state (jobs.ts). */
  startRedrive(req: RedriveRequest, actor: Actor): Promise<JobState> {
    return this.#jobs.start(req, actor);
  }

  /** Runs a stored job in this process from where it stopped (the re-drive worker; jobs.ts). */
  resume(id: string, deadline = Number.POSITIVE_INFINITY): Promise<{ state: JobState; more: boolean }> {
    return this.#jobs.resume(id, deadline);
  }

  /** Asks a running job to stop after its current chunk. */
  cancel(id: string, actor: Actor): Promise<JobState> {
    return this.#jobs.cancel(id, actor);
  }

  /** Waits for a job of this process to finish (CLI, tests). */
  wait(id: string): Promise<JobState> {
    return this.#jobs.wait(id);
  }

  /** A job's state and a page of its per-record outcomes. */
  job(
    id: string,
    page: { offset?: number; limit?: number } = {},
  ): Promise<{ state: JobState; outcomes: LedgerEntry[]; outcomeTotal: number }> {
    return this.#jobs.job(id, page);
  }

  /** The newest jobs (this process's and those persisted by others), newest first. */
  jobs(limit = 20): Promise<JobState[]> {
    return this.#jobs.jobs(limit);
  }

  /** Marks records discarded (with a reason, for the audit log); records that are not open are left as they are. */
  async discard(req: DiscardRequest, actor: Actor): Promise<{ discarded: number; skipped: number; audit: string }> {
    await this.deps.index.ensureFresh(this.#maxStaleMs);
    return discardRecords(this.deps, req, actor, this.#now());
  }

  /** Every record matching a filter as JSONL or CSV, in chunks to stream (export.ts); audited when done. */
  async *export(filter: QuarantineFilter, format: ExportFormat, actor: Actor): AsyncGenerator<string> {
    if (!this.#exportEnabled) {
      throw new QuarantineForbiddenError(
        'export_disabled',
        'Export is switched off for this console (TRIBUTARY_CONSOLE_EXPORT=off).',
      );
    }
    await this.deps.index.ensureFresh(this.#maxStaleMs);
    yield* exportRecords(this.deps, filter, format, actor, this.#now());
  }

  /** The newest audit entries matching a query (by action, who, record, job, time). */
  async audit(query: AuditQuery = {}): Promise<AuditPage> {
    if (query.record) await this.deps.index.ensureFresh(this.#maxStaleMs);
    return listAudit(this.deps.s3, this.deps.bucket, query, (qid) => this.deps.index.jobsOf(qid));
  }
}
