import type { S3Client } from '@aws-sdk/client-s3';
import { listAll } from '../aws/s3.ts';
import { partitionValuesOf, type TableDef } from '../catalog/catalog.ts';
import { formatBytes } from '../util/format.ts';
import { QueryRefusedError } from './errors.ts';
import type { ObjectSet, TableRead } from './guard.ts';
import type { PartitionValues } from './partition-filter.ts';

/** Bytes and objects of one partition directory of a table. */
export interface PartitionSize {
  values: PartitionValues;
  bytes: number;
  objects: number;
}

/** A table's objects by partition: the JSONL ones and the compacted Parquet ones. */
export interface TableListing {
  raw: PartitionSize[];
  compacted: PartitionSize[];
}

/** What one table reference of a query would scan. */
export interface ScanEstimate {
  read: TableRead;
  bytes: number;
  objects: number;
  partitions: number;
  firstDt?: string;
  lastDt?: string;
  /** The days of the table's data in the object set read, whatever the filter keeps. */
  dataFirstDt?: string;
  dataLastDt?: string;
  /** The filter's constraint on dt alone rules out every day the table has (other partition columns left open). */
  dtKeepsNone?: boolean;
}

const SIZE_CACHE_MS = 30_000;

/**
 * What a guarded query would scan, from the bucket listings: the bytes and objects of the partitions each table
 * reference's filter keeps (Athena bills the bytes of the objects it opens).
 */
export class ScanEstimator {
  readonly #listings = new Map<string, { at: number; listing: TableListing }>();

  constructor(
    readonly s3: S3Client,
    readonly buckets: { lake: string; quarantine: string },
  ) {}

  /** A table's objects grouped by partition directory (JSONL and compacted), from the bucket listing; cached for 30 s. */
  async tableListing(t: TableDef): Promise<TableListing> {
    const cached = this.#listings.get(t.name);
    if (cached && Date.now() - cached.at < SIZE_CACHE_MS) return cached.listing;
    const bucket = t.bucket === 'lake' ? this.buckets.lake : this.buckets.quarantine;
    const group = async (prefix: string | undefined): Promise<PartitionSize[]> => {
      if (!prefix) return [];
      const byDir = new Map<string, PartitionSize>();
      for (const o of await listAll(this.s3, bucket, prefix)) {
        const values = partitionValuesOf(t, o.Key!);
        if (!values) continue;
        const dir = o.Key!.slice(0, o.Key!.lastIndexOf('/'));
        const p = byDir.get(dir) ?? { values, bytes: 0, objects: 0 };
        p.bytes += o.Size ?? 0;
        p.objects++;
        byDir.set(dir, p);
      }
      return [...byDir.values()];
    };
    const listing = { raw: await group(t.prefix), compacted: await group(t.compactedPrefix) };
    this.#listings.set(t.name, { at: Date.now(), listing });
    return listing;
  }

  /** What each table reference of a guarded query would scan: the objects of the partitions its filter keeps. */
  async estimate(reads: TableRead[]): Promise<ScanEstimate[]> {
    const out: ScanEstimate[] = [];
    for (const read of reads) {
      const listing = await this.tableListing(read.table);
      const sets: Record<ObjectSet, PartitionSize[]> = {
        all: [...listing.raw, ...listing.compacted],
        raw: listing.raw,
        compacted: listing.compacted,
      };
      const e: ScanEstimate = { read, bytes: 0, objects: 0, partitions: 0 };
      for (const p of sets[read.objects]) {
        const day = p.values.dt;
        if (day && (!e.dataFirstDt || day < e.dataFirstDt)) e.dataFirstDt = day;
        if (day && (!e.dataLastDt || day > e.dataLastDt)) e.dataLastDt = day;
        if (!read.keeps(p.values)) continue;
        e.bytes += p.bytes;
        e.objects += p.objects;
        e.partitions++;
        const dt = p.values.dt;
        if (dt && (!e.firstDt || dt < e.firstDt)) e.firstDt = dt;
        if (dt && (!e.lastDt || dt > e.lastDt)) e.lastDt = dt;
      }
      if (e.dataLastDt) {
        const days = new Set(sets[read.objects].map((p) => p.values.dt).filter((d): d is string => !!d));
        e.dtKeepsNone = ![...days].some((dt) => read.keeps({ dt }));
      }
      out.push(e);
    }
    return out;
  }
}

/**
 * Why a query will return nothing before it runs: a filter on dt that keeps none of a table's days while the table has
 * data (a saved query's default "last 7 days" on data from another year). Says which days there are and a week to try.
 */
export function emptyFilterNotice(estimate: ScanEstimate[]): string | undefined {
  const missed = estimate.filter((e) => e.partitions === 0 && e.dtKeepsNone);
  if (!missed.length) return undefined;
  return missed
    .map((e) => {
      const last = e.dataLastDt!;
      const weekBefore = new Date(Date.parse(`${last}T00:00:00Z`) - 6 * 86_400_000).toISOString().slice(0, 10);
      const from = [weekBefore, e.dataFirstDt!].sort()[1]!;
      const days = e.dataFirstDt === last ? `only ${last}` : `${e.dataFirstDt} to ${last}`;
      return `The filter on dt keeps none of the days ${e.read.written} has: its data is from ${days}. Try dates in that range, e.g. ${from}..${last} (WHERE dt BETWEEN '${from}' AND '${last}').`;
    })
    .join(' ');
}

/**
 * The refusal of a query whose estimated scan is over the limit: what each table reference would scan, and the filter
 * to add to the worst one (with dates taken from the data it would read, else `today`).
 */
/** Where a query was sent from, so a refusal names the way to lift the guard there. */
export type QueryVia = 'console' | 'cli' | 'api';

/** How an operator lifts the guard, in the words of where the query came from. */
export function liftHint(via: QueryVia = 'api'): string {
  return via === 'console'
    ? 'An operator can run it anyway by ticking "allow a full scan" under the editor.'
    : via === 'cli'
      ? 'An operator can run it anyway with --allow-full-scan.'
      : 'An operator can run it anyway by sending "allowFullScan": true.';
}

export function scanRefusal(
  estimate: ScanEstimate[],
  total: number,
  limitBytes: number,
  today: string,
  via: QueryVia = 'api',
): QueryRefusedError {
  const parts = estimate
    .filter((e) => e.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes)
    .map((e) => {
      const range = !e.firstDt ? '' : e.firstDt === e.lastDt ? `, dt ${e.firstDt}` : `, dt ${e.firstDt} … ${e.lastDt}`;
      const how = e.read.constrained
        ? 'kept by its filter'
        : 'with no filter on dt in the WHERE of the SELECT that reads it';
      return `${e.read.written}: ${formatBytes(e.bytes)} in ${e.objects.toLocaleString('en-US')} objects${range}, ${how}`;
    });
  const worst = estimate.reduce((a, e) => (e.bytes > a.bytes ? e : a));
  if (worst.read.view)
    return new QueryRefusedError(
      'partition_filter_required',
      `This query would scan about ${formatBytes(total)} (${parts.join('; ')}); the scan limit is ${formatBytes(limitBytes)}. ` +
        `${worst.read.written} is the current rows of an imported table: it reads every operation in ${worst.read.table.name}, and no filter on it can narrow that. Query imports.${worst.read.written} in Postgres for the current rows, or ${worst.read.table.name} with a filter on dt for the changes of some days. ${liftHint(via)}`,
    );
  const last = worst.lastDt ?? today;
  const weekBefore = new Date(Date.parse(`${last}T00:00:00Z`) - 6 * 86_400_000).toISOString().slice(0, 10);
  const add = worst.read.constrained
    ? `Narrow the filter on dt where ${worst.read.written} is read`
    : `Add a filter on dt to the WHERE of the SELECT that reads ${worst.read.written}`;
  return new QueryRefusedError(
    'partition_filter_required',
    `This query would scan about ${formatBytes(total)} (${parts.join('; ')}); the scan limit is ${formatBytes(limitBytes)}. ` +
      `${add}, e.g. WHERE dt = '${last}' or WHERE dt BETWEEN '${weekBefore}' AND '${last}' (a filter on hour narrows only the _raw and _compacted tables of Athena; the one-row-per-event tables read whole days). ${liftHint(via)}`,
  );
}
