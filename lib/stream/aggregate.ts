import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { TributaryError } from '../errors.ts';
import { RECORD_MAX_BYTES } from './put-records.ts';

/*
 * Many envelopes in one stream record, compressed: how a table import's operations travel (lib/imports/job.ts).
 * Kinesis takes at most 1,000 records/s and 1 MiB/s per shard; one record per operation would take a 1,000,000-row
 * first import over eight minutes on a two-shard stream, with live ingest throttled all that time. Aggregated, as the
 * Kinesis Producer Library does, an import costs a few thousand records, and gzip cuts its bytes about fivefold.
 *
 * Format: the 4 bytes `F8 54 52 41` (0xF8 never occurs in UTF-8, so no JSON record starts like this), a format byte
 * (1), then gzip of the envelopes' JSON texts, one per line. Each envelope is whole and keeps its own id, so a consumer
 * sees exactly the envelopes it would have seen one record at a time. Like the KPL, an aggregate only holds envelopes
 * whose partition keys hash into one shard and is sent with that hash as its explicit hash key, so every operation of
 * one key still lands on one shard, in order.
 */

const MAGIC = Buffer.from([0xf8, 0x54, 0x52, 0x41]);
const FORMAT = 1;
const HEADER = MAGIC.length + 1;
/** Uncompressed envelope bytes per aggregate, well under a record's 1 MiB even if gzip saved nothing. */
export const AGGREGATE_MAX_BYTES = 512 * 1024;
/** Envelopes per aggregate at most: a consumer refusing one operation quarantines it alone, not its aggregate. */
export const AGGREGATE_MAX_ITEMS = 1_000;

export class AggregateFormatError extends TributaryError {
  constructor(message: string) {
    super('malformed_aggregate', message);
  }
}

/** Whether a record's data is an aggregate (by its first bytes). */
export function isAggregate(data: Uint8Array): boolean {
  return (
    data.length >= HEADER &&
    data[0] === MAGIC[0] &&
    data[1] === MAGIC[1] &&
    data[2] === MAGIC[2] &&
    data[3] === MAGIC[3]
  );
}

/**
 * The envelope texts an aggregate holds, in the order they were put in.
 *
 * @throws AggregateFormatError when the data has the aggregate's header but not its format (a newer format, a corrupt body).
 */
export function aggregateTexts(data: Uint8Array): string[] {
  if (!isAggregate(data)) throw new AggregateFormatError('The record is not an aggregate of envelopes.');
  if (data[4] !== FORMAT)
    throw new AggregateFormatError(
      `The record is an aggregate of format ${data[4]}, which this version cannot read (it reads format ${FORMAT}); upgrade the consumer.`,
    );
  let body: Buffer;
  try {
    body = gunzipSync(data.subarray(HEADER));
  } catch (err) {
    throw new AggregateFormatError(`The aggregate's body is not gzip: ${(err as Error).message}`);
  }
  const text = body.toString('utf8');
  return text.length ? text.split('\n') : [];
}

/** The 128-bit hash Kinesis places a partition key by (MD5), as a number. */
export function hashKeyOf(partitionKey: string): bigint {
  return BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);
}

/** An open shard's range of hash keys (inclusive), as ListShards gives it. */
export interface HashRange {
  shardId: string;
  start: bigint;
  end: bigint;
}

export interface AggregateItem {
  partitionKey: string;
  /** An envelope's JSON text, on one line. */
  text: string;
}

/** One record to put: the aggregate, the key it is sent with, and which items (by index) it holds. */
export interface AggregateRecord {
  data: Buffer;
  partitionKey: string;
  explicitHashKey: string;
  items: number[];
}

/**
 * Packs items into aggregates: grouped by the shard their partition key hashes into (order kept within a shard),
 * each at most {@link AGGREGATE_MAX_ITEMS} items and {@link AGGREGATE_MAX_BYTES} of text. An aggregate goes out with
 * its first item's hash as its explicit hash key, so it lands where that item would have, and with `partitionKey`
 * (what consumers' filters see; by default its first item's). Without `ranges` (or for a key no range covers, while
 * the stream is being resharded) items are grouped by nothing but order.
 *
 * @throws AggregateFormatError for an item too large for a record of its own.
 */
export function aggregate(items: AggregateItem[], ranges: HashRange[] = [], partitionKey?: string): AggregateRecord[] {
  const groups = new Map<string, number[]>();
  const hashes = items.map((it) => hashKeyOf(it.partitionKey));
  items.forEach((_, i) => {
    const h = hashes[i]!;
    const shard = ranges.find((r) => h >= r.start && h <= r.end)?.shardId ?? '';
    let g = groups.get(shard);
    if (!g) groups.set(shard, (g = []));
    g.push(i);
  });
  const out: AggregateRecord[] = [];
  for (const members of groups.values()) {
    let current: number[] = [];
    let bytes = 0;
    const flush = () => {
      if (!current.length) return;
      const body = gzipSync(Buffer.from(current.map((i) => items[i]!.text).join('\n')), { level: 1 });
      const first = current[0]!;
      const data = Buffer.concat([MAGIC, Buffer.from([FORMAT]), body]);
      const key = partitionKey ?? items[first]!.partitionKey;
      if (data.length + Buffer.byteLength(key) > RECORD_MAX_BYTES)
        throw new AggregateFormatError(`An aggregate of ${data.length} bytes does not fit in a stream record (1 MiB).`);
      out.push({
        data,
        partitionKey: key,
        explicitHashKey: hashes[first]!.toString(),
        items: current,
      });
      current = [];
      bytes = 0;
    };
    for (const i of members) {
      const { text } = items[i]!;
      if (text.includes('\n') || text.includes('\r'))
        throw new AggregateFormatError('An envelope in an aggregate must be one line of JSON.');
      const size = Buffer.byteLength(text) + 1;
      if (size > RECORD_MAX_BYTES - 1024)
        throw new AggregateFormatError(`An envelope of ${size} bytes does not fit in a stream record (1 MiB).`);
      if (current.length && (current.length >= AGGREGATE_MAX_ITEMS || bytes + size > AGGREGATE_MAX_BYTES)) flush();
      current.push(i);
      bytes += size;
    }
    flush();
  }
  return out;
}
