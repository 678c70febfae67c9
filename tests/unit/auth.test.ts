/**
 * The console's sign-in (lib/console/): passwords and roles, signed session tokens, the request checks every
 * state-changing route gets (Origin, content type), the sign-in body, the gate's decisions, and the S3 contract of
 * sessions and sign-in counters (aws-sdk-client-mock). tests/integration/console-signin.test.ts runs the same against
 * the real local S3, concurrency included.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { authConfig, clientAddress, roleForPassword, safeNext } from '../../lib/console/auth.ts';
import { gate } from '../../lib/console/gate.ts';
import { checkStateChange } from '../../lib/console/requests.ts';
import {
  readToken,
  SESSION_MS,
  sessionCookie,
  SessionStore,
  signToken,
  type SessionRecord,
} from '../../lib/console/sessions.ts';
import { readSignIn } from '../../lib/console/signin.ts';
import { SignInThrottle } from '../../lib/console/throttle.ts';

const cfg = authConfig({
  TRIBUTARY_CONSOLE_PASSWORD: 'operator-pass',
  TRIBUTARY_CONSOLE_VIEWER_PASSWORD: 'viewer-pass',
});
const SID = 'abcdefghijklmnopqrstuvwxyz012345';

describe('console sign-in', () => {
  it('is open locally without a password, required with one, and mandatory in AWS', () => {
    expect(authConfig({})).toEqual({ required: false, passwords: [], secure: false });
    expect(cfg.required).toBe(true);
    expect(() => authConfig({ TRIBUTARY_MODE: 'aws' })).toThrow(
      /TRIBUTARY_CONSOLE_PASSWORD is not set; in AWS the console requires sign-in/,
    );
    expect(authConfig({ TRIBUTARY_MODE: 'aws', TRIBUTARY_CONSOLE_PASSWORD: 'long-enough' }).secure).toBe(true);
    expect(() => authConfig({ TRIBUTARY_CONSOLE_PASSWORD: 'short' })).toThrow(/at least 8 characters/);
  });

  it('maps each password to its role and refuses others', async () => {
    expect(await roleForPassword('operator-pass', cfg)).toBe('operator');
    expect(await roleForPassword('viewer-pass', cfg)).toBe('viewer');
    expect(await roleForPassword('operator-pas', cfg)).toBeNull();
    expect(await roleForPassword('', cfg)).toBeNull();
  });

  it('reads only its own unexpired tokens', async () => {
    const now = Date.UTC(2026, 10, 25);
    const token = await signToken({ sid: SID, role: 'viewer', expires: now + SESSION_MS }, cfg);
    expect(await readToken(token, cfg, now + 1000)).toEqual({ sid: SID, role: 'viewer', expires: now + SESSION_MS });
    expect(await readToken(token, cfg, now + SESSION_MS + 1)).toBeNull();
    const [header, payload, sig] = token.split('.');
    const forged = Buffer.from(
      JSON.stringify({ role: 'operator', iss: 'tributary-console', sub: SID, exp: (now + SESSION_MS) / 1000 }),
    ).toString('base64url');
    expect(await readToken(`${header}.${forged}.${sig}`, cfg, now)).toBeNull();
    expect(await readToken(`${header}.${payload}.${sig}x`, cfg, now)).toBeNull();
    expect(await readToken(`${header}.${payload}`, cfg, now)).toBeNull();
    // An unsigned token (alg none) is never accepted.
    const none = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    expect(await readToken(`${none}.${forged}.`, cfg, now)).toBeNull();
    expect(await readToken(undefined, cfg, now)).toBeNull();
    expect(await readToken('%%%.%%%', cfg, now)).toBeNull();
    // Another password (a rotated secret) signs every session out.
    expect(await readToken(token, authConfig({ TRIBUTARY_CONSOLE_PASSWORD: 'new-operator-pass' }), now)).toBeNull();
  });

  it('sets an HttpOnly, SameSite=Lax cookie (Secure in AWS) and clears it at sign-out', () => {
    expect(sessionCookie('t.s', cfg)).toBe('tributary_session=t.s; Path=/; HttpOnly; SameSite=Lax; Max-Age=43200');
    expect(sessionCookie(null, authConfig({ TRIBUTARY_MODE: 'aws', TRIBUTARY_CONSOLE_PASSWORD: 'long-enough' }))).toBe(
      'tributary_session=; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=0',
    );
  });

  it('returns only to same-site paths after sign-in', () => {
    expect(safeNext('/sql?x=1')).toBe('/sql?x=1');
    expect(safeNext('//evil.example/')).toBe('/');
    expect(safeNext('https://evil.example/')).toBe('/');
    expect(safeNext('/\\evil')).toBe('/');
    expect(safeNext(undefined)).toBe('/');
  });

  it('counts failures per the address the edge stamped, one shared allowance when none did', () => {
    expect(clientAddress(new Headers({ 'x-tributary-client-ip': '203.0.113.9' }))).toBe('203.0.113.9');
    expect(clientAddress(new Headers({ 'x-forwarded-for': '1.2.3.4' }))).toBe('unknown');
  });
});

describe('state-changing requests', () => {
  const req = (method: string, path: string, headers: Record<string, string>) => ({
    method,
    path,
    headers: new Headers(headers),
  });
  const refusal = (r: ReturnType<typeof req>) => {
    try {
      checkStateChange(r);
      return 'ok';
    } catch (err) {
      const e = err as { status: number; code: string; message: string };
      return `${e.status} ${e.code}: ${e.message}`;
    }
  };
  const json = { host: 'console.example', origin: 'https://console.example', 'content-type': 'application/json' };

  it('pass when they come from the console itself with JSON', () => {
    expect(refusal(req('POST', '/api/queries', json))).toBe('ok');
    expect(
      refusal(req('DELETE', '/api/queries/q1', { ...json, 'content-type': 'application/json; charset=utf-8' })),
    ).toBe('ok');
    // Behind CloudFront the browser's host arrives as x-forwarded-host.
    expect(
      refusal(
        req('POST', '/api/quarantine/discard', {
          ...json,
          host: 'abc.lambda-url.us-east-1.on.aws',
          'x-forwarded-host': 'console.example',
        }),
      ),
    ).toBe('ok');
    expect(refusal(req('GET', '/api/catalog', {}))).toBe('ok');
    expect(refusal(req('POST', '/sql', {}))).toBe('ok');
  });

  it('are refused from another origin or without one (403), saying what to send', () => {
    expect(refusal(req('POST', '/api/quarantine/redrive', { ...json, origin: 'https://evil.example' }))).toBe(
      "403 cross_site: Refused: this request comes from https://evil.example, not from the console (console.example). State-changing requests are accepted from the console's own pages only.",
    );
    expect(
      refusal(req('POST', '/api/quarantine/redrive', { host: 'console.example', 'content-type': 'application/json' })),
    ).toBe(
      '403 cross_site: Refused: a state-changing request needs an Origin header naming the console (Origin: https://console.example); browsers send it, scripts must add it.',
    );
    expect(refusal(req('DELETE', '/api/queries/q1', { ...json, origin: 'null' }))).toMatch(/^403 cross_site/);
    expect(refusal(req('PATCH', '/api/x', { ...json, origin: 'not a url' }))).toMatch(/^403 cross_site/);
    expect(refusal(req('PUT', '/api/x', { ...json, origin: 'https://console.example.evil.example' }))).toMatch(
      /^403 cross_site/,
    );
    expect(
      refusal(
        req('POST', '/api/login', {
          ...json,
          origin: 'https://evil.example',
          'content-type': 'application/x-www-form-urlencoded',
        }),
      ),
    ).toMatch(/^403 cross_site/);
  });

  it('accept only JSON (415), and on sign-in and sign-out also the HTML form (else 400)', () => {
    expect(refusal(req('POST', '/api/queries', { ...json, 'content-type': 'text/plain' }))).toBe(
      '415 bad_content_type: Send this request as JSON (Content-Type: application/json), not text/plain.',
    );
    expect(
      refusal(req('POST', '/api/queries', { ...json, 'content-type': 'application/x-www-form-urlencoded' })),
    ).toMatch(/^415 /);
    expect(refusal(req('POST', '/api/queries', { host: 'console.example', origin: 'https://console.example' }))).toBe(
      '415 bad_content_type: Send this request as JSON (Content-Type: application/json), not without a content type.',
    );
    expect(refusal(req('POST', '/api/queries', { ...json, 'content-type': '"' }))).toMatch(/^415 /);
    expect(refusal(req('POST', '/api/login', { ...json, 'content-type': 'application/x-www-form-urlencoded' }))).toBe(
      'ok',
    );
    expect(refusal(req('POST', '/api/login', { ...json, 'content-type': 'text/plain' }))).toBe(
      '400 bad_content_type: Send the sign-in as JSON (Content-Type: application/json, {"password": …}) or as an HTML form (application/x-www-form-urlencoded), not text/plain.',
    );
    expect(refusal(req('POST', '/api/login', { host: 'console.example', origin: 'https://console.example' }))).toMatch(
      /^400 bad_content_type/,
    );
    expect(refusal(req('POST', '/api/logout', { host: 'console.example', origin: 'https://console.example' }))).toBe(
      'ok',
    );
  });
});

describe('the sign-in body', () => {
  it('is JSON or the sign-in form', () => {
    expect(readSignIn('application/json', '{"password":"p","name":"erin","next":"/sql"}')).toEqual({
      password: 'p',
      name: 'erin',
      next: '/sql',
      form: false,
    });
    expect(readSignIn('application/x-www-form-urlencoded', 'password=p%26q&next=%2F%2Fevil')).toEqual({
      password: 'p&q',
      next: '/',
      form: true,
    });
  });

  it('is refused with a 400 that says what to send', () => {
    const refusal = (type: string | null, body: string) => {
      try {
        return readSignIn(type, body);
      } catch (err) {
        const e = err as { status: number; code: string; message: string };
        return `${e.status} ${e.code}: ${e.message}`;
      }
    };
    expect(refusal('text/plain', 'password=p')).toBe(
      '400 bad_content_type: Send the sign-in as JSON (Content-Type: application/json, {"password": …}) or as an HTML form, not text/plain.',
    );
    expect(refusal('multipart/form-data; boundary=x', '--x--')).toMatch(/^400 bad_content_type/);
    expect(refusal(null, '{}')).toMatch(/^400 bad_content_type/);
    expect(refusal('application/json', '{"password":')).toBe(
      '400 bad_body: The sign-in body is not a JSON object: send {"password": "…"}.',
    );
    expect(refusal('application/json', '["p"]')).toMatch(/^400 bad_body/);
    expect(refusal('application/json', '{"password":42}')).toBe(
      '400 bad_body: The sign-in needs a password: send {"password": "…"}.',
    );
    expect(refusal('application/json', JSON.stringify({ password: 'x'.repeat(20_000) }))).toBe(
      '413 body_too_large: A sign-in body is at most 16384 bytes.',
    );
  });
});

const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: 'us-east-1' });
const failed = (status: number, name: string) =>
  new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name });
const body = (v: unknown) => ({ transformToString: async () => JSON.stringify(v) }) as never;
const puts = () =>
  s3Mock.commandCalls(PutObjectCommand).map((c) => ({
    key: c.args[0].input.Key,
    IfNoneMatch: c.args[0].input.IfNoneMatch,
    IfMatch: c.args[0].input.IfMatch,
    body: JSON.parse(String(c.args[0].input.Body)) as unknown,
  }));

describe('sessions and sign-in counters in S3 (the SDK contract)', () => {
  beforeEach(() => s3Mock.reset());

  it('a session is created once (If-None-Match) and its cookie works only while its record says so', async () => {
    s3Mock.on(PutObjectCommand).resolves({ ETag: '"e1"' });
    const store = new SessionStore(s3, 'results');
    const now = Date.now();
    const { record, token } = await store.create('operator', 'erin <script>', cfg, now);
    expect(puts()).toEqual([
      { key: `console/sessions/${record.sid}.json`, IfNoneMatch: '*', IfMatch: undefined, body: record },
    ]);
    expect(record).toEqual({
      sid: record.sid,
      role: 'operator',
      name: 'erin script',
      created: new Date(now).toISOString(),
      expires: new Date(Math.floor((now + SESSION_MS) / 1000) * 1000).toISOString(),
    });
    // The cookie is a JWT (HS256) whose subject is the session and whose expiry is the record's.
    const [header, claims] = token
      .split('.')
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p!, 'base64url').toString('utf8')) as Record<string, unknown>);
    expect(header).toEqual({ alg: 'HS256' });
    expect(claims).toEqual({
      role: 'operator',
      iss: 'tributary-console',
      sub: record.sid,
      exp: Date.parse(record.expires) / 1000,
    });
    s3Mock
      .on(GetObjectCommand, { Key: `console/sessions/${record.sid}.json` })
      .resolves({ Body: body(record), ETag: '"e1"' });
    expect(await store.user(token, cfg)).toEqual({ role: 'operator', name: 'erin script', sid: record.sid });
    s3Mock.on(GetObjectCommand).resolves({ Body: body({ ...record, revoked: new Date().toISOString() }) });
    expect(await store.user(token, cfg)).toBeNull();
    s3Mock.on(GetObjectCommand).resolves({ Body: body({ ...record, role: 'viewer' }) });
    expect(await store.user(token, cfg)).toBeNull();
    s3Mock.on(GetObjectCommand).rejects(failed(404, 'NoSuchKey'));
    expect(await store.user(token, cfg)).toBeNull();
    // S3 not answering is not "signed out" and never "signed in": the gate answers 503.
    s3Mock.on(GetObjectCommand).rejects(failed(500, 'InternalError'));
    await expect(store.user(token, cfg)).rejects.toMatchObject({ code: 'state_unavailable', status: 503 });
  });

  it('sign-out marks the record revoked with If-Match on the record it read, and reads again after losing a race', async () => {
    const store = new SessionStore(s3, 'results');
    const now = Date.now();
    const record: SessionRecord = {
      sid: SID,
      role: 'viewer',
      name: 'viewer',
      created: new Date(now).toISOString(),
      expires: new Date(now + SESSION_MS).toISOString(),
    };
    const token = await signToken({ sid: SID, role: 'viewer', expires: now + SESSION_MS }, cfg);
    s3Mock
      .on(GetObjectCommand)
      .resolvesOnce({ Body: body(record), ETag: '"e1"' })
      .resolves({ Body: body(record), ETag: '"e2"' });
    s3Mock.on(PutObjectCommand).rejectsOnce(failed(412, 'PreconditionFailed')).resolves({ ETag: '"e3"' });
    expect(await store.revoke(token, cfg, now)).toBe(true);
    expect(puts().map((p) => [p.IfMatch, (p.body as SessionRecord).revoked])).toEqual([
      ['"e1"', new Date(now).toISOString()],
      ['"e2"', new Date(now).toISOString()],
    ]);
    // A forged cookie costs no S3 call at all.
    s3Mock.reset();
    expect(await store.revoke('forged.token', cfg, now)).toBe(false);
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it('an attempt is counted before the password is checked: If-None-Match for a new counter, If-Match after', async () => {
    const throttle = new SignInThrottle(s3, 'results', {
      client: { limit: 2, windowMs: 60_000 },
      global: { limit: 5, windowMs: 60_000 },
    });
    const t = 1_000_000;
    s3Mock.on(GetObjectCommand).rejects(failed(404, 'NoSuchKey'));
    // The first write of the client's counter loses to a concurrent attempt: read again, then If-Match.
    s3Mock.on(PutObjectCommand).rejectsOnce(failed(412, 'PreconditionFailed')).resolves({ ETag: '"c"' });
    s3Mock
      .on(GetObjectCommand, {
        Key: `console/throttle/client/${createHash('sha256').update('203.0.113.9').digest('hex').slice(0, 32)}.json`,
      })
      .rejectsOnce(failed(404, 'NoSuchKey'))
      .resolves({ Body: body({ start: t, n: 1 }), ETag: '"c1"' });
    await throttle.admit('203.0.113.9', () => t);
    const keys = puts().map((p) => [
      p.key?.replace(/client\/[0-9a-f]+/, 'client/<hash>'),
      p.IfNoneMatch ?? p.IfMatch,
      p.body,
    ]);
    expect(keys).toEqual([
      ['console/throttle/client/<hash>.json', '*', { start: t, n: 1 }],
      ['console/throttle/client/<hash>.json', '"c1"', { start: t, n: 2 }],
      ['console/throttle/global.json', '*', { start: t, n: 1 }],
    ]);
    // No address is stored: the key is a hash of it.
    expect(puts().some((p) => p.key?.includes('203.0.113.9'))).toBe(false);
  });
});

describe('the gate', () => {
  const sessions = {
    user: async (token: string | undefined) =>
      token === 'good' ? { role: 'viewer' as const, name: 'v', sid: SID } : null,
  } as unknown as SessionStore;
  const on = { cfg, sessions };
  const off = { cfg: authConfig({}), sessions };
  const r = (method: string, path: string, cookie?: string, headers: Record<string, string> = {}) => ({
    method,
    path,
    cookie,
    headers: new Headers({ host: 'c.example', ...headers }),
  });

  it('lets a valid session through with its user; pages without one go to sign-in, routes get 401', async () => {
    expect(await gate(r('GET', '/sql', 'good'), on)).toEqual({
      pass: true,
      user: { role: 'viewer', name: 'v', sid: SID },
    });
    expect(await gate(r('GET', '/sql', 'bad'), on)).toEqual({ pass: false, signIn: true });
    expect(await gate(r('GET', '/api/catalog'), on)).toEqual({
      pass: false,
      status: 401,
      body: { error: 'Sign in first: POST /api/login with the console password.', code: 'unauthenticated' },
    });
    expect(await gate(r('GET', '/login'), on)).toEqual({ pass: true });
    expect(
      await gate(
        r('POST', '/api/login', undefined, { origin: 'http://c.example', 'content-type': 'application/json' }),
        on,
      ),
    ).toEqual({ pass: true });
  });

  it('refuses cross-site state changes whether or not sign-in is on (a local console is a CSRF target too)', async () => {
    for (const deps of [on, off]) {
      expect(
        await gate(
          r('POST', '/api/quarantine/discard', 'good', {
            origin: 'https://evil.example',
            'content-type': 'application/json',
          }),
          deps,
        ),
      ).toMatchObject({ pass: false, status: 403, body: { code: 'cross_site' } });
    }
    expect(
      await gate(
        r('POST', '/api/quarantine/discard', undefined, {
          origin: 'http://c.example',
          'content-type': 'application/json',
        }),
        off,
      ),
    ).toEqual({ pass: true });
  });

  it('answers 503 with Retry-After when the session store does not answer, never lets the request through', async () => {
    const broken = {
      cfg,
      sessions: { user: async () => Promise.reject(new Error('socket hang up')) } as unknown as SessionStore,
    };
    expect(await gate(r('GET', '/api/catalog', 'good'), broken)).toEqual({
      pass: false,
      status: 503,
      body: { error: 'The console could not check this request (socket hang up). Try again.', code: 'gate_failed' },
      retryAfterS: 5,
    });
  });
});
