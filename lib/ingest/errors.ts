import { TributaryError } from '../errors.ts';

/** Errors of the ingest API; each carries the HTTP status it maps to. */
export class IngestError extends TributaryError {
  constructor(code: 'unauthorized' | 'quarantine_unavailable', message: string, status: number) {
    super(code, message, { status });
  }
}

export class UnauthorizedError extends IngestError {
  constructor() {
    super(
      'unauthorized',
      'Missing or wrong x-api-key header. Send the key printed by `tributary dev` (or TRIBUTARY_API_KEY).',
      401,
    );
  }
}

/** A malformed body that could not be quarantined: nothing of the request was kept, so the client must retry it. */
export class QuarantineUnavailableError extends IngestError {
  constructor(problem: string, cause: unknown) {
    super(
      'quarantine_unavailable',
      `The body was refused (${problem}) but could not be quarantined, so nothing of it was kept; retry the request.`,
      503,
    );
    this.cause = cause;
  }
}
