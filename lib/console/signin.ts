import { type AuthConfig, type Role, roleForPassword, safeNext } from './auth.ts';
import { BadConsoleRequestError, WrongPasswordError } from './errors.ts';
import { mediaType } from './requests.ts';
import type { SessionStore } from './sessions.ts';
import type { SignInThrottle } from './throttle.ts';

/** A sign-in body is a password, a name and a path: 16 KiB is far more than any. */
export const MAX_SIGN_IN_BYTES = 16 * 1024;

/** What a sign-in request asks for. */
export interface SignInRequest {
  password: string;
  name?: string;
  /** Where to go after signing in (a same-site path). */
  next: string;
  /** Posted by the HTML form (answered with redirects) rather than by a script (answered with JSON). */
  form: boolean;
}

/**
 * Reads a sign-in body: JSON `{password, name?, next?}` or the sign-in page's urlencoded form.
 *
 * @throws BadConsoleRequestError (400) for another content type, a body that is not JSON or a form, a missing password
 *   or a body over {@link MAX_SIGN_IN_BYTES}.
 */
export function readSignIn(contentType: string | null, body: string): SignInRequest {
  if (Buffer.byteLength(body) > MAX_SIGN_IN_BYTES)
    throw new BadConsoleRequestError('body_too_large', `A sign-in body is at most ${MAX_SIGN_IN_BYTES} bytes.`, 413);
  const type = mediaType(contentType);
  let fields: Record<string, unknown>;
  if (type === 'application/json') {
    try {
      const v = JSON.parse(body) as unknown;
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
      fields = v as Record<string, unknown>;
    } catch {
      throw new BadConsoleRequestError('bad_body', 'The sign-in body is not a JSON object: send {"password": "…"}.');
    }
  } else if (type === 'application/x-www-form-urlencoded') {
    fields = Object.fromEntries(new URLSearchParams(body));
  } else {
    throw new BadConsoleRequestError(
      'bad_content_type',
      `Send the sign-in as JSON (Content-Type: application/json, {"password": …}) or as an HTML form, not ${type ?? 'without a content type'}.`,
    );
  }
  if (typeof fields.password !== 'string' || fields.password === '')
    throw new BadConsoleRequestError('bad_body', 'The sign-in needs a password: send {"password": "…"}.');
  return {
    password: fields.password,
    ...(typeof fields.name === 'string' ? { name: fields.name } : {}),
    next: safeNext(typeof fields.next === 'string' ? fields.next : undefined),
    form: type === 'application/x-www-form-urlencoded',
  };
}

/** What signing in needs: the passwords, the session records and the shared attempt counters. */
export interface SignInDeps {
  cfg: AuthConfig;
  sessions: SessionStore;
  throttle: SignInThrottle;
}

/**
 * Signs in: counts the attempt against the client's and the global allowance (refused with 429 and `Retry-After`
 * when used up), checks the password and starts a server-side session. A right password gives the attempt back, so
 * only failures use up the allowance.
 *
 * @throws SignInThrottledError, WrongPasswordError, ConsoleStateUnavailableError
 */
export async function signIn(
  req: SignInRequest,
  client: string,
  deps: SignInDeps,
  now = Date.now(),
): Promise<{ role: Role; token: string }> {
  const giveBack = await deps.throttle.admit(client);
  const role = await roleForPassword(req.password, deps.cfg);
  if (!role) throw new WrongPasswordError();
  await giveBack();
  const { token } = await deps.sessions.create(role, req.name, deps.cfg, now);
  return { role, token };
}
