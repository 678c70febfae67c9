import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { oltpSinkBatch, type OltpSinkDeps } from '../../lib/oltp/sink.ts';
import { oltpSinkDeps } from '../../lib/composition.ts';
import { recordConsumerLag } from '../../lib/observability.ts';

export type OltpSinkHandler = (event: KinesisStreamEvent, context: Context) => Promise<KinesisStreamBatchResponse>;

/** Kinesis → normalized Postgres tables: transactions events only, each chunk in one database transaction. */
export const createHandler =
  (deps: () => OltpSinkDeps): OltpSinkHandler =>
  async (event) => {
    recordConsumerLag('oltp-sink', event);
    return oltpSinkBatch(event, deps());
  };

let deps: OltpSinkDeps | undefined;
export const handler = createHandler(() => (deps ??= oltpSinkDeps()));
