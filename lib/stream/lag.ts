import type { KinesisStreamEvent } from 'aws-lambda';

/**
 * How far behind the stream a consumer is, per shard, when it is handed a batch: the age of the batch's newest record
 * (what Lambda's IteratorAge measures, but per shard and per consumer, which CloudWatch does not give). A batch that
 * is retried keeps its records, so a stuck consumer's lag keeps growing. Shards come from the records' `eventID`
 * (`<shard>:<sequence>`).
 */
export function batchLag(event: KinesisStreamEvent, now = Date.now()): Map<string, number> {
  const newest = new Map<string, number>();
  for (const r of event.Records) {
    const shard = r.eventID.slice(0, r.eventID.indexOf(':'));
    const arrived = r.kinesis.approximateArrivalTimestamp * 1000;
    if (shard && Number.isFinite(arrived)) newest.set(shard, Math.max(newest.get(shard) ?? 0, arrived));
  }
  return new Map([...newest].map(([shard, t]) => [shard, Math.max(0, now - t)]));
}
