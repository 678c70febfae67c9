import type { KinesisStreamRecord } from 'aws-lambda';
import { compareSeq, fromLambdaRecord, type StreamRecord } from './records.ts';

/** What a whole-batch consumer reports per shard: where re-delivery must start, if anywhere. */
export interface ShardOutcome {
  shardId: string;
  /** Lowest sequence number to deliver again; undefined when every record of the shard is done. */
  failedFrom?: string;
  /** Why, for the per-record error Powertools reports. */
  error?: string;
}

/**
 * Adapts a consumer that works on a whole batch at once (the lake writer, the OLTP sink) to Powertools' per-record
 * handler contract: each record's promise settles once the whole batch has run, and rejects for every record at or
 * after its shard's re-delivery point, so Powertools reports exactly the records Lambda must deliver again
 * (`ReportBatchItemFailures`). When `run` throws, every record fails (the batch is retried whole).
 */
export function wholeBatch(
  expected: number,
  run: (records: StreamRecord[]) => Promise<ShardOutcome[]>,
  errorFor: (outcome: ShardOutcome) => Error,
): { add: (record: KinesisStreamRecord) => Promise<void> } {
  const pending: { record: StreamRecord; resolve: () => void; reject: (e: Error) => void }[] = [];
  const flush = async () => {
    try {
      const outcomes = await run(pending.map((p) => p.record));
      const from = new Map(outcomes.filter((o) => o.failedFrom !== undefined).map((o) => [o.shardId, o]));
      for (const p of pending) {
        const o = from.get(p.record.shardId);
        if (o && compareSeq(p.record.sequenceNumber, o.failedFrom!) >= 0) p.reject(errorFor(o));
        else p.resolve();
      }
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      for (const p of pending) p.reject(e);
    }
  };
  return {
    add(record) {
      return new Promise<void>((resolve, reject) => {
        pending.push({ record: fromLambdaRecord(record), resolve, reject });
        if (pending.length === expected) void flush();
      });
    },
  };
}
