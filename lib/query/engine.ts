import type { PartitionValues } from './partition-filter.ts';
import type { BoundValue } from './params.ts';

export type QueryState = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

/** Whether a query has ended (an unknown state, e.g. not fetched yet, has not). */
export const isFinal = (s: QueryState | undefined) => s === 'SUCCEEDED' || s === 'FAILED' || s === 'CANCELLED';

export interface ResultColumn {
  name: string;
  /** Engine type name in lower case (`bigint`, `varchar`, `double`, `timestamp`, …). */
  type: string;
}

export type Cell = string | number | boolean | null | Cell[] | { [k: string]: Cell };

export interface EngineStatus {
  state: QueryState;
  error?: string;
  /** Bytes of the objects the engine read (Athena: DataScannedInBytes). */
  bytesScanned: number;
  /** Rows produced so far (up to the row limit). */
  rows: number;
  /** True when the query had more rows than the row limit. */
  truncated: boolean;
  engineMs?: number;
  /** When the engine says the query ended (Athena's CompletionDateTime), the same for every instance that asks. */
  completedAt?: string;
  /** Where the engine wrote the full result (Athena's OutputLocation, `s3://bucket/key.csv`). */
  resultLocation?: string;
}

export interface ResultPage {
  columns: ResultColumn[];
  rows: Cell[][];
  /** Opaque token of the next page; absent on the last one. */
  nextToken?: string;
}

/** What every instance knows about a query from its record (the engines keep nothing that must outlive a process). */
export interface EngineRun {
  submittedAt: string;
  timeoutMs: number;
  rowLimit: number;
}

/** One guarded statement for an engine. */
export interface EngineQuery {
  /** One SELECT without a trailing `;`, placeholders as `?`. */
  sql: string;
  /** The placeholders' values in order. */
  values: BoundValue[];
  /** The catalog tables it reads, and `lake_objects` if it lists them (the local engine makes views for those only). */
  tables: string[];
  /** Whether a partition of a table may hold rows the statement reads (the guard's reading of its WHERE). */
  keeps(table: string, partition: PartitionValues): boolean;
}

/**
 * One SQL engine (Athena in AWS, DuckDB locally). Statements reach it already guarded; values are bound as
 * parameters, never spliced into the text. A query started by one process can be asked about by another with its id
 * and {@link EngineRun}: Athena answers any of them; the local engine only for queries of its own process, and
 * throws {@link QueryNotFoundError} for the others.
 */
export interface QueryEngine {
  readonly name: 'duckdb' | 'athena';
  start(query: EngineQuery, run: EngineRun): Promise<string>;
  status(id: string, run: EngineRun): Promise<EngineStatus>;
  results(id: string, page: { nextToken?: string; maxResults: number }, run: EngineRun): Promise<ResultPage>;
  cancel(id: string): Promise<void>;
  /** Resolves when a query of this process has ended (the local engine); undefined where another process may end it. */
  settled?(id: string): Promise<void> | undefined;
  close(): Promise<void>;
}

const INTEGER_TYPES = /^(tinyint|smallint|integer|int|bigint|hugeint|ubigint|uinteger|usmallint|utinyint)$/;
const FLOAT_TYPES = /^(double|float|real|decimal.*)$/;

/** Whether an engine's column type (lower-case name as in {@link ResultColumn}) is a number. */
export function isNumericType(type: string): boolean {
  const t = type.toLowerCase();
  return INTEGER_TYPES.test(t) || FLOAT_TYPES.test(t);
}

/** Converts an engine's text or JSON value of a column to a plain JSON value: safe integers and decimals become numbers. */
export function normalizeCell(type: string, v: unknown): Cell {
  if (v === null || v === undefined) return null;
  const t = type.toLowerCase();
  if (INTEGER_TYPES.test(t) || FLOAT_TYPES.test(t)) {
    const n = typeof v === 'number' ? v : Number(v);
    if (Number.isFinite(n) && (!INTEGER_TYPES.test(t) || Number.isSafeInteger(n))) return n;
    return String(v);
  }
  if (t === 'boolean') return v === true || v === 'true';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  return v as Cell;
}

/** The message of a query stopped at its timeout (both engines). */
export function timeoutMessage(timeoutMs: number, stopped = false): string {
  const secs = timeoutMs < 10_000 ? (timeoutMs / 1000).toFixed(1) : String(Math.round(timeoutMs / 1000));
  return `Query timed out after ${secs} s${stopped ? ' and was stopped' : ''}; add filters (dt, hour) or raise the timeout.`;
}
