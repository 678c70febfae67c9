import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Constant-time API-key check. Both sides are hashed first so neither the key's length nor its prefix leaks through
 * timing; every configured key is compared, so which key matched does not leak either.
 */
export function apiKeyMatches(presented: string | undefined, keys: readonly string[]): boolean {
  const got = digest(presented ?? '');
  let ok = false;
  for (const k of keys) {
    if (k && timingSafeEqual(got, digest(k)) && presented !== undefined) ok = true;
  }
  return ok;
}
