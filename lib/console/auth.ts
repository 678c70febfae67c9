import { readSettings, runtimeMode, type Env } from '../config.ts';
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

/**
 * Reads the console's sign-in settings: TRIBUTARY_CONSOLE_PASSWORD (operator) and TRIBUTARY_CONSOLE_VIEWER_PASSWORD
 * (viewer). In AWS a password is mandatory; locally the console is open unless one is set.
 */
export function authConfig(env: Env = process.env): AuthConfig {
  const aws = runtimeMode(env) === 'aws';
  // readSettings refuses a password shorter than 8 characters.
  const s = readSettings(env);
  const passwords: AuthConfig['passwords'] = [];
  if (s.TRIBUTARY_CONSOLE_PASSWORD) passwords.push({ role: 'operator', password: s.TRIBUTARY_CONSOLE_PASSWORD });
  if (s.TRIBUTARY_CONSOLE_VIEWER_PASSWORD)
    passwords.push({ role: 'viewer', password: s.TRIBUTARY_CONSOLE_VIEWER_PASSWORD });
  if (aws && !passwords.length)
    throw new ConfigError(
      'TRIBUTARY_CONSOLE_PASSWORD is not set; in AWS the console requires sign-in (set the ConsolePassword secret).',
    );
  return { required: aws || passwords.length > 0, passwords, secure: aws };
}

const enc = new TextEncoder();

/** Cleans the name given at sign-in: printable, trimmed, at most 64 characters; the role when none was given. */
export function userName(raw: unknown, role: Role): string {
  const name =
    typeof raw === 'string'
      ? raw
          .replace(/[^\p{L}\p{N} ._@-]/gu, '')
          .trim()
          .slice(0, 64)
      : '';
  return name || role;
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
  return next?.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}

/**
 * The header that carries the address of the client, set by whatever stands in front of the console and overwrites
 * any value the client sent: in AWS the CloudFront viewer-request function (stacks/console.ts) from the viewer's IP,
 * locally the console's wrapper (local/emulators/console.ts) from the socket. The sign-in throttle counts per value.
 */
export const CLIENT_ADDRESS_HEADER = 'x-tributary-client-ip';

/** The client's address from {@link CLIENT_ADDRESS_HEADER}; `unknown` (one shared allowance) when nothing set it. */
export function clientAddress(headers: Pick<Headers, 'get'>): string {
  return headers.get(CLIENT_ADDRESS_HEADER)?.slice(0, 64) || 'unknown';
}

/**
 * The CloudFront viewer-request code (cloudfront-js-2.0, injected at the top of SST's function by stacks/console.ts)
 * that sets {@link CLIENT_ADDRESS_HEADER} from the viewer's IP, replacing any value the client sent.
 */
export const CLIENT_ADDRESS_INJECTION = `event.request.headers[${JSON.stringify(CLIENT_ADDRESS_HEADER)}] = { value: event.viewer.ip };`;
