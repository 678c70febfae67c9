import { parse as losslessParse } from 'lossless-json';

// An integer literal of 16+ digits may exceed 2^53 and silently lose digits in JSON.parse (card numbers, trip ids).
const LONG_INTEGER = /[:,[]\s*-?[0-9]{16,}\s*[,}\]]/;

const INTEGER_LITERAL = /^-?[0-9]+$/;

function parseNumber(text: string): number | string {
  // Integers a double cannot hold stay as their exact text; schema coercion then treats them as the string the schema
  // wants. Fractions keep JSON.parse semantics (nearest double), as every JSON reader downstream does too.
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
