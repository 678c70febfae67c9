import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  type _Record as KinesisRecord,
  type ShardIteratorType,
} from '@aws-sdk/client-kinesis';
import { listAllShards } from '../aws/kinesis.ts';
import { TributaryError } from '../errors.ts';
import { aggregateTexts, isAggregate } from './aggregate.ts';
import { compareSeq } from './records.ts';

/** Errors of the stream browser: what the caller asked for is not readable as asked (400). */
export class StreamBrowseError extends TributaryError {
  constructor(code: string, message: string) {
    super(code, message, { status: 400 });
  }
}

export interface ShardInfo {
  id: string;
  parent?: string;
  adjacentParent?: string;
  /** Child shards (from a split or merge), derived from the others' parents. */
  children: string[];
  hashKeyRange: { start: string; end: string };
  sequenceRange: { start: string; end?: string };
  open: boolean;
}

/** Every shard of a stream, open and closed, with its lineage. */
export async function listShards(kinesis: KinesisClient, streamName: string): Promise<ShardInfo[]> {
  const shards: ShardInfo[] = [];
  for (const s of await listAllShards(kinesis, streamName)) {
    shards.push({
      id: s.ShardId!,
      ...(s.ParentShardId ? { parent: s.ParentShardId } : {}),
      ...(s.AdjacentParentShardId ? { adjacentParent: s.AdjacentParentShardId } : {}),
      children: [],
      hashKeyRange: { start: s.HashKeyRange?.StartingHashKey ?? '', end: s.HashKeyRange?.EndingHashKey ?? '' },
      sequenceRange: {
        start: s.SequenceNumberRange?.StartingSequenceNumber ?? '',
        ...(s.SequenceNumberRange?.EndingSequenceNumber ? { end: s.SequenceNumberRange.EndingSequenceNumber } : {}),
      },
      open: !s.SequenceNumberRange?.EndingSequenceNumber,
    });
  }
  for (const s of shards) {
    for (const p of [s.parent, s.adjacentParent]) if (p) shards.find((x) => x.id === p)?.children.push(s.id);
  }
  return shards;
}

/** Where to start reading: the newest records, a point in time, or a sequence number. */
export type ReadFrom = { latest: true } | { timestamp: Date } | { sequence: string };

export interface BrowsedRecord {
  sequenceNumber: string;
  partitionKey: string;
  arrivedAt: string;
  bytes: number;
  /** The data as UTF-8 text, or base64 when it is not valid UTF-8. */
  text: string;
  encoding: 'utf8' | 'base64';
  /** The parsed JSON when the data is JSON; for an aggregate, its envelopes (as JSON where they are). */
  json?: unknown;
  /**
   * How many envelopes the record holds when it is an aggregate (lib/stream/aggregate.ts); `text` and `json` hold the
   * first {@link AGGREGATE_PREVIEW} of them, one per line, so a page of aggregates stays a page.
   */
  aggregated?: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Envelopes of an aggregate the browser and the live tail show (its count is shown too). */
export const AGGREGATE_PREVIEW = 10;

/** A record as the browser and the live tail show it: its metadata, its data as text (or base64) and as JSON. */
export function browsedRecord(r: KinesisRecord): BrowsedRecord {
  const data = r.Data ?? new Uint8Array();
  return {
    sequenceNumber: r.SequenceNumber!,
    partitionKey: r.PartitionKey ?? '',
    arrivedAt: (r.ApproximateArrivalTimestamp ?? new Date(0)).toISOString(),
    bytes: data.length,
    ...decode(data),
  };
}

function decode(data: Uint8Array): Pick<BrowsedRecord, 'text' | 'encoding' | 'json' | 'aggregated'> {
  if (isAggregate(data)) {
    try {
      const texts = aggregateTexts(data);
      const shown = texts.slice(0, AGGREGATE_PREVIEW);
      return { text: shown.join('\n'), encoding: 'utf8', json: shown.map(parseOrText), aggregated: texts.length };
    } catch {
      // Unreadable: shown as the bytes it is, like any other record that is not text.
    }
  }
  let text: string;
  try {
    text = utf8.decode(data);
  } catch {
    return { text: Buffer.from(data).toString('base64'), encoding: 'base64' };
  }
  try {
    return { text, encoding: 'utf8', json: JSON.parse(text) };
  } catch {
    return { text, encoding: 'utf8' };
  }
}

function parseOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface ReadOptions {
  from: ReadFrom;
  limit: number;
  /** GetRecords calls at most (each returns what a shard holds after the iterator, up to the limit). */
  maxCalls?: number;
  now?: () => Date;
}

const ITERATOR_TIMEOUT_MS = 3_000;

/** Windows "latest N" looks back over, widening until it finds enough records (then the whole retention). */
const LATEST_WINDOWS_MS = [60_000, 15 * 60_000, 3600_000, 24 * 3600_000];

/**
 * Reads records of one shard for the console's stream browser: from a timestamp or a sequence number onwards (at most
 * `limit`), or the newest `limit` records. Kinesis has no "last N", so that reads from a widening window before now and
 * keeps the tail.
 */
export async function readShard(
  kinesis: KinesisClient,
  streamName: string,
  shardId: string,
  opts: ReadOptions,
): Promise<BrowsedRecord[]> {
  if (!Number.isInteger(opts.limit) || opts.limit < 1 || opts.limit > 10_000)
    throw new StreamBrowseError('bad_limit', `limit must be a whole number from 1 to 10000, got ${opts.limit}.`);
  const now = opts.now ?? (() => new Date());
  if ('latest' in opts.from) {
    for (const windowMs of [...LATEST_WINDOWS_MS, Infinity]) {
      const since = windowMs === Infinity ? undefined : new Date(now().getTime() - windowMs);
      const all = await readFrom(
        kinesis,
        streamName,
        shardId,
        since ? { ShardIteratorType: 'AT_TIMESTAMP', Timestamp: since } : { ShardIteratorType: 'TRIM_HORIZON' },
        Number.MAX_SAFE_INTEGER,
        opts.maxCalls ?? 200,
        opts.limit,
      );
      if (all.length >= opts.limit || windowMs === Infinity) return all.slice(-opts.limit);
    }
  }
  if ('sequence' in opts.from) {
    if (!/^[0-9]{1,128}$/.test(opts.from.sequence))
      throw new StreamBrowseError(
        'bad_sequence',
        `A sequence number is digits only, got ${JSON.stringify(opts.from.sequence)}.`,
      );
    return readFrom(
      kinesis,
      streamName,
      shardId,
      { ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: opts.from.sequence },
      opts.limit,
      opts.maxCalls ?? 50,
    );
  }
  const ts = (opts.from as { timestamp: Date }).timestamp;
  if (Number.isNaN(ts.getTime()))
    throw new StreamBrowseError(
      'bad_timestamp',
      'The timestamp is not a valid date-time; use ISO-8601, e.g. 2026-01-15T10:00:00Z.',
    );
  return readFrom(
    kinesis,
    streamName,
    shardId,
    { ShardIteratorType: 'AT_TIMESTAMP', Timestamp: ts },
    opts.limit,
    opts.maxCalls ?? 50,
  );
}

async function readFrom(
  kinesis: KinesisClient,
  streamName: string,
  shardId: string,
  start: { ShardIteratorType: ShardIteratorType; Timestamp?: Date; StartingSequenceNumber?: string },
  limit: number,
  maxCalls: number,
  keepLast = Number.MAX_SAFE_INTEGER,
): Promise<BrowsedRecord[]> {
  let iterator: string | undefined;
  try {
    iterator = (
      await kinesis.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ...start }), {
        abortSignal: AbortSignal.timeout(ITERATOR_TIMEOUT_MS),
      })
    ).ShardIterator;
  } catch (err) {
    // kinesalite never answers AT_TIMESTAMP when no record arrived after the timestamp (Kinesis answers at once with
    // an iterator at the tip): a wait that long means there is nothing to read from there.
    if (start.ShardIteratorType === 'AT_TIMESTAMP' && (err as { name?: string }).name === 'AbortError') return [];
    throw err;
  }
  const out: BrowsedRecord[] = [];
  for (let calls = 0; iterator && out.length < limit && calls < maxCalls; calls++) {
    const res = await kinesis.send(
      new GetRecordsCommand({ ShardIterator: iterator, Limit: Math.min(10_000, Math.max(1, limit - out.length)) }),
    );
    for (const r of res.Records ?? []) {
      out.push(browsedRecord(r));
      if (out.length > keepLast) out.shift();
    }
    // Caught up with the shard's tip: nothing more to read now.
    if (!res.Records?.length && (res.MillisBehindLatest ?? 0) === 0) break;
    iterator = res.NextShardIterator;
  }
  out.sort((a, b) => compareSeq(a.sequenceNumber, b.sequenceNumber));
  return out.slice(0, limit);
}
