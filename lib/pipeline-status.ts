import { DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { listAll, readJsonl } from './aws/s3.ts';
import { listAllShards } from './aws/kinesis.ts';
import { errorMessage } from './errors.ts';
import { manifestKey } from './lake/partition.ts';
import { mapLimit } from './util/concurrency.ts';
import type { TributaryConfig } from './config.ts';

export interface PipelineStatus {
  stream: { name: string; status: string; shards: { id: string; open: boolean; parent?: string }[]; error?: string };
  lake: {
    objects: number;
    bytes: number;
    rows: number;
    byType: Record<string, { objects: number; bytes: number; rows: number; partitions: number }>;
  };
  quarantine: {
    objects: number;
    records: number;
    byStage: Record<string, number>;
    byReason: Record<string, number>;
    byType: Record<string, number>;
  };
  onFailure: { objects: number; records: number };
}

/**
 * Counts what the pipeline holds: stream shards, lake objects/bytes/rows per type, quarantined records per stage,
 * reason and type, and on-failure batches. Reads every lake and quarantine object, so it is exact, not estimated.
 */
export async function pipelineStatus(
  config: TributaryConfig,
  clients: { kinesis: KinesisClient; s3: S3Client },
): Promise<PipelineStatus> {
  const { kinesis, s3 } = clients;
  const stream: PipelineStatus['stream'] = { name: config.streamName, status: 'UNKNOWN', shards: [] };
  try {
    const sum = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: config.streamName }));
    stream.status = sum.StreamDescriptionSummary?.StreamStatus ?? 'UNKNOWN';
    stream.shards = (await listAllShards(kinesis, config.streamName)).map((s) => ({
      id: s.ShardId!,
      open: !s.SequenceNumberRange?.EndingSequenceNumber,
      ...(s.ParentShardId ? { parent: s.ParentShardId } : {}),
    }));
  } catch (err) {
    stream.error = errorMessage(err);
  }

  // Compacted hours are Parquet objects whose manifests list the JSONL objects they replaced and their row counts;
  // JSONL objects still listed there (an interrupted compaction) are hidden from queries, so they are not counted.
  const compacted = (await listAll(s3, config.buckets.lake, 'compacted/')).filter((o) => o.Key!.endsWith('.parquet'));
  const manifests = await mapLimit(compacted, 16, async (o) => {
    const res = await s3.send(new GetObjectCommand({ Bucket: config.buckets.lake, Key: manifestKey(o.Key!) }));
    return JSON.parse(await res.Body!.transformToString()) as { sources: string[]; rows: number };
  });
  const covered = new Set(manifests.flatMap((m) => m.sources));
  const lakeObjects = (await listAll(s3, config.buckets.lake, 'events/')).filter(
    (o) => o.Key!.endsWith('.jsonl.gz') && !covered.has(o.Key!),
  );
  const rows = await mapLimit(lakeObjects, 16, async (o) => (await readJsonl(s3, config.buckets.lake, o.Key!)).length);
  lakeObjects.push(...compacted);
  rows.push(...manifests.map((m) => m.rows));
  const lake: PipelineStatus['lake'] = { objects: lakeObjects.length, bytes: 0, rows: 0, byType: {} };
  const partitions = new Map<string, Set<string>>();
  lakeObjects.forEach((o, i) => {
    const type = o.Key!.split('/')[1]!;
    const t = (lake.byType[type] ??= { objects: 0, bytes: 0, rows: 0, partitions: 0 });
    t.objects++;
    t.bytes += o.Size ?? 0;
    t.rows += rows[i]!;
    lake.bytes += o.Size ?? 0;
    lake.rows += rows[i]!;
    const set = partitions.get(type) ?? new Set<string>();
    // A partition is the same whether its objects are JSONL (events/) or compacted Parquet (compacted/).
    set.add(o.Key!.slice(o.Key!.indexOf('/') + 1, o.Key!.lastIndexOf('/')));
    partitions.set(type, set);
  });
  for (const [type, set] of partitions) lake.byType[type]!.partitions = set.size;

  const qObjects = await listAll(s3, config.buckets.quarantine, 'records/');
  const quarantine: PipelineStatus['quarantine'] = {
    objects: qObjects.length,
    records: 0,
    byStage: {},
    byReason: {},
    byType: {},
  };
  const qRecords = await mapLimit(qObjects, 16, (o) =>
    readJsonl<{ stage: string; reason: string; type?: string }>(s3, config.buckets.quarantine, o.Key!),
  );
  for (const recs of qRecords) {
    for (const r of recs) {
      quarantine.records++;
      quarantine.byStage[r.stage] = (quarantine.byStage[r.stage] ?? 0) + 1;
      quarantine.byReason[r.reason] = (quarantine.byReason[r.reason] ?? 0) + 1;
      const t = r.type ?? '(unknown)';
      quarantine.byType[t] = (quarantine.byType[t] ?? 0) + 1;
    }
  }
  const failures = await listAll(s3, config.buckets.quarantine, 'aws/lambda/');
  let failureRecords = 0;
  for (const o of failures) {
    const res = await s3.send(new GetObjectCommand({ Bucket: config.buckets.quarantine, Key: o.Key! }));
    const body = JSON.parse(await res.Body!.transformToString()) as { KinesisBatchInfo?: { batchSize?: number } };
    failureRecords += body.KinesisBatchInfo?.batchSize ?? 0;
  }
  return { stream, lake, quarantine, onFailure: { objects: failures.length, records: failureRecords } };
}
