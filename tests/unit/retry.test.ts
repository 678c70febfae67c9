/** The one retry helper (lib/util/retry.ts): backoff with full jitter, retryable failures only, stops on abort. */
import { describe, expect, it } from 'vitest';
import { withRetries } from '../../lib/util/retry.ts';

function failing(times: number, err: (n: number) => Error = (n) => new Error(`fail ${n}`)) {
  let calls = 0;
  return {
    fn: async (attempt: number) => {
      calls++;
      if (calls <= times) throw err(attempt);
      return `ok after ${attempt}`;
    },
    calls: () => calls,
  };
}

describe('withRetries', () => {
  it('waits a random time below a doubling ceiling between tries and returns the first success', async () => {
    const waits: number[] = [];
    const f = failing(4);
    const logged: string[] = [];
    const out = await withRetries(f.fn, {
      attempts: 6,
      baseMs: 100,
      maxMs: 500,
      random: () => 0.5,
      sleep: async (ms) => void waits.push(ms),
      onRetry: (err, attempt) => logged.push(`${attempt}: ${(err as Error).message}`),
    });
    expect(out).toBe('ok after 5');
    expect(waits).toEqual([50, 100, 200, 250]);
    expect(logged).toEqual(['1: fail 1', '2: fail 2', '3: fail 3', '4: fail 4']);
  });

  it('throws the last failure once the attempts are used up, and a failure that is not retryable at once', async () => {
    const f = failing(10);
    await expect(withRetries(f.fn, { attempts: 3, baseMs: 1, maxMs: 1, sleep: async () => {} })).rejects.toThrow(
      'fail 3',
    );
    expect(f.calls()).toBe(3);
    const g = failing(10, (n) => Object.assign(new Error(`fatal ${n}`), { fatal: true }));
    await expect(
      withRetries(g.fn, {
        attempts: 10,
        baseMs: 1,
        maxMs: 1,
        sleep: async () => {},
        retryable: (e) => !(e as { fatal?: boolean }).fatal,
      }),
    ).rejects.toThrow('fatal 1');
    expect(g.calls()).toBe(1);
  });

  it('stops retrying when its signal aborts, even with no limit on attempts', async () => {
    const abort = new AbortController();
    const f = failing(Number.POSITIVE_INFINITY);
    const sleeps: number[] = [];
    await expect(
      withRetries(f.fn, {
        attempts: Number.POSITIVE_INFINITY,
        baseMs: 10,
        maxMs: 10,
        signal: abort.signal,
        sleep: async (ms) => {
          sleeps.push(ms);
          if (sleeps.length === 3) abort.abort();
        },
      }),
    ).rejects.toThrow('fail 3');
    expect(f.calls()).toBe(3);
  });
});
