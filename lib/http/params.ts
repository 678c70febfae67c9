import { TributaryError } from '../errors.ts';

/** A query-string parameter that is not what the route reads: 400, naming the parameter and what it takes. */
export class BadParameterError extends TributaryError {
  constructor(name: string, message: string) {
    super('bad_parameter', `${name}: ${message}`, { status: 400 });
  }
}

/** The range and default of an integer parameter. */
export interface IntRange {
  /** Used when the parameter is absent or empty. */
  fallback: number;
  min: number;
  max: number;
}

/**
 * An integer query-string parameter (`limit`, `offset`, `latest`, …): the fallback when absent or empty, held to
 * `[min, max]` when outside (asking for more than a page holds gets a full page), and refused when it is not an
 * integer at all.
 *
 * @throws BadParameterError (400) for a value that is not an integer.
 * @example
 * const limit = intParam(url.searchParams, 'limit', { fallback: 50, min: 1, max: 200 });
 */
export function intParam(params: URLSearchParams, name: string, range: IntRange): number {
  const raw = params.get(name);
  if (raw === null || raw.trim() === '') return range.fallback;
  const n = Number(raw);
  if (!Number.isInteger(n))
    throw new BadParameterError(
      name,
      `must be a whole number from ${range.min} to ${range.max}, not ${JSON.stringify(raw.slice(0, 40))}.`,
    );
  return Math.min(range.max, Math.max(range.min, n));
}

/** `offset` of a paged list: from 0, no upper bound a client could trip over. */
export const OFFSET: IntRange = { fallback: 0, min: 0, max: Number.MAX_SAFE_INTEGER };
