import type { S3Client } from '@aws-sdk/client-s3';
import type { DuckDBInstance } from '@duckdb/node-api';
import type { Catalog, TableDef } from '../catalog/catalog.ts';
import { TributaryError } from '../errors.ts';

/** Errors of the compactor. */
export class CompactionError extends TributaryError {}

export interface CompactDeps {
  s3: S3Client;
  catalog: Catalog;
  /** The quarantine bucket is needed only to quarantine unreadable lines (`quarantineUnreadable`). */
  buckets: { lake: string; quarantine?: string };
  /** Scratch space for downloaded objects and the Parquet being written (Lambda: /tmp). */
  workDir?: string;
  /** Compressed JSONL bytes that go into one Parquet object (≈ its size; ZSTD Parquet is about as small as gzip JSON). */
  targetBytes?: number;
  /** Partition-hours compacted at the same time (default 4). */
  concurrency?: number;
  /** Test hook: runs after a Parquet object is written and before its sources are deleted (a crash point). */
  afterWrite?: (parquetKey: string) => Promise<void>;
}

export interface CompactOptions {
  /** Compact partition-hours strictly before this hour, `YYYY-MM-DDTHH` (UTC); default: hours that ended ≥ 1 h ago. */
  before?: string;
  /** Only these tables (default: every table with a compacted layout). */
  tables?: string[];
  /** The run's clock: the default cut-off and the time a repair quarantines at. */
  now?: Date;
  /**
   * Repair: move the lines of unreadable objects that DuckDB cannot read into the quarantine (stage `lake-writer`,
   * reason `malformed_json`, source `compactor`), from where they are fixed and re-driven, rewrite those objects
   * without them and compact them with the rest.
   */
  quarantineUnreadable?: boolean;
  onProgress?: (p: { table: string; partition: string; done: number; total: number }) => void;
}

/** A partition-hour whose compaction failed (S3, scratch space, a missing manifest …); the next run tries it again. */
export interface CompactFailure {
  table: string;
  partition: string;
  error: string;
}

/** A JSONL object DuckDB cannot read: left as it is (and reported every run) until it is repaired. */
export interface UnreadableObject {
  table: string;
  key: string;
  /** DuckDB's error for the object on its own. */
  error: string;
  /** Lines moved to the quarantine by a `quarantineUnreadable` run (the object was then compacted). */
  quarantined?: number;
}

export interface CompactResult {
  before: string;
  /** Partition-hours that held JSONL objects before the cut-off. */
  partitions: number;
  /** JSONL objects turned into Parquet (and deleted). */
  sourceObjects: number;
  parquetObjects: number;
  rows: number;
  /** Rows left out as copies of an event that another row ranks before (see the tables' dedupe rule). */
  duplicates: number;
  bytesIn: number;
  bytesOut: number;
  /** JSONL objects a Parquet object already covered (left behind by an interrupted run) that were deleted now. */
  resumed: number;
  /** Unreadable lines moved to the quarantine (only with `quarantineUnreadable`). */
  quarantined: number;
  failed: CompactFailure[];
  /** Objects left as JSONL because DuckDB cannot read them; their partition's other objects were compacted. */
  unreadable: UnreadableObject[];
  ms: number;
}

/** What the compactor records beside a Parquet object: the JSONL objects it replaced and their rows. */
export interface Manifest {
  parquet: string;
  sources: string[];
  rows?: number;
  /** Rows of the sources left out as copies of an event another row ranks before. */
  duplicates?: number;
  createdAt: string;
}

export const DEFAULT_TARGET_BYTES = 128 * 1024 * 1024;

/** One compaction run over one table: what every step of it shares. */
export interface Run {
  deps: CompactDeps;
  options: CompactOptions;
  db: DuckDBInstance;
  t: TableDef;
  work: string;
  result: CompactResult;
}
