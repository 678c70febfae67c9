import { describe, expect, it } from 'vitest';
import { authConfig, roleForPassword, safeNext, signSession, verifySession, SESSION_MS } from '../../lib/console/auth.ts';

describe('console sign-in', () => {
  const cfg = authConfig({ TRIBUTARY_CONSOLE_PASSWORD: 'operator-pass', TRIBUTARY_CONSOLE_VIEWER_PASSWORD: 'viewer-pass' });

  it('is open locally without a password, required with one, and mandatory in AWS', () => {
    expect(authConfig({})).toEqual({ required: false, passwords: [], secure: false });
    expect(cfg.required).toBe(true);
    expect(() => authConfig({ TRIBUTARY_MODE: 'aws' })).toThrow(/TRIBUTARY_CONSOLE_PASSWORD is not set; in AWS the console requires sign-in/);
    expect(authConfig({ TRIBUTARY_MODE: 'aws', TRIBUTARY_CONSOLE_PASSWORD: 'long-enough' }).secure).toBe(true);
    expect(() => authConfig({ TRIBUTARY_CONSOLE_PASSWORD: 'short' })).toThrow(/at least 8 characters/);
  });

  it('maps each password to its role and refuses others', async () => {
    expect(await roleForPassword('operator-pass', cfg)).toBe('operator');
    expect(await roleForPassword('viewer-pass', cfg)).toBe('viewer');
    expect(await roleForPassword('operator-pas', cfg)).toBeNull();
    expect(await roleForPassword('', cfg)).toBeNull();
  });

  it('accepts its own unexpired sessions only', async () => {
    const now = Date.UTC(2026, 10, 25);
    const token = await signSession('viewer', cfg, now);
    expect(await verifySession(token, cfg, now + 1000)).toBe('viewer');
    expect(await verifySession(token, cfg, now + SESSION_MS + 1)).toBeNull();
    const [payload, sig] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ r: 'operator', e: now + SESSION_MS })).toString('base64url');
    expect(await verifySession(`${forged}.${sig}`, cfg, now)).toBeNull();
    expect(await verifySession(`${payload}.${sig}x`, cfg, now)).toBeNull();
    expect(await verifySession(`${payload}`, cfg, now)).toBeNull();
    expect(await verifySession(undefined, cfg, now)).toBeNull();
    // Another password (a rotated secret) signs every session out.
    expect(await verifySession(token, authConfig({ TRIBUTARY_CONSOLE_PASSWORD: 'new-operator-pass' }), now)).toBeNull();
  });

  it('returns only to same-site paths after sign-in', () => {
    expect(safeNext('/sql?x=1')).toBe('/sql?x=1');
    expect(safeNext('//evil.example/')).toBe('/');
    expect(safeNext('https://evil.example/')).toBe('/');
    expect(safeNext('/\\evil')).toBe('/');
    expect(safeNext(undefined)).toBe('/');
  });
});
