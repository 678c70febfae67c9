import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { compareSeq, fromLambdaRecord, type StreamRecord } from './records.ts';

/** What a whole-batch consumer reports per shard: where re-delivery must start, if anywhere. */
export interface ShardOutcome {
  shardId: string;
  /** Lowest sequence number to deliver again; undefined when every record of the shard is done. */
  failedFrom?: string;
  /** Why, for the logs. */
  error?: string;
}

/**
 * The Lambda partial batch response of a consumer that works on a whole batch at once (the lake writer, the OLTP
 * sink): `run` sees every record of the event and says, per shard, where re-delivery must start. Lambda checkpoints
 * before the lowest reported sequence number and delivers everything from there again (and, with
 * BisectBatchOnFunctionError, splits the batch at that point), so one item per failed shard — the record at its
 * `failedFrom`, or the first record after it when that one is not in this event — is the whole answer. A shard whose
 * first record failed is reported the same way, not as a function error. When `run` throws, the error propagates: a
 * function error, and Lambda retries (or bisects) the whole batch.
 */
export async function wholeBatchResponse(
  event: KinesisStreamEvent,
  run: (records: StreamRecord[]) => Promise<ShardOutcome[]>,
): Promise<KinesisStreamBatchResponse> {
  const records = event.Records.map(fromLambdaRecord);
  const outcomes = await run(records);
  const batchItemFailures: KinesisStreamBatchResponse['batchItemFailures'] = [];
  for (const o of outcomes) {
    if (o.failedFrom === undefined) continue;
    const from = o.failedFrom;
    const first = records
      .filter((r) => r.shardId === o.shardId && compareSeq(r.sequenceNumber, from) >= 0)
      .sort((a, b) => compareSeq(a.sequenceNumber, b.sequenceNumber))[0];
    // A point past every record of its shard, or a shard not in the event, is a bug of `run`: never report success
    // for what it says failed — fail the invocation, and Lambda delivers the batch again.
    if (!first)
      throw new Error(
        `${o.shardId} failed from ${from}, which is not a record of this batch; re-delivering the whole batch`,
      );
    batchItemFailures.push({ itemIdentifier: first.sequenceNumber });
  }
  return { batchItemFailures };
}
