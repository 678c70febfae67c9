import type { KinesisStreamRecord } from 'aws-lambda';

/** A stream record as consumers see it, independent of the Lambda event shape. */
export interface StreamRecord {
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  data: Buffer;
  /** Approximate arrival time in epoch ms. */
  arrivedAt: number;
}

/** Compares two Kinesis sequence numbers (decimal strings of up to 128 bits). */
export function compareSeq(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Shard id of a Lambda Kinesis record (`eventID` is `<shardId>:<sequenceNumber>`). */
export function shardIdOf(record: KinesisStreamRecord): string {
  const id = record.eventID ?? '';
  const i = id.lastIndexOf(':');
  return i > 0 ? id.slice(0, i) : 'shardId-unknown';
}

/** Decodes a Lambda Kinesis record. */
export function fromLambdaRecord(record: KinesisStreamRecord): StreamRecord {
  return {
    shardId: shardIdOf(record),
    sequenceNumber: record.kinesis.sequenceNumber,
    partitionKey: record.kinesis.partitionKey,
    data: Buffer.from(record.kinesis.data, 'base64'),
    arrivedAt: Math.round(record.kinesis.approximateArrivalTimestamp * 1000),
  };
}

/** Splits a batch by shard, keeping each shard's records in their order (Lambda sends one shard; tests may mix). */
export function groupByShard(records: StreamRecord[]): StreamRecord[][] {
  const byShard = new Map<string, StreamRecord[]>();
  for (const r of records) {
    const list = byShard.get(r.shardId);
    if (list) list.push(r);
    else byShard.set(r.shardId, [r]);
  }
  return [...byShard.values()];
}
