import path from 'node:path';
import { Catalog, SOURCE_COLUMN, dedupeRank, type ColumnDef, type TableDef } from './catalog.ts';
import { duckType, quoteIdent, quoteString } from './types.ts';

/**
 * Where a local object store keeps objects on disk: `<bucketDir>/<key><suffix>`. DuckDB reads them straight from
 * there (httpfs cannot be installed offline), with hive partitioning so filters on dt/hour prune whole directories.
 */
export interface LocalObjectLayout {
  bucketDir(role: TableDef['bucket'] | 'athenaResults'): string;
  suffix: string;
}

/** The layout of s3rver's filesystem store under `<dataDir>/s3` (the `tributary dev` emulator). */
export function s3rverLayout(
  dataDir: string,
  buckets: { lake: string; quarantine: string; athenaResults: string },
): LocalObjectLayout {
  return { bucketDir: (role) => path.join(dataDir, 's3', buckets[role]), suffix: '._S3rver_object' };
}

/** Glob of a table's objects of one format below a prefix, one `*` per partition level. */
export function objectGlob(t: TableDef, layout: LocalObjectLayout, prefix: string, extension: string): string {
  const dir = path.join(layout.bucketDir(t.bucket), prefix);
  return `${dir}${t.partitions.map(() => '*/').join('')}*${extension}${layout.suffix}`;
}

function hiveTypes(t: TableDef): string {
  return `{${t.partitions.map((p) => `${quoteString(p.name)}: ${duckType(p.type)}`).join(', ')}}`;
}

function duckRawExpr(c: ColumnDef): string {
  const ref = c.path.map(quoteIdent).join('.');
  if (c.fromText) return `CAST(${ref} AS ${duckType(c.type)})`;
  return c.isoTimestamp ? `CAST(${ref} AS TIMESTAMP)` : ref;
}

/** Which of a table's object sets exist, so a view never globs an empty pattern (DuckDB fails on "no files"). */
export interface PresentFiles {
  raw: boolean;
  compacted: boolean;
  /**
   * JSONL keys a Parquet object already holds (their deletion is still pending). Locally the engine reads them from
   * the compaction manifests, which is cheaper than the anti-join on `_source` that Athena does: that would open
   * every Parquet footer of the table on each query, as DuckDB does not push the query's dt filter into it.
   */
  hidden?: string[];
}

/**
 * The rows of JSONL objects as the table exposes them (columns, then partitions from the path), plus `_key`: the
 * object's key, which compacted rows carry as their `_source`. Shared by the views and the compactor so a compacted
 * row is exactly the row it replaces.
 */
export function duckRawSelect(t: TableDef, layout: LocalObjectLayout, glob: string): string {
  const root = layout.bucketDir(t.bucket) + path.sep;
  const columns = `{${t.rawColumns.map((c) => `${quoteString(c.key)}: ${quoteString(duckType(c.type))}`).join(', ')}}`;
  const scan = `read_json(${quoteString(glob)}, format = 'newline_delimited', compression = 'gzip', hive_partitioning = true, hive_types = ${hiveTypes(t)}, columns = ${columns}, filename = '_file')`;
  // The object key: the file path without the bucket directory and the store's suffix.
  const key = `substr(_file, ${root.length + 1}, length(_file) - ${root.length + layout.suffix.length})`;
  const select = [
    ...t.columns.map((c) => `${duckRawExpr(c)} AS ${quoteIdent(c.name)}`),
    ...t.partitions.map((p) => quoteIdent(p.name)),
    `${key} AS _key`,
  ];
  return `SELECT ${select.join(', ')} FROM ${scan}`;
}

/**
 * DuckDB SQL of a table's view over local files: the same columns, types and row set as the Athena view (JSONL rows
 * no Parquet object holds, plus compacted Parquet rows), one row per event under the table's dedupe rule.
 * `dedupe: false` shows every stored copy (what the bench compares the rule's cost with).
 */
export function duckViewSql(
  t: TableDef,
  layout: LocalObjectLayout,
  present: PresentFiles,
  options: { dedupe?: boolean } = {},
): string {
  const cols = [...t.columns.map((c) => `${quoteIdent(c.name)}`), ...t.partitions.map((p) => quoteIdent(p.name))];
  const empty = `SELECT ${[...t.columns.map((c) => `CAST(NULL AS ${duckType(c.type)}) AS ${quoteIdent(c.name)}`), ...t.partitions.map((p) => `CAST(NULL AS ${duckType(p.type)}) AS ${quoteIdent(p.name)}`)].join(', ')} WHERE false`;
  const parts: string[] = [];
  if (present.raw) {
    const raw = duckRawSelect(t, layout, objectGlob(t, layout, t.prefix, '.jsonl.gz'));
    const hidden = present.hidden?.length ? ` WHERE _key NOT IN (${present.hidden.map(quoteString).join(', ')})` : '';
    parts.push(`SELECT ${cols.join(', ')}, _key FROM (${raw})${hidden}`);
  }
  if (t.compactedPrefix && present.compacted)
    parts.push(`SELECT ${cols.join(', ')}, ${quoteIdent(SOURCE_COLUMN)} AS _key FROM ${compactedScan(t, layout)}`);
  if (!parts.length) return empty;
  const rows = parts.join('\nUNION ALL\n');
  // A filter on the rule's scope (dt) is pushed below the window into both scans, so partitions still prune.
  if (t.dedupe && options.dedupe !== false)
    return `SELECT ${cols.join(', ')} FROM (\n${rows}\n) QUALIFY ${dedupeRank(t.dedupe, '_key')} = 1`;
  return `SELECT ${cols.join(', ')} FROM (\n${rows}\n)`;
}

function compactedScan(t: TableDef, layout: LocalObjectLayout): string {
  return `read_parquet(${quoteString(objectGlob(t, layout, t.compactedPrefix!, '.parquet'))}, hive_partitioning = true, hive_types = ${hiveTypes(t)})`;
}

/**
 * `lake_objects(table_name, format, dt, partition, key, bytes)`: every object of every table, listed without reading
 * it. The local stand-in for Athena's `"$path"`/`"$file_size"` pseudo-columns (used by the lake-health query).
 */
export function lakeObjectsViewSql(
  catalog: Catalog,
  layout: LocalObjectLayout,
  present: (t: TableDef) => PresentFiles,
): string {
  const parts: string[] = [];
  for (const t of catalog.tables()) {
    const root = layout.bucketDir(t.bucket) + path.sep;
    const sets: [string | undefined, string, string, boolean][] = [
      [t.prefix, '.jsonl.gz', 'jsonl', present(t).raw],
      [t.compactedPrefix, '.parquet', 'parquet', present(t).compacted],
    ];
    for (const [prefix, ext, format, exists] of sets) {
      if (!prefix || !exists) continue;
      parts.push(
        `SELECT ${quoteString(t.name)} AS table_name, ${quoteString(format)} AS format, regexp_extract(filename, '/dt=([^/]+)/', 1) AS dt, ` +
          `regexp_extract(filename, '/(dt=.*)/[^/]+$', 1) AS partition, substr(filename, ${root.length + 1}, length(filename) - ${root.length + layout.suffix.length}) AS key, size AS bytes ` +
          `FROM read_blob(${quoteString(objectGlob(t, layout, prefix, ext))})`,
      );
    }
  }
  return parts.length
    ? parts.join('\nUNION ALL\n')
    : `SELECT CAST(NULL AS VARCHAR) AS table_name, CAST(NULL AS VARCHAR) AS format, CAST(NULL AS VARCHAR) AS dt, CAST(NULL AS VARCHAR) AS partition, CAST(NULL AS VARCHAR) AS key, CAST(NULL AS BIGINT) AS bytes WHERE false`;
}

/** `CREATE TEMP VIEW` statements for the catalog tables and `lake_objects` (those `wanted`), given which objects exist. */
export function duckViews(
  catalog: Catalog,
  layout: LocalObjectLayout,
  present: (t: TableDef) => PresentFiles,
  wanted: (name: string) => boolean = () => true,
): string[] {
  return [
    ...catalog
      .tables()
      .filter((t) => wanted(t.name))
      .map((t) => `CREATE OR REPLACE TEMP VIEW ${quoteIdent(t.name)} AS\n${duckViewSql(t, layout, present(t))}`),
    // After the tables: a current-state view reads its changes view.
    ...catalog
      .currentViews()
      .filter((v) => wanted(v.name))
      .map(
        (v) =>
          `CREATE OR REPLACE TEMP VIEW ${quoteIdent(v.name)} AS\n${Catalog.currentSql(v, quoteIdent(v.changes.name))}`,
      ),
    ...(wanted('lake_objects')
      ? [`CREATE OR REPLACE TEMP VIEW lake_objects AS\n${lakeObjectsViewSql(catalog, layout, present)}`]
      : []),
  ];
}
