import type { Context } from 'aws-lambda';
import { importJobDeps } from '../../lib/composition.ts';
import {
  handleImportTrigger,
  type ImportTrigger,
  type ImportTriggerDeps,
  type TriggerResult,
} from '../../lib/imports/drops.ts';

/** Time kept back from the function's timeout: the chunk in flight finishes and the lease is given back. */
const MARGIN_MS = 60_000;

export type ImportJobHandler = (
  event: ImportTrigger,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
) => Promise<TriggerResult>;

/**
 * S3 `ObjectCreated` under `exports/` in the imports bucket, or the schedule's `{"sweep": true}` → the import job
 * (lib/imports/drops.ts). It stops a minute before its timeout with its progress saved; the next sweep goes on.
 */
export const createHandler =
  (deps: () => ImportTriggerDeps): ImportJobHandler =>
  async (event, context) =>
    handleImportTrigger(event, deps(), {
      // A short timeout keeps half of it, whatever the margin.
      ...(context
        ? {
            deadline:
              Date.now() +
              Math.max(context.getRemainingTimeInMillis() - MARGIN_MS, context.getRemainingTimeInMillis() / 2),
          }
        : {}),
    });

let deps: ImportTriggerDeps | undefined;
export const handler = createHandler(() => (deps ??= importJobDeps()));
