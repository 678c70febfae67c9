import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { lakeBatch, type LakeWriterDeps } from '../../lib/lake/writer.ts';
import { lakeWriterDeps } from '../../lib/runtime.ts';

export type LakeWriterHandler = (event: KinesisStreamEvent, context: Context) => Promise<KinesisStreamBatchResponse>;

/** Kinesis → lake: one gzip JSONL object per partition per batch; undecodable records go to quarantine. */
export const createHandler = (deps: () => LakeWriterDeps): LakeWriterHandler => {
  const processor = new BatchProcessor(EventType.KinesisDataStreams);
  return async (event, context) => processPartialResponse(event, lakeBatch(event.Records.length, deps()).add, processor, { context });
};

let deps: LakeWriterDeps | undefined;
export const handler = createHandler(() => (deps ??= lakeWriterDeps()));
