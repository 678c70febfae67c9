import { createHash } from 'node:crypto';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { lostConditionalWrite } from '../aws/s3.ts';
import { ConsoleStateUnavailableError, SignInThrottledError } from './errors.ts';
import { CONSOLE_STATE_PREFIX } from './sessions.ts';

/** At most `limit` failed sign-ins per `windowMs` (a fixed window that starts with the first failure). */
export interface ThrottleRule {
  limit: number;
  windowMs: number;
}

/**
 * Failed sign-ins allowed: 10 per client address per 15 minutes (a person mistyping is never stopped; a password
 * guesser gets 40 tries an hour per address), and 100 per 15 minutes from all addresses together (a guesser spread over
 * many addresses is held to 400 an hour; sign-in pauses for everyone until the window ends, which the alarm log shows).
 */
export const SIGN_IN_LIMITS: { client: ThrottleRule; global: ThrottleRule } = {
  client: { limit: 10, windowMs: 15 * 60_000 },
  global: { limit: 100, windowMs: 15 * 60_000 },
};

interface Counter {
  /** Epoch ms the window started. */
  start: number;
  /** Attempts counted in the window. */
  n: number;
}

const THROTTLE_PREFIX = `${CONSOLE_STATE_PREFIX}throttle/`;

/**
 * Sign-in attempt counters shared by every console instance (`console/throttle/…` in S3, each updated by conditional
 * PutObject, so concurrent attempts on any number of instances are all counted). An attempt is counted before its
 * password is checked and given back when it succeeds: a burst of parallel guesses cannot get past the limit while
 * the counter is being written, and only failures use up the allowance.
 */
export class SignInThrottle {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly rules = SIGN_IN_LIMITS,
  ) {}

  /** The key of a client's counter: its address hashed, so no address is stored. */
  private clientKey(client: string): string {
    return `${THROTTLE_PREFIX}client/${createHash('sha256').update(client).digest('hex').slice(0, 32)}.json`;
  }

  private readonly globalKey = `${THROTTLE_PREFIX}global.json`;

  private async read(key: string): Promise<{ counter: Counter; etag: string } | null> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return { counter: JSON.parse(await res.Body!.transformToString()) as Counter, etag: res.ETag ?? '' };
    } catch (err) {
      if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') return null;
      throw new ConsoleStateUnavailableError('check the sign-in throttle', err);
    }
  }

  /** Writes `next` if the counter is still what was read; false when another attempt wrote it first. */
  private async write(key: string, next: Counter, etag: string | null): Promise<boolean> {
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: JSON.stringify(next),
          ContentType: 'application/json',
          ...(etag === null ? { IfNoneMatch: '*' } : { IfMatch: etag }),
        }),
      );
      return true;
    } catch (err) {
      if (lostConditionalWrite(err)) return false;
      throw new ConsoleStateUnavailableError('count the sign-in attempt', err);
    }
  }

  /** Counts one attempt against a counter (returns its window's start), or returns the seconds to wait when its window is used up. */
  private async take(
    key: string,
    rule: ThrottleRule,
    now: () => number,
  ): Promise<{ wait: number } | { start: number }> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const cur = await this.read(key);
      const t = now();
      const live = cur && t < cur.counter.start + rule.windowMs ? cur.counter : { start: t, n: 0 };
      if (live.n >= rule.limit) return { wait: Math.max(1, Math.ceil((live.start + rule.windowMs - t) / 1000)) };
      if (await this.write(key, { start: live.start, n: live.n + 1 }, cur ? cur.etag : null))
        return { start: live.start };
      // Another attempt counted first: read again (jittered, so a burst spreads out).
      await new Promise((r) => setTimeout(r, 2 + Math.random() * 20));
    }
    throw new ConsoleStateUnavailableError('count the sign-in attempt', new Error('the counter kept changing'));
  }

  /** Gives back an attempt counted in the window that started at `start` (a window that has moved on is left). */
  private async give(key: string, start: number): Promise<void> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const cur = await this.read(key);
      if (!cur || cur.counter.start !== start || cur.counter.n <= 0) return;
      if (await this.write(key, { start, n: cur.counter.n - 1 }, cur.etag)) return;
      await new Promise((r) => setTimeout(r, 2 + Math.random() * 20));
    }
  }

  /**
   * Counts a sign-in attempt from `client` (per client, then globally) before its password is checked. Throws
   * {@link SignInThrottledError} (429, `Retry-After`) when either allowance is used up. The returned function gives
   * the attempt back; call it when the password was right.
   */
  async admit(client: string, now: () => number = Date.now): Promise<() => Promise<void>> {
    const ck = this.clientKey(client);
    const mine = await this.take(ck, this.rules.client, now);
    if ('wait' in mine) throw new SignInThrottledError('client', mine.wait);
    const global = await this.take(this.globalKey, this.rules.global, now);
    if ('wait' in global) {
      await this.give(ck, mine.start);
      throw new SignInThrottledError('global', global.wait);
    }
    return async () => {
      await this.give(ck, mine.start);
      await this.give(this.globalKey, global.start);
    };
  }
}
