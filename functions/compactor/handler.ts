import type { ScheduledEvent } from 'aws-lambda';
import { compactLake } from '../../lib/compact/compact.ts';
import { reportCompaction } from '../../lib/compact/report.ts';
import type { CompactResult } from '../../lib/compact/types.ts';
import { compactorDeps } from '../../lib/composition.ts';

/**
 * Scheduled: compacts every closed partition-hour (ended ≥ 1 h before the event's time) into Parquet; fails the
 * invocation after the run when a partition-hour could not be compacted or an object cannot be read.
 */
export const handler = async (event: ScheduledEvent): Promise<CompactResult> => {
  const result = await compactLake(compactorDeps(), { now: new Date(event.time) });
  const incomplete = reportCompaction(result);
  if (incomplete) throw incomplete;
  return result;
};
