import type { Actor } from '../quarantine/access.ts';
import type { QueryEngine, QueryState } from './engine.ts';
import type { BoundValue } from './params.ts';

/** Athena's price: $5 per TB scanned, rounded up to the megabyte, at least 10 MB per query. */
export const ATHENA_USD_PER_TB = 5;
const MB = 1024 * 1024;
const TB = 1024 ** 4;

/** What Athena would charge for a query that scanned `bytes` (failed queries are not charged). */
export function athenaCostUsd(bytes: number, state: QueryState): number {
  if (state === 'FAILED' || state === 'QUEUED') return 0;
  const billed = Math.max(10 * MB, Math.ceil(bytes / MB) * MB);
  return (billed / TB) * ATHENA_USD_PER_TB;
}

export interface QueryLimits {
  timeoutMs: number;
  /** Rows kept per query; more are cut off and the result says `truncated`. */
  rowLimit: number;
  /**
   * The partition-filter guard's limit: a query whose estimated scan (the bytes of the partitions its dt/hour filters
   * keep, over every table it reads) is larger is refused unless an operator lifts the guard.
   */
  maxUnfilteredScanBytes: number;
}

export const DEFAULT_LIMITS: QueryLimits = {
  timeoutMs: 5 * 60_000,
  rowLimit: 10_000,
  maxUnfilteredScanBytes: 100 * MB,
};

export interface QueryRequest {
  sql: string;
  params?: Record<string, BoundValue>;
  /** Name of the saved query it came from. */
  saved?: string;
  /** Lift the partition-filter guard for this query (operators only). */
  allowFullScan?: boolean;
  rowLimit?: number;
  timeoutMs?: number;
  /**
   * Who runs it: the console's signed-in user, the CLI's OS user. Without one the caller is this process itself (the
   * CLI, the benchmark, tests), which acts as an operator.
   */
  actor?: Actor;
  /** A page's own query (not one its user wrote): left out of the history list. */
  unlisted?: boolean;
  /** Where it was sent from: a refusal says how to lift the guard there (default: the HTTP API's field). */
  via?: 'console' | 'cli' | 'api';
}

/** One query as the service reports it, as its start record stores it, and as its history entry stores it. */
export interface QueryInfo {
  id: string;
  engine: QueryEngine['name'];
  sql: string;
  saved?: string;
  params: Record<string, string | number>;
  /** Who ran it (the signed-in user's name, else their role; the CLI's OS user). */
  by?: string;
  state: QueryState;
  error?: string;
  submittedAt: string;
  completedAt?: string;
  elapsedMs: number;
  bytesScanned: number;
  costUsd: number;
  rows: number;
  truncated: boolean;
  /** The limits it runs with (any instance applies them from the record). */
  timeoutMs: number;
  rowLimit: number;
  /** The guard's estimate of the bytes it scans (before it ran). */
  estimatedBytes?: number;
  /** Key of the CSV of the result in the athena-results bucket (the local engine's, or Athena's own). */
  resultKey?: string;
  /** Output columns a viewer sees masked, and how (lib/query/sensitive.ts). */
  masks?: Record<string, 'card' | 'name' | 'email' | 'street' | 'text'>;
  /** Why a viewer may not see this query's result (it uses a sensitive column other than selecting it). */
  viewerRefusal?: string;
  /** Run by a page for itself (the Schemas page's failures), not by its user: kept, but not in the history list. */
  unlisted?: true;
  /** Known before it ran: why it will return nothing (its dt filter keeps no day the data has), and what to try. */
  notice?: string;
}
