/**
 * kinesalite's sequence-number and hash-key arithmetic on native BigInt instead of bignumber.js. kinesalite parses
 * every record's 56-digit sequence number on each read, builds one per record on each write and compares every
 * partition key's MD5 with the shards' hash ranges as decimal strings; under bignumber.js that was over half of the
 * emulator's CPU in the import end-to-end bench (`npm run bench`, section 10), which made the local stream the
 * bottleneck of everything behind it. The numbers are the same: version-2 sequence numbers (the only kind kinesalite
 * makes) and decimal hash keys take the fast path, anything else (a legacy version-0/1 number, a malformed value, an
 * error to report) goes to kinesalite's own function, so its answers and errors stay exactly its own
 * (tests/unit/kinesis-numbers.test.ts compares the two).
 */

interface ComparableNumber {
  comparedTo(other: unknown): number;
  toFixed(): string;
}

export interface KinesaliteNumbers {
  parseSequence(seq: unknown): Record<string, unknown>;
  stringifySequence(obj: Record<string, unknown>): string;
  partitionKeyToHashKey(partitionKey: string): ComparableNumber;
}

const DIGITS = /^\d+$/;
const POW_2_124 = 1n << 124n;
const POW_2_124_NEXT = (1n << 125n) * 16n;
const POW_2_185 = 1n << 185n;
const POW_2_185_NEXT = (1n << 185n) + (1n << 184n);
/** kinesalite's upper bound on a shard's creation time, in seconds. */
const MAX_CREATE_SECS = 16025175000;

const shardIxToHex = (shardIx: number): string => `0000000${(shardIx || 0).toString(16)}`.slice(-8);
const hex9 = (ms: number): string => `00000000${Math.floor(ms / 1000).toString(16)}`.slice(-9);

/** Decimal hash-range bounds, parsed once: a stream has a handful, each compared on every put. */
const bounds = new Map<string, bigint>();
function decimal(s: string): bigint {
  let v = bounds.get(s);
  if (v === undefined) {
    v = BigInt(s);
    if (bounds.size > 10_000) bounds.clear();
    bounds.set(s, v);
  }
  return v;
}

/**
 * `original` with its sequence-number functions and partition-key hashing replaced by BigInt versions that give the
 * same results, falling back to the originals for everything but the common case.
 */
export function fastNumbers(original: KinesaliteNumbers, md5Hex: (s: string) => string): KinesaliteNumbers {
  const parseSequence = (seq: unknown): Record<string, unknown> => {
    if (typeof seq !== 'string' || !DIGITS.test(seq)) return original.parseSequence(seq);
    let n = BigInt(seq);
    if (n < POW_2_124) n += POW_2_124;
    if (!(n > POW_2_185 && n < POW_2_185_NEXT) || n < POW_2_124_NEXT) return original.parseSequence(seq);
    const hex = n.toString(16);
    if (hex.slice(-1) !== '2') return original.parseSequence(seq);
    const seqIxHex = hex.slice(11, 27);
    let shardIxHex = hex.slice(38, 46);
    const shardCreateSecs = Number.parseInt(hex.slice(1, 10), 16);
    // kinesalite's own errors, in its own words.
    if (Number.parseInt(seqIxHex[0]!, 16) > 7 || shardCreateSecs >= MAX_CREATE_SECS) return original.parseSequence(seq);
    if (Number.parseInt(shardIxHex[0]!, 16) > 7) shardIxHex = `-${shardIxHex}`;
    return {
      shardCreateTime: shardCreateSecs * 1000,
      seqIx: BigInt(`0x${seqIxHex}`).toString(),
      byte1: hex.slice(27, 29),
      seqTime: Number.parseInt(hex.slice(29, 38), 16) * 1000,
      shardIx: Number.parseInt(shardIxHex, 16),
      version: 2,
    };
  };

  const stringifySequence = (obj: Record<string, unknown>): string => {
    const { version, shardIx, shardCreateTime, seqTime, seqIx, byte1 } = obj as {
      version?: number | null;
      shardIx?: number;
      shardCreateTime: number;
      seqTime?: number;
      seqIx?: unknown;
      byte1?: string;
    };
    const ix = seqIx || 0;
    if (
      (version != null && version !== 2) ||
      !Number.isSafeInteger(shardIx ?? 0) ||
      (shardIx ?? 0) < 0 ||
      !Number.isFinite(shardCreateTime) ||
      shardCreateTime < 0 ||
      (seqTime != null && (!Number.isFinite(seqTime) || seqTime < 0)) ||
      !((typeof ix === 'string' && DIGITS.test(ix)) || (typeof ix === 'number' && Number.isSafeInteger(ix) && ix >= 0))
    )
      return original.stringifySequence(obj);
    const hex = [
      '2',
      hex9(shardCreateTime),
      (shardIx || 0).toString(16).slice(-1),
      `0000000000000000${BigInt(ix).toString(16)}`.slice(-16),
      byte1 || '00',
      hex9(seqTime || shardCreateTime),
      shardIxToHex(shardIx ?? 0),
      '2',
    ].join('');
    if (!/^[0-9a-f]+$/.test(hex)) return original.stringifySequence(obj);
    return BigInt(`0x${hex}`).toString();
  };

  const partitionKeyToHashKey = (partitionKey: string): ComparableNumber => {
    const hex = md5Hex(partitionKey);
    const value = BigInt(`0x${hex}`);
    return {
      comparedTo(other: unknown): number {
        if (typeof other !== 'string' || !DIGITS.test(other))
          return original.partitionKeyToHashKey(partitionKey).comparedTo(other);
        const b = decimal(other);
        return value < b ? -1 : value > b ? 1 : 0;
      },
      toFixed: () => value.toString(),
    };
  };

  return { parseSequence, stringifySequence, partitionKeyToHashKey };
}
