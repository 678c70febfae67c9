/**
 * The four buckets of design.md §4–§7. Logical names are PascalCase (SST `Resource.<Name>`); the physical names are
 * generated per app/stage and reach the functions through TRIBUTARY_*_BUCKET (see stacks/lambda.ts).
 */

/** `events/<type>/dt=…/hour=…/…jsonl.gz` plus compacted Parquet (design.md §4). */
export const lake = new sst.aws.Bucket('Lake');

/** Quarantined records and the re-drive ledger (design.md §5); also the lake writer's on-failure destination. */
export const quarantine = new sst.aws.Bucket('Quarantine');

/** Athena query results. */
export const athenaResults = new sst.aws.Bucket('AthenaResults');

/** Bulk imports waiting to be replayed onto the stream. */
export const imports = new sst.aws.Bucket('Imports');
