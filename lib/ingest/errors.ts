import { TributaryError } from '../errors.ts';

/** Errors of the ingest API; each carries the HTTP status it maps to. */
export class IngestError extends TributaryError {
  constructor(
    code: string,
    message: string,
    readonly statusCode: number,
  ) {
    super(code, message);
  }
}

export class UnauthorizedError extends IngestError {
  constructor() {
    super('unauthorized', 'Missing or wrong x-api-key header. Send the key printed by `tributary dev` (or TRIBUTARY_API_KEY).', 401);
  }
}

export class MalformedBodyError extends IngestError {
  constructor(message: string) {
    super('malformed_json', message, 400);
  }
}

export class PayloadTooLargeError extends IngestError {
  constructor(message: string) {
    super('too_large', message, 413);
  }
}
