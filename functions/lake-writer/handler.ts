import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { lakeBatch, type LakeWriterDeps } from '../../lib/lake/writer.ts';
import { lakeWriterDeps } from '../../lib/composition.ts';
import { recordConsumerLag } from '../../lib/observability.ts';

export type LakeWriterHandler = (event: KinesisStreamEvent, context: Context) => Promise<KinesisStreamBatchResponse>;

/** Kinesis → lake: one gzip JSONL object per partition per batch; undecodable records go to quarantine. */
export const createHandler =
  (deps: () => LakeWriterDeps): LakeWriterHandler =>
  async (event) => {
    recordConsumerLag('lake-writer', event);
    return lakeBatch(event, deps());
  };

let deps: LakeWriterDeps | undefined;
export const handler = createHandler(() => (deps ??= lakeWriterDeps()));
