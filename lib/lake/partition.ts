import { createHash } from 'node:crypto';

/** Longest encoded partition value (design.md §4). */
export const MAX_PARTITION_VALUE = 128;
const SAFE = /^[A-Za-z0-9._-]*$/;
const HASH_CHARS = 16;

/**
 * Encodes a partition value for an S3 key: keeps `[A-Za-z0-9._-]`, percent-encodes every other UTF-8 byte, maps
 * empty/`.`/`..` to `_`, and shortens values over 128 characters to a prefix plus a hash of the whole value, so no
 * value can add a path segment, climb out of its prefix, or make a key too long.
 */
export function encodePartitionValue(value: unknown): string {
  const text = value === null || value === undefined ? '' : typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  let out: string;
  if (SAFE.test(text)) {
    out = text;
  } else {
    out = '';
    for (const byte of Buffer.from(text, 'utf8')) {
      const c = String.fromCharCode(byte);
      out += byte < 128 && /[A-Za-z0-9._-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  if (out === '' || out === '.' || out === '..') return '_';
  if (out.length <= MAX_PARTITION_VALUE) return out;
  let head = out.slice(0, MAX_PARTITION_VALUE - HASH_CHARS - 2);
  // Never cut an escape in half: a dangling "%" or "%X" would decode to something else.
  const pct = head.lastIndexOf('%');
  if (pct >= 0 && pct > head.length - 3) head = head.slice(0, pct);
  return `${head}--${createHash('sha256').update(text).digest('hex').slice(0, HASH_CHARS)}`;
}

/** Inverse of the percent-encoding in {@link encodePartitionValue} (not of the hash shortening). */
export function decodePartitionValue(encoded: string): string {
  if (encoded === '_') return '';
  try {
    return decodeURIComponent(encoded.replace(/--[0-9a-f]{16}$/, ''));
  } catch {
    return encoded;
  }
}

/** Key-safe form of a shard id or type name (trusted sources, but a key must never be steerable by data). */
export function safeSegment(s: string): string {
  return encodePartitionValue(s);
}

export interface LakeKeyParts {
  type: string;
  eventTime: string;
  partitions: { name: string; value: unknown }[];
  shardId: string;
  firstSeq: string;
  lastSeq: string;
}

/** `events/<type>/dt=YYYY-MM-DD/hour=HH[/<field>=<value>]` for an event time in ISO-8601 UTC. */
export function lakePrefix(type: string, eventTime: string, partitions: { name: string; value: unknown }[]): string {
  let p = `events/${safeSegment(type)}/dt=${eventTime.slice(0, 10)}/hour=${eventTime.slice(11, 13)}`;
  for (const part of partitions) p += `/${part.name}=${encodePartitionValue(part.value)}`;
  return p;
}

/** The object name of one partition's records from one batch (design.md §4). */
export function lakeObjectName(shardId: string, firstSeq: string, lastSeq: string): string {
  return `${safeSegment(shardId)}-${firstSeq}-${lastSeq}.jsonl.gz`;
}

/** Where the compactor records which JSONL objects a Parquet object replaced (read by later runs and status, not by queries). */
export function manifestKey(parquetKey: string): string {
  return `_tributary/compaction/${parquetKey}.json`;
}
