import { TributaryError } from '../errors.ts';

/** Root of the OLTP sink's errors (migrations, the sink, status). */
export class OltpError extends TributaryError {}

/**
 * The database cannot be reached or stopped answering (connection refused, reset, shutdown, timeout). Never the
 * event's fault: the batch fails and is delivered again, nothing is skipped or quarantined.
 */
export class DatabaseUnavailableError extends OltpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('database_unavailable', message, { ...options, status: 503 });
  }
}

/** The database schema is not what this release expects (a changed or unknown migration). */
export class MigrationError extends OltpError {
  constructor(message: string) {
    super('migration_error', message);
  }
}
