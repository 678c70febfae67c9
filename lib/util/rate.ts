/**
 * Paces batches so that no one-second window (more generally `windowMs`) sees more than `rate` units arrive. A batch's
 * units arrive somewhere between its start and its end, so a batch may start only when the batches that ended within
 * the last window, plus itself, fit the rate: then any two batches `rate` units apart are a full window apart.
 */
export class WindowRateLimiter {
  readonly #done: { end: number; n: number }[] = [];

  constructor(
    readonly rate: number,
    readonly windowMs = 1000,
  ) {}

  /** Milliseconds to wait before starting a batch of `n` units (0 when it may start now). */
  delayFor(n: number, now: number): number {
    while (this.#done.length && this.#done[0]!.end <= now - this.windowMs) this.#done.shift();
    let total = n;
    for (const d of this.#done) total += d.n;
    if (total <= this.rate) return 0;
    for (const d of this.#done) {
      total -= d.n;
      if (total <= this.rate) return d.end + this.windowMs - now;
    }
    // A batch larger than the rate can never fit a window: let it go alone, once the window is empty.
    return this.#done.length ? this.#done[this.#done.length - 1]!.end + this.windowMs - now : 0;
  }

  /** Records a batch of `n` units that ended at `end`. */
  record(n: number, end: number): void {
    this.#done.push({ end, n });
  }
}
