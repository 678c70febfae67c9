import { TributaryError } from '../errors.ts';
import type { FieldError } from '../registry/registry.ts';

/** Errors of the ingest API; each carries the HTTP status it maps to. */
export class IngestError extends TributaryError {
  constructor(code: string, message: string, status: number) {
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

export class MalformedBodyError extends IngestError {
  constructor(
    message: string,
    /** Where in the body, when the problem has a place (a JSON pointer into the body). */
    readonly errors: FieldError[] = [{ path: '/', keyword: 'json', message }],
  ) {
    super('malformed_json', message, 400);
  }
}

/** A body in an encoding other than UTF-8 text (bytes that are not UTF-8, or a character the gateway put in their place). */
export class EncodingError extends MalformedBodyError {
  constructor(message: string) {
    super(message, [{ path: '/', keyword: 'encoding', message }]);
  }
}

export class UnsupportedMediaTypeError extends IngestError {
  constructor(message: string) {
    super('unsupported_media_type', message, 415);
  }
}

export class PayloadTooLargeError extends IngestError {
  constructor(message: string) {
    super('too_large', message, 413);
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
