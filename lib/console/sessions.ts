import { randomBytes } from 'node:crypto';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { jwtVerify, SignJWT } from 'jose';
import { lostConditionalWrite } from '../aws/s3.ts';
import { type AuthConfig, type Role, userName } from './auth.ts';
import { ConsoleStateUnavailableError } from './errors.ts';

export const SESSION_COOKIE = 'tributary_session';
export const SESSION_MS = 12 * 3600_000;

/** Where the console keeps its state that must outlive an instance (sessions, sign-in counters). */
export const CONSOLE_STATE_PREFIX = 'console/';
const SESSIONS_PREFIX = `${CONSOLE_STATE_PREFIX}sessions/`;

/**
 * A signed-in session, kept server-side (`console/sessions/<sid>.json` in the athena-results bucket): the cookie only
 * names it, so signing out (or an operator revoking it) ends it on every console instance at once.
 */
export interface SessionRecord {
  sid: string;
  role: Role;
  /** The name given at sign-in (for the audit log). */
  name: string;
  /** ISO-8601 times. */
  created: string;
  expires: string;
  /** When the session was signed out; a revoked session never signs in again. */
  revoked?: string;
}

/** Who a session belongs to: the role, and the name given at sign-in. */
export interface SessionUser {
  role: Role;
  name: string;
  sid: string;
}

const enc = new TextEncoder();

/** The signing key: derived from the passwords, so changing a password signs every session out. */
async function key(cfg: AuthConfig): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.digest(
      'SHA-256',
      enc.encode(`tributary-console\u0000${cfg.passwords.map((p) => `${p.role}:${p.password}`).join('\u0000')}`),
    ),
  );
}

interface TokenClaims {
  sid: string;
  role: Role;
  /** Epoch ms. */
  expires: number;
}

const ISSUER = 'tributary-console';

/** The cookie value of a session: a JWT (HS256, jose) naming its id, role and expiry, so a forged one costs no S3 read. */
export async function signToken(claims: TokenClaims, cfg: AuthConfig): Promise<string> {
  return new SignJWT({ role: claims.role })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setSubject(claims.sid)
    .setExpirationTime(Math.floor(claims.expires / 1000))
    .sign(await key(cfg));
}

/** The claims of a token this console signed and that has not expired, else null (never throws). */
export async function readToken(
  token: string | undefined,
  cfg: AuthConfig,
  now = Date.now(),
): Promise<TokenClaims | null> {
  if (!token || token.length > 2048) return null;
  try {
    const { payload } = await jwtVerify(token, await key(cfg), {
      algorithms: ['HS256'],
      issuer: ISSUER,
      currentDate: new Date(now),
      clockTolerance: 0,
    });
    const { sub, role, exp } = payload;
    if (
      typeof sub !== 'string' ||
      !/^[A-Za-z0-9_-]{16,64}$/.test(sub) ||
      (role !== 'operator' && role !== 'viewer') ||
      typeof exp !== 'number'
    )
      return null;
    return { sid: sub, role, expires: exp * 1000 };
  } catch {
    return null;
  }
}

/** Session records in S3. Every console instance reads the same records, so a sign-out holds everywhere at once. */
export class SessionStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  private key(sid: string): string {
    return `${SESSIONS_PREFIX}${sid}.json`;
  }

  /** Starts a session for a role and returns its record and cookie value. */
  async create(
    role: Role,
    rawName: unknown,
    cfg: AuthConfig,
    now = Date.now(),
  ): Promise<{ record: SessionRecord; token: string }> {
    // Whole seconds, the token's precision: the record and the token expire together.
    const expires = Math.floor((now + SESSION_MS) / 1000) * 1000;
    const record: SessionRecord = {
      sid: randomBytes(24).toString('base64url'),
      role,
      name: userName(rawName, role),
      created: new Date(now).toISOString(),
      expires: new Date(expires).toISOString(),
    };
    try {
      // If-None-Match: a session id is never reused, even by a (vanishingly unlikely) collision.
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key(record.sid),
          Body: JSON.stringify(record),
          ContentType: 'application/json',
          IfNoneMatch: '*',
        }),
      );
    } catch (err) {
      throw new ConsoleStateUnavailableError('start a session', err);
    }
    return { record, token: await signToken({ sid: record.sid, role, expires }, cfg) };
  }

  /** The record of a session, or null when there is none. */
  async get(sid: string): Promise<SessionRecord | null> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(sid) }));
      return JSON.parse(await res.Body!.transformToString()) as SessionRecord;
    } catch (err) {
      if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') return null;
      throw new ConsoleStateUnavailableError('check the session', err);
    }
  }

  /**
   * The user of a cookie: a token this console signed, naming a session that exists, is not revoked and has not
   * expired; else null. Throws {@link ConsoleStateUnavailableError} when S3 does not answer (the gate then answers 503,
   * never lets the request through).
   */
  async user(token: string | undefined, cfg: AuthConfig, now = Date.now()): Promise<SessionUser | null> {
    const claims = await readToken(token, cfg, now);
    if (!claims) return null;
    const record = await this.get(claims.sid);
    if (!record || record.revoked || record.role !== claims.role || Date.parse(record.expires) <= now) return null;
    return { role: record.role, name: record.name, sid: record.sid };
  }

  /**
   * Ends the session a cookie names (sign-out): its record is marked revoked, so the cookie stops working on every
   * instance. A cookie that names no valid session is ignored. The overwrite is conditional on the record read, so a
   * concurrent revoke and a stale read never bring a revoked session back.
   */
  async revoke(token: string | undefined, cfg: AuthConfig, now = Date.now()): Promise<boolean> {
    const claims = await readToken(token, cfg, now);
    if (!claims) return false;
    for (let attempt = 0; attempt < 5; attempt++) {
      let etag: string | undefined;
      let record: SessionRecord;
      try {
        const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(claims.sid) }));
        etag = res.ETag;
        record = JSON.parse(await res.Body!.transformToString()) as SessionRecord;
      } catch (err) {
        if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') return false;
        throw new ConsoleStateUnavailableError('sign out', err);
      }
      if (record.revoked) return false;
      try {
        const revoked: SessionRecord = { ...record, revoked: new Date(now).toISOString() };
        await this.s3.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: this.key(claims.sid),
            Body: JSON.stringify(revoked),
            ContentType: 'application/json',
            ...(etag ? { IfMatch: etag } : {}),
          }),
        );
        return true;
      } catch (err) {
        if (!lostConditionalWrite(err)) throw new ConsoleStateUnavailableError('sign out', err);
      }
    }
    throw new ConsoleStateUnavailableError('sign out', new Error('the session record kept changing'));
  }
}

/** The Set-Cookie value of a session (or of its removal when `token` is null). */
export function sessionCookie(token: string | null, cfg: AuthConfig): string {
  const attrs = `Path=/; HttpOnly; SameSite=Lax${cfg.secure ? '; Secure' : ''}`;
  return token === null
    ? `${SESSION_COOKIE}=; ${attrs}; Max-Age=0`
    : `${SESSION_COOKIE}=${token}; ${attrs}; Max-Age=${SESSION_MS / 1000}`;
}
