import type { ScheduledEvent } from 'aws-lambda';
import { compactLake, type CompactResult } from '../../lib/lake/compact.ts';
import { compactorDeps } from '../../lib/runtime.ts';

/** Scheduled: compacts every closed partition-hour (ended ≥ 1 h before the event's time) into Parquet. */
export const handler = async (event: ScheduledEvent): Promise<CompactResult> => compactLake(compactorDeps(), { now: new Date(event.time) });
