import { sleep as pause } from './time.ts';

export interface RetryOptions {
  /** Tries in all, the first included (Infinity: until it succeeds or `signal` aborts). */
  attempts: number;
  /** The backoff's first ceiling; it doubles each retry up to `maxMs` (full jitter: a random wait below it). */
  baseMs: number;
  maxMs: number;
  /** Whether a failure is worth another try (default: every one). */
  retryable?: (err: unknown) => boolean;
  /** Called before each wait, e.g. to log the failure. */
  onRetry?: (err: unknown, attempt: number) => void;
  /** Stops retrying: the last failure is thrown at once. */
  signal?: AbortSignal;
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Runs `fn` until it succeeds, retrying failures with exponential backoff and full jitter (AWS's recommendation for
 * contended retries). For work the AWS SDK does not already retry: a write that must land (the SDK's own attempts
 * exhausted), a database transaction that lost a serialization conflict.
 *
 * @throws the last failure, when it is not retryable, the attempts are used up or `signal` aborted.
 * @example
 * await withRetries(() => s3.send(put), { attempts: 5, baseMs: 200, maxMs: 3_200 });
 */
export async function withRetries<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? pause;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const retry = attempt < options.attempts && !options.signal?.aborted && (options.retryable?.(err) ?? true);
      if (!retry) throw err;
      options.onRetry?.(err, attempt);
      await sleep(Math.floor(random() * Math.min(options.maxMs, options.baseMs * 2 ** (attempt - 1))), options.signal);
      if (options.signal?.aborted) throw err;
    }
  }
}
