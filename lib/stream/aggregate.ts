import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { TributaryError } from '../errors.ts';

/*
 * Many envelopes in one stream record, compressed: how a table import's operations travel (lib/imports/job.ts).
 * Kinesis takes at most 1,000 records/s and 1 MiB/s per shard; one record per operation would take a 1,000,000-row
 * first import over eight minutes on a two-shard stream, with live ingest throttled all that time. Aggregated, as the
 * Kinesis Producer Library does, an import costs a few records per thousand operations, and gzip cuts its bytes.
 *
 * Format 1: a JSON object `{"tributary_aggregate": 1, "type": "import.<table>", "count": n, "gzip": "<base64>"}`,
 * keys in that order, where `gzip` holds the envelopes' JSON texts, one per line. JSON, and with a `type`, because
 * Lambda filters Kinesis records on their JSON `data` only (not on the partition key), and the applier's mapping
 * must let aggregates through while the OLTP sink's keeps them out. Each envelope is whole and keeps its own id, so a
 * consumer sees exactly the envelopes it would have seen one record at a time. Like the KPL, an aggregate only holds
 * envelopes whose partition keys hash into one shard and goes out with the first one's partition key and hash
 * (`ExplicitHashKey`), so one key's operations land on its shard, in order, while the shards do not change.
 */

const MARK = '{"tributary_aggregate":';
const MARK_BYTES = Buffer.from(MARK);
const FORMAT = 1;
/** Uncompressed envelope bytes per aggregate, well under a record's 1 MiB even if gzip saved nothing. */
export const AGGREGATE_MAX_BYTES = 512 * 1024;
/** Envelopes per aggregate at most: a consumer refusing one operation quarantines it alone, not its aggregate. */
export const AGGREGATE_MAX_ITEMS = 1_000;

export class AggregateFormatError extends TributaryError {
  constructor(
    /** `unsupported`: a format this version cannot read (upgrade the consumer); `corrupt`: not readable at all. */
    readonly problem: 'unsupported' | 'corrupt',
    message: string,
  ) {
    super('malformed_aggregate', message);
  }
}

/** Whether a record's data is an aggregate (by its first bytes; cheap enough to ask of every record). */
export function isAggregate(data: Uint8Array): boolean {
  if (data.length < MARK_BYTES.length) return false;
  for (let i = 0; i < MARK_BYTES.length; i++) if (data[i] !== MARK_BYTES[i]) return false;
  return true;
}

/**
 * The envelope texts an aggregate holds, in the order they were put in.
 *
 * @throws AggregateFormatError when the data starts like an aggregate but is not one this version can read.
 */
export function aggregateTexts(data: Uint8Array): string[] {
  if (!isAggregate(data)) throw new AggregateFormatError('corrupt', 'The record is not an aggregate of envelopes.');
  let a: { tributary_aggregate?: unknown; count?: unknown; gzip?: unknown };
  try {
    a = JSON.parse(Buffer.from(data).toString('utf8')) as typeof a;
  } catch (err) {
    throw new AggregateFormatError('corrupt', `The aggregate is not JSON: ${(err as Error).message}`);
  }
  if (a.tributary_aggregate !== FORMAT)
    throw new AggregateFormatError(
      'unsupported',
      `The record is an aggregate of format ${JSON.stringify(a.tributary_aggregate)}, which this version cannot read (it reads format ${FORMAT}); deploy the consumers of the version that wrote it.`,
    );
  if (typeof a.gzip !== 'string' || typeof a.count !== 'number')
    throw new AggregateFormatError('corrupt', 'The aggregate lacks its "count" or "gzip".');
  let body: Buffer;
  try {
    // Bounded: an aggregate holds at most AGGREGATE_MAX_BYTES of envelopes.
    body = gunzipSync(Buffer.from(a.gzip, 'base64'), { maxOutputLength: 2 * AGGREGATE_MAX_BYTES });
  } catch (err) {
    throw new AggregateFormatError(
      'corrupt',
      `The aggregate's envelopes are not readable gzip: ${(err as Error).message}`,
    );
  }
  const text = body.toString('utf8');
  const texts = text.length ? text.split('\n') : [];
  if (texts.length !== a.count)
    throw new AggregateFormatError(
      'corrupt',
      `The aggregate says it holds ${a.count} envelopes but holds ${texts.length}.`,
    );
  return texts;
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

/** One record to put: the aggregate (or, for an item alone, its own envelope), its keys, which items it holds. */
export interface AggregateRecord {
  data: Buffer;
  partitionKey: string;
  explicitHashKey: string;
  items: number[];
}

/**
 * Packs items into aggregates of envelope type `type`: grouped by the shard their partition key hashes into (order
 * kept within a shard), each at most {@link AGGREGATE_MAX_ITEMS} items and {@link AGGREGATE_MAX_BYTES} of text, sent
 * with its first item's partition key and hash. An item that ends up alone goes as its own envelope (nothing to gain,
 * and a large one might not fit once encoded). Without `ranges` (or for a key no range covers, while the stream is
 * being resharded) items are grouped by nothing but order.
 *
 * @throws AggregateFormatError for an item that is not one line of JSON.
 */
export function aggregate(items: AggregateItem[], ranges: HashRange[], type: string): AggregateRecord[] {
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
      const first = current[0]!;
      const { partitionKey, text } = items[first]!;
      let data: Buffer;
      if (current.length === 1) data = Buffer.from(text);
      else {
        const gz = gzipSync(Buffer.from(current.map((i) => items[i]!.text).join('\n')), { level: 1 });
        data = Buffer.from(
          `${MARK}${FORMAT},"type":${JSON.stringify(type)},"count":${current.length},"gzip":"${gz.toString('base64')}"}`,
        );
      }
      out.push({ data, partitionKey, explicitHashKey: hashes[first]!.toString(), items: current });
      current = [];
      bytes = 0;
    };
    for (const i of members) {
      const { text } = items[i]!;
      if (text.includes('\n') || text.includes('\r'))
        throw new AggregateFormatError('corrupt', 'An envelope in an aggregate must be one line of JSON.');
      const size = Buffer.byteLength(text) + 1;
      if (current.length && (current.length >= AGGREGATE_MAX_ITEMS || bytes + size > AGGREGATE_MAX_BYTES)) flush();
      current.push(i);
      bytes += size;
    }
    flush();
  }
  return out;
}
