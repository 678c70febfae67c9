// ES2024 string methods (Node 20+), typed here because the project's lib stops at ES2023.
type Es2024String = { isWellFormed(): boolean; toWellFormed(): string };

/** Whether a string is Unicode text: no lone surrogate (a `\ud800` without its pair). */
export const isWellFormed = (s: string): boolean => (s as unknown as Es2024String).isWellFormed();

/** The string with each lone surrogate replaced by U+FFFD (safe to store, log or put in a key). */
export const toWellFormed = (s: string): string => (s as unknown as Es2024String).toWellFormed();

/**
 * The JSON pointer of the first string or member name in a parsed value that is not Unicode text, or null. Walks
 * with its own stack, so a value nested as deep as a record can hold never overflows the call stack.
 */
export function firstLoneSurrogate(value: unknown): string | null {
  // Its own escaping: lib/util is a leaf the registry imports (lib/registry/pointer.ts has the same rule).
  const token = (k: string | number) => `/${String(k).replace(/~/g, '~0').replace(/\//g, '~1')}`;
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length) {
    const [v, at] = stack.pop()!;
    if (typeof v === 'string') {
      if (!isWellFormed(v)) return toWellFormed(at) || '/';
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], at + token(i)]);
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v).reverse()) {
        if (!isWellFormed(k)) return toWellFormed(at + token(k));
        stack.push([x, at + token(k)]);
      }
    }
  }
  return null;
}
