import { TributaryError } from '../errors.ts';

/** Machine-readable codes of the quarantine module's errors (API bodies, `--json` output). */
export type QuarantineErrorCode = 'bad_request' | 'not_found' | 'forbidden' | 'export_disabled' | 'job_failed';

/** Errors of the quarantine module (browse, re-drive, discard, export); each carries the HTTP status it maps to. */
export class QuarantineError extends TributaryError {
  declare readonly code: QuarantineErrorCode;

  constructor(code: QuarantineErrorCode, message: string, status: number) {
    super(code, message, { status });
  }
}

/** The caller asked for something the module cannot do as asked (bad filter, missing discard reason…). */
export class QuarantineRequestError extends QuarantineError {
  constructor(message: string) {
    super('bad_request', message, 400);
  }
}

/** A record or job id that does not exist (or no longer does). */
export class QuarantineNotFoundError extends QuarantineError {
  constructor(what: string) {
    super('not_found', `${what} was not found; it may have been removed, or the id is mistyped.`, 404);
  }
}

/** The signed-in role may not do this (re-drive, discard and export need `operator`), or it is switched off. */
export class QuarantineForbiddenError extends QuarantineError {
  constructor(code: 'forbidden' | 'export_disabled', message: string) {
    super(code, message, 403);
  }
}

/**
 * A re-drive job ended in this worker invocation without delivering: it stopped on an error, or the stream refused
 * records (its state, already saved, says which). The worker throws it so the invocation counts as failed and the
 * worker's error alarm fires; nothing is retried by it.
 */
export class RedriveJobFailedError extends QuarantineError {
  constructor(
    readonly job: string,
    message: string,
  ) {
    super('job_failed', `Re-drive job ${job} failed: ${message}`, 500);
  }
}
