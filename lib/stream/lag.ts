import type { KinesisStreamEvent } from 'aws-lambda';

/**
 * How far behind the stream a consumer is, per shard, when it is handed a batch: the age of the batch's newest record
 * (what Lambda's IteratorAge measures, but per shard and per consumer, which CloudWatch does not give). A batch that
 * is retried keeps its records, so a stuck consumer's lag keeps growing. Shards come from the records' `eventID`
 * (`<shard>:<sequence>`).
 */
export function batchLag(event: KinesisStreamEvent, now = Date.now()): Map<string, number> {
  const arrivals = new Map<string, number[]>();
  for (const r of event.Records) {
    const shard = r.eventID.slice(0, r.eventID.indexOf(':'));
    if (!shard) continue;
    const times = arrivals.get(shard) ?? [];
    times.push(r.kinesis.approximateArrivalTimestamp * 1000);
    arrivals.set(shard, times);
  }
  return new Map([...arrivals].map(([shard, times]) => [shard, newestAge(times, now)]));
}

/** The lag of one shard's batch: the age of its newest record, from the records' arrival times (epoch ms). */
export function newestAge(arrivalsMs: Iterable<number>, now = Date.now()): number {
  let newest = Number.NEGATIVE_INFINITY;
  for (const t of arrivalsMs) if (Number.isFinite(t) && t > newest) newest = t;
  return newest === Number.NEGATIVE_INFINITY ? 0 : Math.max(0, now - newest);
}
