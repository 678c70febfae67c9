import { TributaryError } from '../errors.ts';

/**
 * Errors of the query service. Each carries the HTTP status the console answers with, so a route maps any of them
 * with one `instanceof QueryError`. The base class is a conflict with the query's state (409): not finished yet, failed,
 * cancelled, or held by another process.
 */
export class QueryError extends TributaryError {
  constructor(code: string, message: string, status = 409) {
    super(code, message, { status });
  }
}

/** A query the guards refuse to run (not one read-only SELECT, too long, scans too much, bad parameter): 400. */
export class QueryRefusedError extends QueryError {
  constructor(code: string, message: string) {
    super(code, message, 400);
  }
}

/** The signed-in role may not do this (a viewer asking to lift the scan guard): 403. */
export class QueryForbiddenError extends QueryError {
  constructor(message: string) {
    super('forbidden', message, 403);
  }
}

/** No such query, saved query or stored result: 404. */
export class QueryNotFoundError extends QueryError {
  constructor(code: 'unknown_query' | 'unknown_saved_query' | 'no_results', message: string) {
    super(code, message, 404);
  }
}
