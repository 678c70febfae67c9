import { ConfigError } from '../errors.ts';

/** Console roles: viewers read; operators may also re-drive, discard and export. */
export type Role = 'viewer' | 'operator';

export interface AuthConfig {
  /** Whether pages and routes require sign-in (always in AWS; locally only when a password is set). */
  required: boolean;
  passwords: { role: Role; password: string }[];
  /** Mark the cookie Secure (served over HTTPS in AWS). */
  secure: boolean;
}

export const SESSION_COOKIE = 'tributary_session';
export const SESSION_MS = 12 * 3600_000;

/**
 * Reads the console's sign-in settings: TRIBUTARY_CONSOLE_PASSWORD (operator) and TRIBUTARY_CONSOLE_VIEWER_PASSWORD
 * (viewer). In AWS a password is mandatory; locally the console is open unless one is set.
 */
export function authConfig(env: Record<string, string | undefined> = process.env): AuthConfig {
  const aws = env.TRIBUTARY_MODE === 'aws' || (!env.TRIBUTARY_MODE && !!env.AWS_LAMBDA_FUNCTION_NAME);
  const passwords: AuthConfig['passwords'] = [];
  if (env.TRIBUTARY_CONSOLE_PASSWORD) passwords.push({ role: 'operator', password: env.TRIBUTARY_CONSOLE_PASSWORD });
  if (env.TRIBUTARY_CONSOLE_VIEWER_PASSWORD) passwords.push({ role: 'viewer', password: env.TRIBUTARY_CONSOLE_VIEWER_PASSWORD });
  if (aws && !passwords.length) throw new ConfigError('TRIBUTARY_CONSOLE_PASSWORD is not set; in AWS the console requires sign-in (set the ConsolePassword secret).');
  if (passwords.some((p) => p.password.length < 8)) throw new ConfigError('Console passwords must be at least 8 characters long.');
  return { required: aws || passwords.length > 0, passwords, secure: aws };
}

const enc = new TextEncoder();

function b64url(bytes: ArrayBuffer | Uint8Array): string {
  return Buffer.from(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)).toString('base64url');
}

/** The signing key: derived from the passwords, so changing a password signs every session out. */
async function key(cfg: AuthConfig): Promise<CryptoKey> {
  const material = await crypto.subtle.digest('SHA-256', enc.encode(`tributary-console\u0000${cfg.passwords.map((p) => `${p.role}:${p.password}`).join('\u0000')}`));
  return crypto.subtle.importKey('raw', material, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

/** Who a session belongs to: the role, and the name given at sign-in (for the audit log). */
export interface SessionUser {
  role: Role;
  name: string;
}

/** Cleans the name given at sign-in: printable, trimmed, at most 64 characters; the role when none was given. */
export function userName(raw: unknown, role: Role): string {
  const name = typeof raw === 'string' ? raw.replace(/[^\p{L}\p{N} ._@-]/gu, '').trim().slice(0, 64) : '';
  return name || role;
}

/** A signed session token for a role (and the user's name), valid for {@link SESSION_MS}. */
export async function signSession(role: Role, cfg: AuthConfig, now = Date.now(), name?: string): Promise<string> {
  const payload = b64url(enc.encode(JSON.stringify({ r: role, e: now + SESSION_MS, n: userName(name, role) })));
  const sig = await crypto.subtle.sign('HMAC', await key(cfg), enc.encode(payload));
  return `${payload}.${b64url(sig)}`;
}

/** The role of a valid, unexpired session token, else null. */
export async function verifySession(token: string | undefined, cfg: AuthConfig, now = Date.now()): Promise<Role | null> {
  return (await sessionUser(token, cfg, now))?.role ?? null;
}

/** The user of a valid, unexpired session token, else null. */
export async function sessionUser(token: string | undefined, cfg: AuthConfig, now = Date.now()): Promise<SessionUser | null> {
  if (!token) return null;
  const [payload, sig, extra] = token.split('.');
  if (!payload || !sig || extra !== undefined) return null;
  let ok = false;
  try {
    ok = await crypto.subtle.verify('HMAC', await key(cfg), Buffer.from(sig, 'base64url'), enc.encode(payload));
  } catch {
    return null;
  }
  if (!ok) return null;
  try {
    const { r, e, n } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { r: Role; e: number; n?: string };
    return (r === 'operator' || r === 'viewer') && typeof e === 'number' && e > now ? { role: r, name: userName(n, r) } : null;
  } catch {
    return null;
  }
}

/** The role a password signs in as, or null; compares digests so the time taken does not depend on the input. */
export async function roleForPassword(password: string, cfg: AuthConfig): Promise<Role | null> {
  const given = new Uint8Array(await crypto.subtle.digest('SHA-256', enc.encode(password)));
  let role: Role | null = null;
  for (const p of cfg.passwords) {
    const want = new Uint8Array(await crypto.subtle.digest('SHA-256', enc.encode(p.password)));
    let diff = 0;
    for (let i = 0; i < want.length; i++) diff |= want[i]! ^ given[i]!;
    if (diff === 0 && !role) role = p.role;
  }
  return role;
}

/** A same-site path to return to after sign-in; anything else (other hosts, `//x`) becomes `/`. */
export function safeNext(next: string | null | undefined): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}
