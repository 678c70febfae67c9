import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { fastNumbers, type KinesaliteNumbers } from '../../local/emulators/kinesis-numbers.ts';

const require = createRequire(import.meta.url);
// kinesalite's own module, unpatched: this file never calls loadKinesalite.
const original = require('kinesalite/db') as KinesaliteNumbers;
const BigNumber = require(require.resolve('bignumber.js', { paths: [require.resolve('kinesalite')] })) as new (
  v: string | number,
  base?: number,
) => { toFixed(): string };
const fast = fastNumbers(original, (s) => createHash('md5').update(s, 'utf8').digest('hex'));

/** A deterministic generator (mulberry32), so a failure names inputs that can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The outcome of a call: its value, or the error it threw (name and message). */
function outcome(fn: () => unknown): unknown {
  try {
    return { value: fn() };
  } catch (err) {
    return { error: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

const rnd = random(20261202);
const int = (n: number) => Math.floor(rnd() * n);

/** Sequence objects as kinesalite's actions build them: creation times, shard indexes, counters, arrival times. */
function sequenceObjects(): Record<string, unknown>[] {
  const objs: Record<string, unknown>[] = [];
  for (let i = 0; i < 2_000; i++) {
    const shardCreateTime = 1_500_000_000_000 + int(2_000_000_000_000);
    objs.push({
      shardCreateTime,
      shardIx: int(5) === 0 ? int(100_000) : int(8),
      seqIx: [0, 1, int(1_000), String(int(2 ** 31)), `${int(2 ** 30)}${int(2 ** 30)}`][int(5)],
      seqTime: int(4) === 0 ? undefined : shardCreateTime + int(10 ** 9),
      ...(int(6) === 0 ? { byte1: ['00', '01', 'ff'][int(3)] } : {}),
      ...(int(8) === 0 ? { version: 2 } : {}),
    });
  }
  // The counter kinesalite starts a closed shard's end at, the largest a version-2 number carries.
  objs.push({ shardCreateTime: 1_600_000_000_000, shardIx: 3, seqIx: new BigNumber('7fffffffffffffff', 16).toFixed() });
  // What the fast path leaves to kinesalite: legacy versions, negative or fractional values, huge counters.
  objs.push(
    { shardCreateTime: 1_600_000_000_000, shardIx: 1, version: 0, seqRand: '0123456789abcdef' },
    { shardCreateTime: 1_600_000_000_000, shardIx: 1, version: 1, seqIx: 4, seqRand: '0123456789abcd' },
    { shardCreateTime: 1_600_000_000_000, shardIx: -1 },
    { shardCreateTime: 1_600_000_000_000, shardIx: 1.5 },
    { shardCreateTime: 1_600_000_000_000.5, shardIx: 1, seqTime: 1_600_000_000_999.5 },
    { shardCreateTime: 1_600_000_000_000, shardIx: 1, seqIx: '340282366920938463463374607431768211456' },
    { shardCreateTime: 1_600_000_000_000, shardIx: 1, seqIx: 2.5 },
    { shardCreateTime: 1_600_000_000_000, shardIx: 1, version: 7 },
  );
  return objs;
}

describe("kinesalite's sequence numbers on BigInt", () => {
  const objs = sequenceObjects();

  it('builds the same sequence number as kinesalite for every object its actions build', () => {
    const differ = objs.filter(
      (o) =>
        JSON.stringify(outcome(() => fast.stringifySequence(o))) !==
        JSON.stringify(outcome(() => original.stringifySequence(o))),
    );
    expect(differ).toEqual([]);
  });

  it('parses every number to the same fields as kinesalite, and refuses the same ones with the same error', () => {
    const numbers = objs.flatMap((o) => {
      const r = outcome(() => original.stringifySequence(o)) as { value?: string };
      return r.value ? [r.value] : [];
    });
    expect(numbers.length).toBeGreaterThan(2_000);
    const edge = [
      '0',
      '1',
      '12345',
      '0049590338271490256608559692538361571095921575989136588898',
      '49590338271490256608559692538361571095921575989136588898',
      // Version 2 with a counter over 2^63 and with a creation time past kinesalite's bound.
      BigInt(`0x2${'0'.repeat(9)}0${'8'.padEnd(16, '0')}00${'0'.repeat(9)}${'0'.repeat(8)}2`).toString(),
      BigInt(`0x2${'f'.repeat(9)}0${'0'.repeat(16)}00${'0'.repeat(9)}${'0'.repeat(8)}2`).toString(),
      // Version 2's range with another last digit, and just past it.
      BigInt(`0x2${'1'.repeat(45)}5`).toString(),
      ((1n << 185n) + (1n << 184n)).toString(),
      '',
      'abc',
      '1.5',
      '-5',
      ' 12',
      '1e30',
    ];
    const differ = [...numbers, ...edge].filter(
      (n) =>
        JSON.stringify(outcome(() => fast.parseSequence(n))) !==
        JSON.stringify(outcome(() => original.parseSequence(n))),
    );
    expect(differ).toEqual([]);
    // The numbers really took the fast path: the fields round-trip.
    const seq = numbers[0]!;
    expect(fast.stringifySequence(fast.parseSequence(seq))).toBe(seq);
  });

  it('places every partition key in the same shard as kinesalite, for 1 to 16 shards', () => {
    const keys = Array.from({ length: 3_000 }, (_, i) =>
      i % 3 === 0 ? `K${i}` : i % 3 === 1 ? `bench/table/["${i}","é ✓ ${int(1e9)}"]` : `${int(1e12).toString(36)}`,
    );
    const pow128 = 1n << 128n;
    const differ: string[] = [];
    for (const shards of [1, 2, 3, 5, 16]) {
      // The bounds createStream gives each shard: floor(2^128 / n) per shard, the last ending at 2^128 - 1.
      const step = pow128 / BigInt(shards);
      const bounds = Array.from({ length: shards }, (_, i) => [
        (step * BigInt(i)).toString(),
        (i === shards - 1 ? pow128 - 1n : step * BigInt(i + 1) - 1n).toString(),
      ]);
      for (const key of keys) {
        const a = fast.partitionKeyToHashKey(key);
        const b = original.partitionKeyToHashKey(key);
        for (const [start, end] of bounds)
          if (a.comparedTo(start) !== b.comparedTo(start) || a.comparedTo(end) !== b.comparedTo(end))
            differ.push(`${shards}:${key}`);
        if (a.toFixed() !== b.toFixed()) differ.push(`value:${key}`);
        // A bound equal to the key's hash, and either side of it.
        const own = BigInt(b.toFixed());
        for (const near of [own - 1n, own, own + 1n])
          if (a.comparedTo(near.toString()) !== b.comparedTo(near.toString())) differ.push(`near:${key}`);
      }
    }
    expect(differ).toEqual([]);
    // Anything but a decimal string is compared by kinesalite's own number.
    const k = fast.partitionKeyToHashKey('K1');
    expect(k.comparedTo(0)).toBe(1);
    expect(k.comparedTo(new BigNumber(2).toFixed())).toBe(1);
  });
});
