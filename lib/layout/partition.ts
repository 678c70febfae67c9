import { createHash } from 'node:crypto';

/** Longest encoded partition value (architecture.md §6): keeps a directory name under 255 bytes and every key far below S3's 1,024. */
export const MAX_PARTITION_VALUE = 128;
/**
 * Directory value of a missing (null) partition value. DuckDB's hive partitioning reads it (and `null` in any case) as
 * NULL, and so do the Athena views; a string that looks like either is escaped instead.
 */
export const NULL_PARTITION = '__HIVE_DEFAULT_PARTITION__';
/** Between the head and the hash of a value too long (or not well-formed enough) to keep whole. */
const SHORTENED = '\u2026';
const HASH_CHARS = 32;
const SHORTENED_FORM = new RegExp(`${SHORTENED}[0-9a-f]{${HASH_CHARS}}$`, 'u');
const LONE_SURROGATE = /\p{Cs}/u;
const SAFE_BYTE = (b: number) =>
  (b >= 0x30 && b <= 0x39) ||
  (b >= 0x41 && b <= 0x5a) ||
  (b >= 0x61 && b <= 0x7a) ||
  b === 0x2d ||
  b === 0x2e ||
  b === 0x5f;
const hex = (b: number) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`;

/** Percent-encodes the UTF-8 bytes of text that are not `[A-Za-z0-9._-]`. */
function percentEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) out += SAFE_BYTE(byte) ? String.fromCharCode(byte) : hex(byte);
  return out;
}

/** The text a partition value is stored as: strings as they are, other JSON values as their JSON text. */
function partitionText(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/**
 * Encodes a partition value as one key segment so that distinct values stay distinct and read back as themselves in
 * both engines (DuckDB's hive partitioning and the Athena views percent-decode it, see {@link decodePartitionValue}):
 * - `[A-Za-z0-9._-]` is kept, every other UTF-8 byte is percent-encoded (`%` itself included), so no value can add a
 *   path segment;
 * - `''` stays empty (`section=`), `.` and `..` become `%2E` and `%2E%2E` (never a dot segment), `null`/`undefined`
 *   become {@link NULL_PARTITION}, and strings a reader would take for NULL (`null` in any case,
 *   `__HIVE_DEFAULT_PARTITION__`) get their first character escaped;
 * - a value whose encoding would pass {@link MAX_PARTITION_VALUE} characters (or that holds a lone surrogate, which
 *   has no UTF-8 form, or that already ends like a shortened value) becomes its head, `…` and 32 hex digits of the
 *   SHA-256 of the whole value: still distinct, and never equal to the encoding of any other value.
 *
 * Values that the encoding before this one kept faithfully (everything but `''`, `.`, `..`, `null`-like strings and
 * values over 128 characters) encode exactly as they did, so the directories already in a lake keep their meaning.
 */
export function encodePartitionValue(value: unknown): string {
  if (value === null || value === undefined) return NULL_PARTITION;
  const text = partitionText(value);
  if (!LONE_SURROGATE.test(text) && !SHORTENED_FORM.test(text)) {
    const out = percentEncode(text);
    if (out.length <= MAX_PARTITION_VALUE) {
      if (out === '.' || out === '..') return out.replaceAll('.', '%2E');
      if (/^null$/i.test(out) || out === NULL_PARTITION) return `${hex(out.charCodeAt(0))}${out.slice(1)}`;
      return out;
    }
  }
  const hash = createHash('sha256').update(text, 'utf16le').digest('hex').slice(0, HASH_CHARS);
  const tail = `${percentEncode(SHORTENED)}${hash}`;
  let head = '';
  // Whole code points only: a cut inside a UTF-8 sequence would leave an escape that does not decode.
  for (const ch of text.replace(/\p{Cs}/gu, '\uFFFD')) {
    const e = percentEncode(ch);
    if (head.length + e.length + tail.length > MAX_PARTITION_VALUE) break;
    head += e;
  }
  return `${head}${tail}`;
}

/**
 * The value a partition directory reads as, exactly as DuckDB's hive partitioning and the Athena views read it:
 * {@link NULL_PARTITION} and `null` (any case) are NULL, everything else is percent-decoded. The inverse of
 * {@link encodePartitionValue} for every value it keeps whole; a shortened one reads as `head…hash`.
 */
export function decodePartitionValue(encoded: string): string | null {
  if (encoded === NULL_PARTITION || /^null$/i.test(encoded)) return null;
  // Escape runs decode together (a UTF-8 sequence spans several); a run that does not decode stays as written.
  return encoded.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
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

/**
 * Where a table import's operations land in the lake: `imports/<table>/changes/dt=/hour=/tenant=/`, dt and hour from
 * the envelope's event time (the export's registration), the tenant encoded like any partition value.
 */
export function changesPrefix(table: string, eventTime: string, tenant: unknown): string {
  return `imports/${safeSegment(table)}/changes/dt=${eventTime.slice(0, 10)}/hour=${eventTime.slice(11, 13)}/tenant=${encodePartitionValue(tenant)}`;
}

/** The object name of one partition's records from one batch (architecture.md §6). */
export function lakeObjectName(shardId: string, firstSeq: string, lastSeq: string): string {
  return `${safeSegment(shardId)}-${firstSeq}-${lastSeq}.jsonl.gz`;
}

/** Where the compactor records which JSONL objects a Parquet object replaced (read by later runs and status, not by queries). */
export function manifestKey(parquetKey: string): string {
  return `_tributary/compaction/${parquetKey}.json`;
}
