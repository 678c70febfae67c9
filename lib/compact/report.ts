import { logger, recordCompaction } from '../observability.ts';
import { CompactionError, type CompactResult, type UnreadableObject } from './types.ts';

/** Unreadable objects a run left behind (not the ones it repaired). */
export function leftUnreadable(result: CompactResult): UnreadableObject[] {
  return result.unreadable.filter((u) => u.quarantined === undefined);
}

/**
 * Logs and counts what a run left behind (failed partition-hours, unreadable objects) and returns the error the
 * scheduled compactor fails with then, so its invocation errors and alarm; undefined when the run left nothing behind.
 */
export function reportCompaction(result: CompactResult): CompactionError | undefined {
  const unreadable = leftUnreadable(result);
  recordCompaction({
    partitions: result.partitions,
    rows: result.rows,
    failed: result.failed.length,
    unreadable: unreadable.length,
  });
  for (const f of result.failed)
    logger.error('compaction of a partition-hour failed; the next run tries it again', { ...f });
  for (const u of unreadable)
    logger.error(
      'lake object DuckDB cannot read left as JSONL; run `tributary compact --quarantine-unreadable` to quarantine its unreadable lines',
      { ...u },
    );
  if (!result.failed.length && !unreadable.length) return undefined;
  return new CompactionError(
    'compaction_incomplete',
    `Compaction before ${result.before} left ${result.failed.length} partition-hours uncompacted and ${unreadable.length} unreadable objects as JSONL ` +
      `(first: ${result.failed[0] ? `${result.failed[0].table} ${result.failed[0].partition}: ${result.failed[0].error}` : `${unreadable[0]!.key}: ${unreadable[0]!.error}`}); every other partition-hour was compacted.`,
  );
}
