import type { Context } from 'aws-lambda';
import type { JobState } from '../../lib/quarantine/service.ts';
import { redriveWorkerStep } from '../../lib/composition.ts';

/** Invoked asynchronously by the console with `{job}`: runs a re-drive job, continuing in a new invocation if needed. */
export const handler = async (event: { job: string }, context: Context): Promise<JobState> =>
  redriveWorkerStep(event.job, context.getRemainingTimeInMillis(), context.functionName);
