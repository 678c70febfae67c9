// No imports: the console's client code reads WITHHELD_SEARCH too.

/** The parameter that stands for a withheld search in a filter as it is shown: the search's length in characters. */
export const WITHHELD_SEARCH = 'qWithheld';

/**
 * A filter's parameters with the search text withheld, as the audit log keeps them and a viewer sees a job's: the text
 * is whatever an operator typed (a card number or a name as often as an error path), and the log is readable by every
 * signed-in user. Its length stays, so the line still says that a search narrowed the filter.
 */
export function withheldSearch(params: Record<string, string>): Record<string, string> {
  const { q, ...rest } = params;
  return q === undefined ? rest : { ...rest, [WITHHELD_SEARCH]: String([...q].length) };
}

/** `x` with its filter's search text withheld ({@link withheldSearch}); `x` itself when it has no filter. */
export function withSearchWithheld<T extends { filter?: Record<string, string> }>(x: T): T {
  return x.filter ? { ...x, filter: withheldSearch(x.filter) } : x;
}
