import { parse as losslessParse } from 'lossless-json';
import { TributaryError } from '../errors.ts';
import { isWellFormed, toWellFormed } from '../util/unicode.ts';

// An integer literal of 16+ digits may exceed 2^53 and silently lose digits in JSON.parse (card numbers, trip ids).
const LONG_INTEGER = /[:,[]\s*-?[0-9]{16,}\s*[,}\]]/;

const INTEGER_LITERAL = /^-?[0-9]+$/;

/**
 * The one rule for numbers a double cannot hold exactly: an integer literal beyond 2^53 stays as its exact decimal
 * text (schema coercion then treats it as the string the schema wants, and a field that wants a number refuses it
 * instead of storing other digits). Anything written with a fraction or an exponent keeps JSON.parse semantics
 * (nearest double), as every JSON reader downstream does too: `4.99e+18` has no digits to keep, so it stays a number
 * and a field that wants text refuses it rather than taking digits nobody sent.
 */
function parseNumber(text: string): number | string {
  const n = Number(text);
  return INTEGER_LITERAL.test(text) && !Number.isSafeInteger(n) ? text : n;
}

/** Parses JSON keeping integers beyond 2^53 as their exact decimal text. */
export function parseJsonLossless(text: string): unknown {
  return losslessParse(text, null, parseNumber);
}

/**
 * JSON.parse that never loses digits: texts that contain a long integer literal are re-read with lossless-json and any
 * number that a double cannot hold exactly becomes its decimal text. Everything else takes the native fast path.
 */
export function parseJson(text: string): unknown {
  const value = JSON.parse(text);
  if (!LONG_INTEGER.test(text)) return value;
  return parseJsonLossless(text);
}

/**
 * How deep one event may nest objects and arrays (the event's own object is level 1). Far below where recursive steps
 * overflow a default Node stack (V8's JSON.stringify and lossless-json at ~4,100 levels), and half of what Jackson, the
 * JSON reader of most JVM engines, allows by default (`StreamReadConstraints.maxNestingDepth`, 1,000 since 2.15), so
 * the lake line (the envelope adds a level) stays readable.
 */
export const MAX_EVENT_DEPTH = 500;

export type JsonTextProblem = 'json' | 'duplicate' | 'depth' | 'encoding' | 'number';

/** A JSON text {@link parseJsonStrict} refuses, with the JSON pointer of the problem and what to do about it. */
export class JsonTextError extends TributaryError {
  constructor(
    readonly path: string,
    readonly keyword: JsonTextProblem,
    message: string,
  ) {
    super('malformed_json', message);
  }
}

const NOT_UNICODE =
  'has an unpaired surrogate escape (such as \\ud800) and is not Unicode text; send the character itself, or both halves of its surrogate pair.';

const quote = (s: string) => JSON.stringify(toWellFormed(s).slice(0, 64));

/** A problem found by {@link inspect}; each level it unwinds through puts its key in front, which makes the pointer. */
class Problem {
  readonly tokens: (string | number)[] = [];
  constructor(
    readonly keyword: JsonTextProblem,
    readonly message: string,
  ) {}

  toError(): JsonTextError {
    const p = this.tokens
      .map((t) => `/${typeof t === 'number' ? t : toWellFormed(t).replace(/~/g, '~0').replace(/\//g, '~1')}`)
      .join('');
    return new JsonTextError(p || '/', this.keyword, this.message);
  }
}

/**
 * A number that, when its text is canonical, was written as an integer literal beyond 2^53 (JSON.stringify writes
 * integers below 1e21 digit for digit, larger ones with an exponent): the {@link parseNumber} rule makes it its text.
 */
const unsafeIntegerLiteral = (n: number) => Number.isInteger(n) && !Number.isSafeInteger(n) && Math.abs(n) < 1e21;

/**
 * Checks one parsed value: nesting at most `limit` levels, strings and names that are Unicode text (no `\ud800`
 * escape without its pair; only looked for when `strings`), numbers within a double's range; integer literals beyond
 * 2^53 become their decimal text (the {@link parseNumber} rule). It recurses, but never deeper than `limit`.
 */
function inspect(v: unknown, depth: number, limit: number, eventLimit: number, strings: boolean): void {
  if (typeof v === 'string') {
    if (strings && !isWellFormed(v)) throw new Problem('encoding', `string ${NOT_UNICODE}`);
    return;
  }
  if (typeof v === 'number') {
    if (!Number.isFinite(v))
      throw new Problem('number', 'number is beyond the range of a double (about 1.8e308); send it as a string.');
    return;
  }
  if (v === null || typeof v !== 'object') return;
  if (depth >= limit)
    throw new Problem(
      'depth',
      `objects and arrays nest more than ${eventLimit} levels deep here; an event may nest at most ${eventLimit} levels.`,
    );
  if (Array.isArray(v)) {
    let i = 0;
    try {
      for (; i < v.length; i++) {
        const x: unknown = v[i];
        if (typeof x === 'number' && unsafeIntegerLiteral(x)) v[i] = String(x);
        else if (typeof x === 'object' || typeof x === 'string' || typeof x === 'number')
          inspect(x, depth + 1, limit, eventLimit, strings);
      }
    } catch (err) {
      if (err instanceof Problem) err.tokens.unshift(i);
      throw err;
    }
    return;
  }
  const o = v as Record<string, unknown>;
  let key = '';
  try {
    for (key in o) {
      if (strings && !isWellFormed(key)) throw new Problem('encoding', `member name ${NOT_UNICODE}`);
      const x = o[key];
      // An own `__proto__` (JSON.parse makes one) must be redefined: assigning it would call the prototype setter.
      if (typeof x === 'number' && unsafeIntegerLiteral(x))
        Object.defineProperty(o, key, { value: String(x), writable: true, enumerable: true, configurable: true });
      else if (typeof x === 'object' || typeof x === 'string' || typeof x === 'number')
        inspect(x, depth + 1, limit, eventLimit, strings);
    }
  } catch (err) {
    if (err instanceof Problem) err.tokens.unshift(key);
    throw err;
  }
}

export interface StrictOptions {
  /** Levels an event may nest; {@link MAX_EVENT_DEPTH} by default. */
  maxDepth?: number;
  /** A top-level array holds events, so it adds a level of its own that does not count. */
  arrayOfEvents?: boolean;
}

/** What {@link readJsonStrict} read: the value, and whether the text was exactly `JSON.stringify(value)`. */
export interface StrictRead {
  value: unknown;
  /** The text is the value's own serialization, so it can stand in for `JSON.stringify(value)` (no second pass). */
  canonical: boolean;
}

/**
 * Reads one JSON text the strict way (I-JSON, RFC 7493): valid JSON, each member name once per object, strings that
 * are Unicode text, at most `maxDepth` levels, and no number digit lost (integers beyond 2^53 become their exact
 * text). Throws {@link JsonTextError} with the pointer of the first problem.
 *
 * JSON.parse reads every text first (it is fast and does not recurse). When the text is exactly what JSON.stringify
 * makes of the result, nothing was merged or rounded and that result is kept; any other text is read again by
 * lossless-json, which sees repeated names and every digit. One parser's answer therefore never depends on which
 * path a text took.
 */
export function readJsonStrict(text: string, options: StrictOptions = {}): StrictRead {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new JsonTextError('/', 'json', `not valid JSON (${(err as Error).message})`);
  }
  const maxDepth = options.maxDepth ?? MAX_EVENT_DEPTH;
  // Lone surrogates can only come from \u escapes in a text that is itself well formed.
  const strings = text.includes('\\u') || !isWellFormed(text);
  try {
    inspect(value, 0, options.arrayOfEvents && Array.isArray(value) ? maxDepth + 1 : maxDepth, maxDepth, strings);
  } catch (err) {
    if (err instanceof Problem) throw err.toError();
    throw err;
  }
  if (JSON.stringify(value) === text) return { value, canonical: true };
  try {
    const lossless = losslessParse(text, null, {
      parseNumber,
      onDuplicateKey: ({ key, position }) => {
        // RFC 8259 §4: readers disagree about repeated names (last wins, first wins, error), so the data would mean
        // different things to different consumers of the lake.
        throw new JsonTextError(
          '/',
          'duplicate',
          `member name ${quote(key)} appears twice in one object with different values (the second at character ${position}); send each name once.`,
        );
      },
    });
    return { value: lossless, canonical: false };
  } catch (err) {
    // Both parsers implement the same grammar; should they ever disagree, the text is refused, not a 500.
    if (err instanceof JsonTextError) throw err;
    throw new JsonTextError('/', 'json', `not valid JSON (${(err as Error).message})`);
  }
}

/** {@link readJsonStrict}'s value. */
export function parseJsonStrict(text: string, options: StrictOptions = {}): unknown {
  return readJsonStrict(text, options).value;
}
