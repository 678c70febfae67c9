import { TributaryError } from '../errors.ts';
import type { FieldError } from '../registry/registry.ts';

/**
 * A request body (or a re-driven event) that cannot become events: the sender's fault, with the HTTP status it maps
 * to. Ingest answers with it; re-drive turns it into the event's quarantine reason.
 */
export class BodyError extends TributaryError {
  constructor(code: 'malformed_json' | 'unsupported_media_type' | 'too_large', message: string, status: number) {
    super(code, message, { status });
  }
}

export class MalformedBodyError extends BodyError {
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

export class UnsupportedMediaTypeError extends BodyError {
  constructor(message: string) {
    super('unsupported_media_type', message, 415);
  }
}

export class PayloadTooLargeError extends BodyError {
  constructor(message: string) {
    super('too_large', message, 413);
  }
}
