import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { applyRecords, type ImportApplierDeps } from '../../lib/imports/applier.ts';
import { importApplierDeps } from '../../lib/composition.ts';
import { recordConsumerLag } from '../../lib/observability.ts';
import { wholeBatchResponse } from '../../lib/stream/batch.ts';

export type ImportApplierHandler = (event: KinesisStreamEvent, context: Context) => Promise<KinesisStreamBatchResponse>;

/** Kinesis → imported tables in Postgres: a table import's operations only (the mapping filters them). */
export const createHandler =
  (deps: () => ImportApplierDeps): ImportApplierHandler =>
  async (event) => {
    recordConsumerLag('import-applier', event);
    return wholeBatchResponse(event, (records) => applyRecords(records, deps()));
  };

let deps: ImportApplierDeps | undefined;
export const handler = createHandler(() => (deps ??= importApplierDeps()));
