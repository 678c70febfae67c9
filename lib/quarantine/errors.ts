import { TributaryError } from '../errors.ts';

/**
 * Errors of the quarantine module (browse, re-drive, discard, export). Codes: `bad_filter`, `bad_request`,
 * `not_found`, `unknown_job`, `export_disabled`, `forbidden`.
 */
export class QuarantineError extends TributaryError {}

/** The caller asked for something the module cannot do as asked (bad filter, missing discard reason…). */
export class QuarantineRequestError extends QuarantineError {
  constructor(message: string) {
    super('bad_request', message);
  }
}

/** A record or job id that does not exist (or no longer does). */
export class QuarantineNotFoundError extends QuarantineError {
  constructor(what: string) {
    super('not_found', `${what} was not found; it may have been removed, or the id is mistyped.`);
  }
}

/** The signed-in role may not do this (re-drive, discard and export need `operator`), or it is switched off. */
export class QuarantineForbiddenError extends QuarantineError {
  constructor(code: 'forbidden' | 'export_disabled', message: string) {
    super(code, message);
  }
}
