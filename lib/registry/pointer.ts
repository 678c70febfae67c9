/** A compiled RFC 6901 JSON pointer: resolves a value inside a parsed document without re-parsing the pointer. */
export type PointerGetter = (doc: unknown) => unknown;

/** Splits a JSON pointer into its unescaped tokens (`/a~1b/c` → `["a/b", "c"]`). */
export function pointerTokens(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`JSON pointer ${JSON.stringify(pointer)} must start with "/".`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Joins unescaped tokens into a JSON pointer (`["a/b", 0]` → `/a~1b/0`; no tokens → ``, the whole document). */
export function encodePointer(tokens: readonly (string | number)[]): string {
  return tokens.map((t) => `/${String(t).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** Compiles a JSON pointer into a getter that returns `undefined` when any step is missing. */
export function compilePointer(pointer: string): PointerGetter {
  const tokens = pointerTokens(pointer);
  return (doc) => {
    let cur: unknown = doc;
    for (const t of tokens) {
      if (cur === null || typeof cur !== 'object') return undefined;
      cur = (cur as Record<string, unknown>)[t];
    }
    return cur;
  };
}
