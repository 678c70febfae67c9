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
}

export interface ResultPage {
  columns: ResultColumn[];
  rows: Cell[][];
  /** Opaque token of the next page; absent on the last one. */
  nextToken?: string;
}

export interface EngineStartOptions {
  timeoutMs: number;
  rowLimit: number;
}

/**
 * One SQL engine (Athena in AWS, DuckDB locally). Statements reach it already guarded; values are bound as
 * parameters, never spliced into the text.
 */
export interface QueryEngine {
  readonly name: 'duckdb' | 'athena';
  start(sql: string, values: BoundValue[], opts: EngineStartOptions): Promise<string>;
  status(id: string): Promise<EngineStatus>;
  results(id: string, page: { nextToken?: string; maxResults: number }): Promise<ResultPage>;
  cancel(id: string): Promise<void>;
  close(): Promise<void>;
}

const INTEGER_TYPES = /^(tinyint|smallint|integer|int|bigint|hugeint|ubigint|uinteger|usmallint|utinyint)$/;
const FLOAT_TYPES = /^(double|float|real|decimal.*)$/;

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
