import { TributaryError } from '../errors.ts';

/**
 * Errors of the console's sign-in and request checks. Each carries the HTTP status the console answers with, so the
 * gate (proxy.ts) and the sign-in route map any of them with one `instanceof ConsoleAuthError`.
 */
export class ConsoleAuthError extends TributaryError {
  constructor(
    code: string,
    message: string,
    status: number,
    /** Seconds to wait before trying again (429, 503), sent as `Retry-After`. */
    readonly retryAfterS?: number,
  ) {
    super(code, message, { status });
  }
}

/** A sign-in or state-changing request whose body or content type is not one the route reads: 400 or 415. */
export class BadConsoleRequestError extends ConsoleAuthError {
  constructor(code: 'bad_content_type' | 'bad_body' | 'body_too_large', message: string, status = 400) {
    super(code, message, status);
  }
}

/** A state-changing request from another site (no `Origin`, or one that is not the console's): 403. */
export class CrossSiteRequestError extends ConsoleAuthError {
  constructor(message: string) {
    super('cross_site', message, 403);
  }
}

/** Too many failed sign-ins from this client, or from everyone: 429 with `Retry-After`. */
export class SignInThrottledError extends ConsoleAuthError {
  constructor(
    readonly scope: 'client' | 'global',
    retryAfterS: number,
  ) {
    super(
      'throttled',
      scope === 'client'
        ? `Too many failed sign-ins from this address. Try again in ${retryAfterS} s.`
        : `Too many failed sign-ins to this console from all addresses; sign-in is paused. Try again in ${retryAfterS} s.`,
      429,
      retryAfterS,
    );
  }
}

/** The console's state (sessions, sign-in counters) could not be read or written: 503, try again. */
export class ConsoleStateUnavailableError extends ConsoleAuthError {
  constructor(what: string, cause: unknown) {
    super(
      'state_unavailable',
      `The console could not ${what} (its state in S3 did not answer: ${cause instanceof Error ? cause.message : String(cause)}). Try again in a few seconds.`,
      503,
      5,
    );
  }
}

/** The password matches no role: 401. */
export class WrongPasswordError extends ConsoleAuthError {
  constructor() {
    super('bad_password', 'Wrong password.', 401);
  }
}
