import type { S3Client } from '@aws-sdk/client-s3';
import { listAll, readJsonl } from '../aws/s3.ts';
import { mapLimit } from '../util/concurrency.ts';

/** How recent the lake is: its newest object, and the newest event time in what was written last. */
export interface LakeFreshness {
  /** When the newest lake object was written (ISO), null for an empty lake. */
  newestObjectAt: string | null;
  newestObjectAgeMs: number | null;
  /** The newest `event_time` among the most recently written objects (ISO), null when there are none. */
  newestEventTime: string | null;
  newestEventAgeMs: number | null;
  at: string;
}

// Objects read for the event time: the last few batches are where the newest events are, without reading the lake.
const NEWEST_OBJECTS_READ = 3;

/**
 * Lake freshness from one listing and a few reads: the newest object's write time (JSONL or compacted Parquet), and
 * the newest event time in the most recently written JSONL objects. An event that arrives late for an old hour can
 * make that event time older than the newest in the lake; it answers "how old are the events landing now".
 */
export async function lakeFreshness(s3: S3Client, bucket: string, now: Date = new Date()): Promise<LakeFreshness> {
  const objects = [...(await listAll(s3, bucket, 'events/')), ...(await listAll(s3, bucket, 'compacted/'))].filter(
    (o) => o.LastModified && (o.Key!.endsWith('.jsonl.gz') || o.Key!.endsWith('.parquet')),
  );
  objects.sort((a, b) => b.LastModified!.getTime() - a.LastModified!.getTime());
  const newest = objects[0]?.LastModified ?? null;
  const recent = objects.filter((o) => o.Key!.endsWith('.jsonl.gz')).slice(0, NEWEST_OBJECTS_READ);
  const rows = (
    await mapLimit(recent, NEWEST_OBJECTS_READ, (o) => readJsonl<{ event_time?: string }>(s3, bucket, o.Key!))
  ).flat();
  let eventMs: number | null = null;
  for (const r of rows) {
    const t = r.event_time ? Date.parse(r.event_time) : NaN;
    if (Number.isFinite(t) && (eventMs === null || t > eventMs)) eventMs = t;
  }
  const age = (t: number | null) => (t === null ? null : Math.max(0, now.getTime() - t));
  return {
    newestObjectAt: newest ? newest.toISOString() : null,
    newestObjectAgeMs: age(newest ? newest.getTime() : null),
    newestEventTime: eventMs === null ? null : new Date(eventMs).toISOString(),
    newestEventAgeMs: age(eventMs),
    at: now.toISOString(),
  };
}
