import type { TableListing } from '@/lib/catalog/listing.ts';
import type { Cell, ResultColumn, ResultPage } from '@/lib/query/engine.ts';
import type { ParamDef } from '@/lib/query/params.ts';
import type { QueryInfo } from '@/lib/query/query-info.ts';

export type { Cell, ParamDef, QueryInfo, ResultColumn, ResultPage };

/** A table of `GET /api/catalog` (lib/catalog/listing.ts). */
export type CatalogTable = TableListing;

export interface SavedQueryInfo {
  name: string;
  description: string;
  params: ParamDef[];
  sql: string;
}

/** An error the API answered with, its message meant for the user (e.g. the partition-filter guard's). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
  }
}

export async function api<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...init?.headers } });
  const body = (await res.json().catch(() => ({}))) as T & { error?: string; code?: string };
  if (!res.ok)
    throw new ApiError(body.error ?? `${res.status} ${res.statusText}`, res.status, body.code ?? 'http_error');
  return body;
}

export { isFinal as isFinalState } from '@/lib/query/engine.ts';
export { formatBytes } from '@/lib/util/format.ts';
