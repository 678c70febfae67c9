import { describe, expect, it } from 'vitest';
import { WindowRateLimiter } from '../../lib/util/rate.ts';

describe('WindowRateLimiter', () => {
  it('lets batches through until a window is full, then waits for the oldest to leave it', () => {
    const l = new WindowRateLimiter(500);
    expect(l.delayFor(125, 0)).toBe(0);
    l.record(125, 40);
    l.record(125, 290);
    l.record(125, 540);
    l.record(125, 790);
    // 500 ended within the last second: the next batch waits until the first one (ended at 40) is a second old.
    expect(l.delayFor(125, 1000)).toBe(40);
    expect(l.delayFor(125, 1040)).toBe(0);
    // Two batches must leave for 250 units.
    expect(l.delayFor(250, 1040)).toBe(250);
  });

  it('never lets more than the rate arrive in any one-second window of a simulated job', () => {
    const l = new WindowRateLimiter(500);
    const arrivals: number[] = [];
    let t = 0;
    for (let i = 0; i < 40; i++) {
      t += l.delayFor(125, t);
      // Each batch's records arrive spread over a put that takes 10–70 ms.
      const took = 10 + ((i * 37) % 61);
      for (let k = 0; k < 125; k++) arrivals.push(t + (took * k) / 125);
      t += took;
      l.record(125, t);
    }
    let worst = 0;
    for (const a of arrivals) worst = Math.max(worst, arrivals.filter((b) => b >= a && b < a + 1000).length);
    expect(worst).toBe(500);
    // And it keeps close to the rate: 5,000 records in about 10 s.
    expect(t).toBeGreaterThan(9000);
    expect(t).toBeLessThan(11_000);
  });

  it('lets a batch larger than the rate go alone', () => {
    const l = new WindowRateLimiter(10);
    expect(l.delayFor(50, 0)).toBe(0);
    l.record(50, 100);
    expect(l.delayFor(50, 200)).toBe(900);
  });
});
