import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { oltpSinkBatch, type OltpSinkDeps } from '../../lib/oltp/sink.ts';
import { oltpSinkDeps } from '../../lib/runtime.ts';

export type OltpSinkHandler = (event: KinesisStreamEvent, context: Context) => Promise<KinesisStreamBatchResponse>;

/** Kinesis → normalized Postgres tables: transactions events only, each chunk in one database transaction. */
export const createHandler = (deps: () => OltpSinkDeps): OltpSinkHandler => {
  const processor = new BatchProcessor(EventType.KinesisDataStreams);
  return async (event, context) => processPartialResponse(event, oltpSinkBatch(event.Records.length, deps()).add, processor, { context });
};

let deps: OltpSinkDeps | undefined;
export const handler = createHandler(() => (deps ??= oltpSinkDeps()));
