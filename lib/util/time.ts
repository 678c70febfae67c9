import { setTimeout as wait } from 'node:timers/promises';

/**
 * Waits `ms` milliseconds (Node's promise timer), or less when `signal` aborts: a loop that is stopping just ends
 * its wait, so this resolves either way.
 *
 * @example
 * while (!signal.aborted) { await poll(); await sleep(1000, signal); }
 */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await wait(ms, undefined, signal ? { signal } : undefined);
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err;
  }
}
