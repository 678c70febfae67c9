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

/**
 * The decision of the API Gateway Lambda authorizer (simple responses): the `x-api-key` header against the configured
 * keys. No keys configured authorizes nothing, so a stage deployed without its secret is closed, not open.
 */
export function authorizeApiKey(
  headers: Record<string, string | undefined> | undefined,
  keys: readonly string[],
): { isAuthorized: boolean } {
  const presented = headers?.['x-api-key'];
  return { isAuthorized: keys.length > 0 && apiKeyMatches(presented, keys) };
}
