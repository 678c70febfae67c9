// Over 300 lines on purpose: one class, the re-drive job scheduler (start, pacing, cancel polling, resume across
// invocations, settling jobs a dead process left running), whose steps all read and write the same job state. The
// per-chunk work is redrive.ts; claims, ledger and preparing an event have files of their own.
import { getJsonOrNull, listAll, putJson } from '../aws/s3.ts';
import { errorMessage } from '../errors.ts';
import { newId } from '../ids.ts';
import { mapLimit } from '../util/concurrency.ts';
import { WindowRateLimiter } from '../util/rate.ts';
import { type Actor, requireOperator } from './access.ts';
import { AUDIT_EDITS, type AuditEdit, type AuditEntry, fixDiff, namedRecords, writeAudit } from './audit.ts';
import { QuarantineNotFoundError, QuarantineRequestError } from './errors.ts';
import { type LedgerEntry, QUARANTINE_PREFIX } from './quarantine-index.ts';
import type { QuarantineFilter } from './filter.ts';
import type { QuarantineDeps } from './deps.ts';
import { redriveChunk, streamRecordLimit } from './redrive.ts';
import { type RecordFix, redriveSource } from './redrive-prepare.ts';
import { Masker } from '../masking.ts';
import { selectRecords } from './selection.ts';

export type JobStatus = 'running' | 'succeeded' | 'cancelled' | 'failed' | 'interrupted';

/** A re-drive job's progress, persisted at `jobs/<id>.json` in the quarantine bucket while it runs. */
export interface JobState {
  id: string;
  kind: 'redrive';
  by: string;
  selection: AuditEntry['selection'];
  filter?: Record<string, string>;
  status: JobStatus;
  total: number;
  processed: number;
  accepted: number;
  failed: number;
  skipped: number;
  errors: number;
  /** Records per second the job keeps to. */
  rate: number;
  /** Chunks written so far: a resumed job numbers its next objects after them, so names never collide. */
  chunks: number;
  startedAt: string;
  updatedAt: string;
  finishedAt?: string;
  message?: string;
}

export interface RedriveRequest {
  /** The records to re-drive; or, with `filter`, every record matching it (snapshot at start). */
  qids?: string[];
  filter?: QuarantineFilter;
  /** Edited events by qid (the fix editor). */
  fixes?: Record<string, RecordFix>;
  /** Records per second; default 500, never above 1,000 per open shard. */
  rate?: number;
}

/** How re-drive jobs run. */
export interface RedriveJobOptions {
  /** Records per second when a request names none. */
  defaultRate: number;
  /** How stale the index may be before a request re-lists the bucket. */
  maxStaleMs: number;
  /**
   * Runs a started job somewhere else (in AWS: an asynchronous invoke of the re-drive worker, since a console
   * function is frozen once it has answered). Without it, jobs run in this process.
   */
  dispatch?: (jobId: string) => Promise<void>;
}

const TICK_MS = 250;
/** A job whose file says running but has not been updated for this long died with its process. */
const STALE_JOB_MS = 30_000;

interface RunningJob {
  state: JobState;
  qids: string[];
  fixes: Map<string, RecordFix>;
  cancelled: boolean;
  done: Promise<JobState>;
  wake?: () => void;
  /** Stop (still running) at this time, for a worker with a time limit. */
  deadline?: number;
  /** The fixes as diffs for the audit line, worked out once. */
  edits?: Pick<AuditEntry, 'edits' | 'editsMore'>;
}

/** What a job was asked to do, stored beside its state for the process that runs it. */
interface StoredRequest {
  qids: string[];
  fixes: Record<string, RecordFix>;
}

const requestKey = (id: string) => `${QUARANTINE_PREFIX.jobs}${id}.request.json`;
const cancelKey = (id: string) => `${QUARANTINE_PREFIX.jobs}${id}.cancel`;

/** A job's counts from its ledger lines (one line per record it reached). */
function tallyOutcomes(lines: LedgerEntry[]): Pick<JobState, 'accepted' | 'failed' | 'skipped' | 'errors'> {
  const t = { accepted: 0, failed: 0, skipped: 0, errors: 0 };
  for (const l of lines) {
    if (l.outcome === 'accepted') t.accepted++;
    else if (l.outcome === 'failed') t.failed++;
    else if (l.outcome === 'skipped') t.skipped++;
    else if (l.outcome === 'error') t.errors++;
  }
  return t;
}

/**
 * Re-drive jobs: started from a selection, run at a steady rate in chunks (each record claimed before it is sent,
 * lib/quarantine/claims.ts), with progress, cancel (in this process, or by a marker another process polls) and resume
 * from the ledger after a crash. A job's request, state and cancel marker live under `jobs/` in the quarantine bucket,
 * so any process can run, watch or cancel it.
 */
export class RedriveJobs {
  readonly #jobs = new Map<string, RunningJob>();
  readonly #opts: RedriveJobOptions;
  #masker?: Masker;

  constructor(
    readonly deps: QuarantineDeps,
    opts: RedriveJobOptions,
  ) {
    this.#opts = opts;
  }

  /** The job clock (`deps.now`, tests move it): pacing, cancel polling and staleness all read it. */
  #ms(): number {
    return (this.deps.now?.() ?? new Date()).getTime();
  }

  #now(): string {
    return new Date(this.#ms()).toISOString();
  }

  /** Starts a re-drive job and returns its first state; the job runs on in this process (or is dispatched). */
  async start(req: RedriveRequest, actor: Actor): Promise<JobState> {
    requireOperator(actor, 'Re-driving');
    await this.deps.index.ensureFresh(this.#opts.maxStaleMs);
    const { qids, selection, filter } = selectRecords(this.deps.index, req);
    if (!qids.length) throw new QuarantineRequestError('No open records match this filter; nothing to re-drive.');
    const asked = req.rate ?? this.#opts.defaultRate;
    if (!Number.isFinite(asked) || asked < 1)
      throw new QuarantineRequestError(`Rate must be at least 1 record per second; got ${asked}.`);
    const limit = await streamRecordLimit(this.deps.kinesis, this.deps.streamName);
    const rate = Math.min(Math.floor(asked), limit);
    const fixes = new Map(Object.entries(req.fixes ?? {}).filter(([q]) => qids.includes(q)));
    const now = this.#now();
    const state: JobState = {
      id: newId(),
      kind: 'redrive',
      by: actor.by,
      selection,
      ...(filter ? { filter } : {}),
      status: 'running',
      total: qids.length,
      processed: 0,
      accepted: 0,
      failed: 0,
      skipped: 0,
      errors: 0,
      rate,
      chunks: 0,
      startedAt: now,
      updatedAt: now,
      ...(rate < asked
        ? { message: `Rate capped at ${rate}/s: the stream's open shards accept ${limit} records/s.` }
        : {}),
    };
    // The request is stored first, so whichever process runs the job (this one, or a worker) can read it.
    await putJson(this.deps.s3, this.deps.bucket, requestKey(state.id), {
      qids,
      fixes: Object.fromEntries(fixes),
    } satisfies StoredRequest);
    const job: RunningJob = { state, qids, fixes, cancelled: false, done: Promise.resolve(state) };
    if (this.#opts.dispatch) {
      await this.#persist(job);
      await this.#opts.dispatch(state.id);
      return { ...state };
    }
    this.#jobs.set(state.id, job);
    await this.#persist(job);
    job.done = this.#run(job);
    return { ...state };
  }

  /**
   * Runs a stored job in this process from where it stopped (the re-drive worker), until it is done, cancelled, or
   * `deadline` (epoch ms) passes — after at least one chunk, so every invocation makes progress; `more` says the caller
   * should run it again to continue.
   */
  async resume(id: string, deadline = Number.POSITIVE_INFINITY): Promise<{ state: JobState; more: boolean }> {
    const state = await getJsonOrNull<JobState>(this.deps.s3, this.deps.bucket, `${QUARANTINE_PREFIX.jobs}${id}.json`);
    const req = await getJsonOrNull<StoredRequest>(this.deps.s3, this.deps.bucket, requestKey(id));
    if (!state || !req) throw new QuarantineNotFoundError(`Job ${JSON.stringify(id)}`);
    if (state.status !== 'running') return { state, more: false };
    await this.deps.index.ensureFresh(0);
    // The state file is written about once a second, the ledger with every chunk: after a crash the ledger is the
    // truth. Chunks re-run from the last saved position pass over the records this job already has an outcome for.
    Object.assign(state, tallyOutcomes(this.deps.index.outcomesOf(id)));
    const job: RunningJob = {
      state,
      qids: req.qids,
      fixes: new Map(Object.entries(req.fixes)),
      cancelled: false,
      done: Promise.resolve(state),
      deadline,
    };
    this.#jobs.set(id, job);
    try {
      const done = await (job.done = this.#run(job));
      return { state: done, more: done.status === 'running' };
    } finally {
      this.#jobs.delete(id);
    }
  }

  async #persist(job: RunningJob): Promise<void> {
    const s = job.state;
    s.updatedAt = this.#now();
    await putJson(this.deps.s3, this.deps.bucket, `${QUARANTINE_PREFIX.jobs}${s.id}.json`, s);
    await writeAudit(this.deps.s3, this.deps.bucket, {
      id: s.id,
      at: s.startedAt,
      by: s.by,
      role: 'operator',
      action: 'redrive',
      selection: s.selection,
      ...(s.filter ? { filter: s.filter } : {}),
      requested: s.total,
      counts: { accepted: s.accepted, failed: s.failed, skipped: s.skipped, errors: s.errors },
      job: s.id,
      status: s.status,
      ...(s.selection !== 'filter' ? namedRecords(job.qids) : {}),
      ...(job.fixes.size ? { note: `${job.fixes.size} edited`, ...(job.edits ??= this.#edits(job.fixes)) } : {}),
    });
  }

  /** What each fix changes in its record, for the audit line (values masked: lib/quarantine/audit.ts). */
  #edits(fixes: Map<string, RecordFix>): Pick<AuditEntry, 'edits' | 'editsMore'> {
    this.#masker ??= new Masker(this.deps.registry);
    const edits: AuditEdit[] = [];
    for (const [qid, fix] of [...fixes].slice(0, AUDIT_EDITS)) {
      const entry = this.deps.index.has(qid) ? this.deps.index.get(qid) : undefined;
      if (!entry) continue;
      const src = redriveSource(entry.record);
      edits.push({ qid, ...fixDiff(this.#masker, src, { type: fix.type ?? src.type, event: fix.event }) });
    }
    // Fixes past the cap, and any whose record this process's index does not hold, are counted, not shown.
    return { edits, ...(fixes.size > edits.length ? { editsMore: fixes.size - edits.length } : {}) };
  }

  async #run(job: RunningJob): Promise<JobState> {
    const s = job.state;
    const perTick = Math.max(1, Math.min(500, Math.round((s.rate * TICK_MS) / 1000)));
    const limiter = new WindowRateLimiter(s.rate);
    let lastPersist = this.#ms();
    let lastStart = 0;
    let lastCancelCheck = this.#ms();
    let first = true;
    const pause = (ms: number) =>
      new Promise<void>((r) => {
        job.wake = r;
        setTimeout(r, ms);
      });
    try {
      while (s.processed < job.qids.length && !job.cancelled) {
        // Every invocation moves the job on by at least one chunk: one whose set-up (the index listing) used up its
        // time would otherwise end with no progress, again and again.
        if (!first && job.deadline !== undefined && this.#ms() >= job.deadline) break;
        const qids = job.qids.slice(s.processed, s.processed + perTick);
        // Evenly spaced chunks (n records every n / rate seconds), and never more than the rate in any one second.
        const wait = Math.max(
          lastStart + (qids.length * 1000) / s.rate - this.#ms(),
          limiter.delayFor(qids.length, this.#ms()),
        );
        if (wait > 0 && !first) await pause(wait);
        first = false;
        // A cancel from another process (the console, while a worker runs the job) is a marker in the bucket.
        if (this.#ms() - lastCancelCheck >= 1000) {
          lastCancelCheck = this.#ms();
          if (await getJsonOrNull(this.deps.s3, this.deps.bucket, cancelKey(s.id))) job.cancelled = true;
        }
        if (job.cancelled) break;
        lastStart = this.#ms();
        const { counts } = await redriveChunk(this.deps, { id: s.id, by: s.by, fixes: job.fixes }, s.chunks++, qids);
        limiter.record(qids.length, this.#ms());
        s.processed += qids.length;
        s.accepted += counts.accepted;
        s.failed += counts.failed;
        s.skipped += counts.skipped;
        s.errors += counts.errors;
        if (this.#ms() - lastPersist >= 1000) {
          await this.#persist(job);
          lastPersist = this.#ms();
        }
      }
      if (!job.cancelled && s.processed < job.qids.length) {
        // Out of time: stays running for the next resume.
        await this.#persist(job);
        return { ...s };
      }
      s.status = job.cancelled ? 'cancelled' : 'succeeded';
    } catch (err) {
      s.status = 'failed';
      s.message = `Stopped after ${s.processed} of ${s.total} records: ${errorMessage(err)}. Records not yet processed stay open; start a new job to continue.`;
    }
    s.finishedAt = this.#now();
    try {
      await this.#persist(job);
    } catch {
      // The ledger already holds every outcome; the job file and audit line are summaries.
    }
    return { ...s };
  }

  /** Asks a running job to stop after its current chunk. */
  async cancel(id: string, actor: Actor): Promise<JobState> {
    requireOperator(actor, 'Cancelling a re-drive');
    const job = this.#jobs.get(id);
    if (job) {
      job.cancelled = true;
      job.wake?.();
      return job.done;
    }
    // Running elsewhere: leave a marker the running process checks every second.
    const state = await getJsonOrNull<JobState>(this.deps.s3, this.deps.bucket, `${QUARANTINE_PREFIX.jobs}${id}.json`);
    if (!state) throw new QuarantineNotFoundError(`Job ${JSON.stringify(id)}`);
    if (state.status === 'running')
      await putJson(this.deps.s3, this.deps.bucket, cancelKey(id), { at: this.#now(), by: actor.by });
    return state;
  }

  /** Waits for a job of this process to finish (CLI, tests). */
  async wait(id: string): Promise<JobState> {
    const job = this.#jobs.get(id);
    if (!job) throw new QuarantineNotFoundError(`Running job ${JSON.stringify(id)}`);
    return job.done;
  }

  /** A job's state and a page of its per-record outcomes. */
  async job(
    id: string,
    page: { offset?: number; limit?: number } = {},
  ): Promise<{ state: JobState; outcomes: LedgerEntry[]; outcomeTotal: number }> {
    const running = this.#jobs.get(id);
    let state = running
      ? { ...running.state }
      : await getJsonOrNull<JobState>(this.deps.s3, this.deps.bucket, `${QUARANTINE_PREFIX.jobs}${id}.json`);
    if (!state) throw new QuarantineNotFoundError(`Job ${JSON.stringify(id)}`);
    state = this.#settle(state);
    if (!running) await this.deps.index.ensureFresh(this.#opts.maxStaleMs);
    const all = this.deps.index.outcomesOf(id);
    const offset = Math.max(0, page.offset ?? 0);
    const limit = Math.min(500, Math.max(1, page.limit ?? 100));
    return { state, outcomes: all.slice(offset, offset + limit), outcomeTotal: all.length };
  }

  #settle(s: JobState): JobState {
    if (s.status === 'running' && !this.#jobs.has(s.id) && this.#ms() - Date.parse(s.updatedAt) > STALE_JOB_MS) {
      return {
        ...s,
        status: 'interrupted',
        message:
          'The process running this job stopped; records not yet processed stay open. Resume the job to finish it; a new job takes over its unfinished records 5 minutes after they were claimed.',
      };
    }
    return s;
  }

  /** The newest jobs (this process's and those persisted by others), newest first. */
  async jobs(limit = 20): Promise<JobState[]> {
    // jobs/ also holds each job's request and cancel marker: only the state files (jobs/<id>.json) are jobs.
    const keys = (await listAll(this.deps.s3, this.deps.bucket, QUARANTINE_PREFIX.jobs))
      .map((o) => o.Key!)
      .filter((k) => /^jobs\/[^/.]+\.json$/.test(k))
      .sort()
      .reverse()
      .slice(0, limit);
    const stored = await mapLimit(keys, 8, (k) => getJsonOrNull<JobState>(this.deps.s3, this.deps.bucket, k));
    const byId = new Map<string, JobState>();
    for (const s of stored) if (s) byId.set(s.id, this.#settle(s));
    for (const j of this.#jobs.values()) byId.set(j.state.id, { ...j.state });
    return [...byId.values()].sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1)).slice(0, limit);
  }
}
