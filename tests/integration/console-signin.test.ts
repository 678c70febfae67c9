import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authConfig } from '../../lib/console/auth.ts';
import { SignInThrottledError, WrongPasswordError } from '../../lib/console/errors.ts';
import { SessionStore } from '../../lib/console/sessions.ts';
import { signIn, type SignInDeps } from '../../lib/console/signin.ts';
import { SignInThrottle, type ThrottleRule } from '../../lib/console/throttle.ts';
import { startS3, type RunningEmulator } from '../../local/emulators/index.ts';
import { removeDir, tempDir } from './helpers.ts';

const BUCKET = 'athena-results';
const cfg = authConfig({
  TRIBUTARY_CONSOLE_PASSWORD: 'operator-pass',
  TRIBUTARY_CONSOLE_VIEWER_PASSWORD: 'viewer-pass',
});
const form = (password: string) => ({ password, next: '/', form: false });

/**
 * Sign-in as the console runs it in AWS, where each request may land on another Lambda instance: each "instance" has
 * its own S3 client, session store and throttle, and they share nothing but S3 (the real s3rver, with its conditional
 * writes). Sessions revoked on one instance stop working on all; failed sign-ins are counted exactly across instances
 * and concurrent attempts.
 */
describe('console sign-in across instances (S3 real)', () => {
  let s3rver: RunningEmulator;
  let dir: string;
  const clients: S3Client[] = [];
  const instance = (rules?: { client: ThrottleRule; global: ThrottleRule }, bucket = BUCKET): SignInDeps => {
    const s3 = new S3Client({
      region: 'eu-west-1',
      endpoint: `http://127.0.0.1:${s3rver.port}`,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    clients.push(s3);
    return { cfg, sessions: new SessionStore(s3, bucket), throttle: new SignInThrottle(s3, bucket, rules) };
  };
  /** The outcome of a sign-in as a word, for exact tallies. */
  const attempt = async (deps: SignInDeps, password: string, client: string) => {
    try {
      return (await signIn(form(password), client, deps)).role;
    } catch (err) {
      if (err instanceof WrongPasswordError) return 'wrong';
      if (err instanceof SignInThrottledError) return `throttled:${err.scope}`;
      throw err;
    }
  };
  /** The error a sign-in that must be refused was refused with. */
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => {
        throw new Error('signed in, but should have been refused');
      },
      (e: unknown) => e as SignInThrottledError,
    );
  const tally = (words: string[]) =>
    Object.fromEntries([...new Set(words)].sort().map((w) => [w, words.filter((x) => x === w).length]));

  beforeAll(async () => {
    dir = tempDir('console-signin');
    s3rver = await startS3('127.0.0.1', 0, dir, [BUCKET, 'signin-b2', 'signin-b3', 'signin-b4']);
  });

  afterAll(async () => {
    for (const c of clients) c.destroy();
    await s3rver?.stop();
    removeDir(dir);
  });

  it('a session signed out on one instance stops working on every instance at once', async () => {
    const a = instance();
    const b = instance();
    const { token } = await signIn({ ...form('operator-pass'), name: 'erin' }, '198.51.100.1', a);
    const user = await b.sessions.user(token, cfg);
    expect(user).toMatchObject({ role: 'operator', name: 'erin' });
    // Another session of the same role is a session of its own: signing one out leaves the other.
    const other = (await signIn(form('operator-pass'), '198.51.100.1', a)).token;
    expect(await b.sessions.revoke(token, cfg)).toBe(true);
    expect(await a.sessions.user(token, cfg)).toBeNull();
    expect(await b.sessions.user(token, cfg)).toBeNull();
    expect(await a.sessions.user(other, cfg)).toMatchObject({ role: 'operator' });
    // Signing out twice changes nothing; the revoked record stays revoked.
    expect(await a.sessions.revoke(token, cfg)).toBe(false);
    expect(await b.sessions.get(user!.sid)).toMatchObject({ sid: user!.sid, revoked: expect.any(String) });
  });

  it('counts failures per client exactly, across instances and concurrent attempts, and gives back a success', async () => {
    const rules = { client: { limit: 10, windowMs: 15 * 60_000 }, global: { limit: 1000, windowMs: 15 * 60_000 } };
    const a = instance(rules, 'signin-b2');
    const b = instance(rules, 'signin-b2');
    // Two right passwords first: they do not use up the allowance.
    expect([await attempt(a, 'operator-pass', '192.0.2.7'), await attempt(b, 'viewer-pass', '192.0.2.7')]).toEqual([
      'operator',
      'viewer',
    ]);
    // 30 wrong guesses at once, half on each instance: exactly 10 are checked, 20 are refused before their password is.
    const burst = await Promise.all(
      Array.from({ length: 30 }, (_, i) => attempt(i % 2 ? a : b, `guess-${i}`, '192.0.2.7')),
    );
    expect(tally(burst)).toEqual({ 'throttled:client': 20, wrong: 10 });
    // Now even the right password waits, with the time left in the window.
    await expect(signIn(form('operator-pass'), '192.0.2.7', a)).rejects.toMatchObject({
      status: 429,
      code: 'throttled',
      scope: 'client',
      retryAfterS: expect.any(Number),
    });
    const refused = await refusal(signIn(form('operator-pass'), '192.0.2.7', b));
    expect(refused.retryAfterS).toBeGreaterThan(890);
    expect(refused.retryAfterS).toBeLessThanOrEqual(900);
    expect(refused.message).toBe(`Too many failed sign-ins from this address. Try again in ${refused.retryAfterS} s.`);
    // Another address is not affected.
    expect(await attempt(a, 'operator-pass', '192.0.2.8')).toBe('operator');
  });

  it('a window that has passed starts a new allowance', async () => {
    const throttle = instance(
      { client: { limit: 2, windowMs: 60_000 }, global: { limit: 100, windowMs: 60_000 } },
      'signin-b3',
    ).throttle;
    let t = Date.UTC(2026, 11, 1, 12);
    const now = () => t;
    await throttle.admit('x', now);
    await throttle.admit('x', now);
    t += 30_000;
    await expect(throttle.admit('x', now)).rejects.toMatchObject({ scope: 'client', retryAfterS: 30 });
    t += 30_000;
    // A new window; an attempt given back (a right password) does not count.
    const giveBack = await throttle.admit('x', now);
    await giveBack();
    await throttle.admit('x', now);
    await throttle.admit('x', now);
    await expect(throttle.admit('x', now)).rejects.toMatchObject({ scope: 'client', retryAfterS: 60 });
  });

  it('a guesser spread over many addresses is held by the global allowance, which everyone then waits for', async () => {
    const rules = { client: { limit: 3, windowMs: 15 * 60_000 }, global: { limit: 12, windowMs: 15 * 60_000 } };
    const a = instance(rules, 'signin-b4');
    const b = instance(rules, 'signin-b4');
    // 8 addresses × 3 guesses, concurrently: 12 are checked in all, whatever the address.
    const burst = await Promise.all(
      Array.from({ length: 24 }, (_, i) => attempt(i % 2 ? a : b, `guess-${i}`, `203.0.113.${i % 8}`)),
    );
    expect(burst.filter((w) => w === 'wrong')).toHaveLength(12);
    expect(burst.filter((w) => w.startsWith('throttled'))).toHaveLength(12);
    const refused = await refusal(signIn(form('operator-pass'), '198.51.100.200', a));
    expect([refused.status, refused.scope, refused.message]).toEqual([
      429,
      'global',
      `Too many failed sign-ins to this console from all addresses; sign-in is paused. Try again in ${refused.retryAfterS} s.`,
    ]);
    // Refused globally, the new address's attempt was given back: its own allowance is untouched.
    expect(
      await new SignInThrottle(clients.at(-1)!, 'signin-b4', {
        client: rules.client,
        global: { limit: 1000, windowMs: 60_000 },
      })
        .admit('198.51.100.200')
        .then(() => 'admitted'),
    ).toBe('admitted');
  });
});
