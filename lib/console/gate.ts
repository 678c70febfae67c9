import { awsClients } from '../aws/clients.ts';
import { loadConfig } from '../config.ts';
import { authConfig } from './auth.ts';
import { ConsoleAuthError } from './errors.ts';
import { checkStateChange, type ConsoleRequest } from './requests.ts';
import { SessionStore, type SessionUser } from './sessions.ts';
import type { SignInDeps } from './signin.ts';
import { SignInThrottle } from './throttle.ts';

/** Pages and routes anyone may reach: the sign-in page and route. */
const PUBLIC_PATHS = new Set(['/login', '/api/login']);

/** What the gate decides for a request. */
export type GateDecision =
  /** Let it through, with the signed-in user (none when sign-in is off or the path is public). */
  | { pass: true; user?: SessionUser }
  /** A page without a session: to the sign-in page. */
  | { pass: false; signIn: true }
  /** Refused with this status and problem. */
  | { pass: false; signIn?: false; status: number; body: { error: string; code: string }; retryAfterS?: number };

/**
 * The console's gate for every page and route (proxy.ts calls it): state-changing requests must come from the
 * console's own pages (Origin) with JSON, whether or not sign-in is on; then, when sign-in is required, a valid,
 * unrevoked server-side session. Never throws: a refusal names its status and what to do.
 */
export async function gate(
  req: ConsoleRequest & { cookie: string | undefined },
  deps: Pick<SignInDeps, 'cfg' | 'sessions'>,
): Promise<GateDecision> {
  try {
    checkStateChange(req);
    if (PUBLIC_PATHS.has(req.path) || !deps.cfg.required) return { pass: true };
    const user = await deps.sessions.user(req.cookie, deps.cfg);
    if (user) return { pass: true, user };
    if (!req.path.startsWith('/api/')) return { pass: false, signIn: true };
    return {
      pass: false,
      status: 401,
      body: { error: 'Sign in first: POST /api/login with the console password.', code: 'unauthenticated' },
    };
  } catch (err) {
    if (err instanceof ConsoleAuthError) {
      return {
        pass: false,
        status: err.status,
        body: { error: err.message, code: err.code },
        ...(err.retryAfterS ? { retryAfterS: err.retryAfterS } : {}),
      };
    }
    return {
      pass: false,
      status: 503,
      body: {
        error: `The console could not check this request (${err instanceof Error ? err.message : String(err)}). Try again.`,
        code: 'gate_failed',
      },
      retryAfterS: 5,
    };
  }
}

const SHARED = Symbol.for('tributary.consoleGate');

/**
 * The sign-in dependencies of this console process, built once: the passwords, and the sessions and sign-in counters
 * in the athena-results bucket (where the console keeps its state, next to the query records).
 */
export function consoleGate(): SignInDeps {
  const g = globalThis as { [SHARED]?: SignInDeps };
  if (!g[SHARED]) {
    const config = loadConfig();
    const { s3 } = awsClients(config);
    g[SHARED] = {
      cfg: authConfig(),
      sessions: new SessionStore(s3, config.buckets.athenaResults),
      throttle: new SignInThrottle(s3, config.buckets.athenaResults),
    };
  }
  return g[SHARED];
}
