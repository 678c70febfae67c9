import {
  Catalog,
  SOURCE_COLUMN,
  dedupeRank,
  type ColumnDef,
  type CurrentView,
  type PartitionDef,
  type Projection,
  type TableDef,
} from './catalog.ts';
import { NULL_PARTITION } from '../layout/partition.ts';
import { glueName, hiveType, quoteIdent, quoteString, trinoType, type SqlType } from './types.ts';

/** The inputs of a Glue table (the shape of `aws.glue.CatalogTable`'s arguments), generated from the catalog. */
export interface GlueTableInput {
  name: string;
  databaseName: string;
  description: string;
  tableType: 'EXTERNAL_TABLE' | 'VIRTUAL_VIEW';
  parameters: Record<string, string>;
  partitionKeys: { name: string; type: string }[];
  storageDescriptor: {
    location?: string;
    inputFormat?: string;
    outputFormat?: string;
    serDeInfo?: { serializationLibrary: string; parameters: Record<string, string> };
    columns: { name: string; type: string }[];
  };
  viewOriginalText?: string;
  viewExpandedText?: string;
}

const JSON_SERDE = {
  inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
  serDeInfo: {
    serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
    // Schemas keep upper-case keys (TIMESTAMP, TRIP_ID); Glue folds column and field names to lower case.
    parameters: { 'case.insensitive': 'TRUE', 'ignore.malformed.json': 'FALSE', 'dots.in.keys': 'FALSE' },
  },
};

const PARQUET_SERDE = {
  inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  serDeInfo: {
    serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    parameters: { 'serialization.format': '1' },
  },
};

/** Partitions Athena projects; `path` ones are read from the object path and are not Glue partition keys. */
export function projectedPartitions(t: TableDef): PartitionDef[] {
  return t.partitions.filter((p) => p.projection.type !== 'path');
}

function projectionParameters(t: TableDef, location: string): Record<string, string> {
  const out: Record<string, string> = { 'projection.enabled': 'true' };
  const set = (name: string, p: Projection) => {
    const k = `projection.${name}`;
    switch (p.type) {
      case 'date':
        Object.assign(out, {
          [`${k}.type`]: 'date',
          [`${k}.format`]: p.format,
          [`${k}.range`]: p.range,
          [`${k}.interval`]: String(p.interval),
          [`${k}.interval.unit`]: p.unit,
        });
        break;
      case 'integer':
        Object.assign(out, {
          [`${k}.type`]: 'integer',
          [`${k}.range`]: p.range.join(','),
          [`${k}.digits`]: String(p.digits),
        });
        break;
      case 'enum':
        Object.assign(out, { [`${k}.type`]: 'enum', [`${k}.values`]: p.values.join(',') });
        break;
      case 'path':
        break;
    }
  };
  const projected = projectedPartitions(t);
  for (const p of projected) set(p.name, p.projection);
  out['storage.location.template'] = `${location}${projected.map((p) => `${p.name}=\${${p.name}}/`).join('')}`;
  return out;
}

/** Name of the Glue table over a table's JSONL objects. */
export const rawTableName = (t: TableDef) => `${t.name}_raw`;
/** Name of the Glue table over a table's compacted Parquet objects. */
export const compactedTableName = (t: TableDef) => `${t.name}_compacted`;

/** Trino expression of a column read from the raw JSON table (alias `r`). */
function trinoRawExpr(c: ColumnDef): string {
  const path = c.path.map((k) => quoteIdent(glueName(k))).join('.');
  if (c.fromText) return `CAST(r.${path} AS ${trinoType(c.type)})`;
  return c.isoTimestamp ? `CAST(from_iso8601_timestamp(r.${path}) AS timestamp(3))` : `r.${path}`;
}

function trinoPathPartition(p: PartitionDef, alias: string): string {
  // Read as DuckDB's hive partitioning reads it (lib/lake/partition.ts decodePartitionValue): the NULL markers are NULL,
  // anything else is percent-decoded; an empty value is the empty string. The encoding never writes a `+` or a
  // stray `%`, which Trino's url_decode would take for a space or refuse.
  const raw = `regexp_extract(${alias}."$path", ${quoteString(`/${p.name}=([^/]*)/`)}, 1)`;
  return `CASE WHEN ${raw} = ${quoteString(NULL_PARTITION)} OR lower(${raw}) = 'null' THEN NULL ELSE url_decode(${raw}) END`;
}

/**
 * The Athena (Trino) SQL of a table's view: JSONL rows plus the compacted Parquet rows, one row per event under the
 * table's dedupe rule. A Parquet row carries the key of the JSONL object it came from (`_source`), so a JSONL row and
 * its compacted copy are the same copy to the rule (same event, time and object): while both exist, one of them is
 * shown, and rows switch from JSON to Parquet in one step when the Parquet object appears. A filter on the rule's scope
 * (dt) is pushed through the window into both tables (Trino pushes predicates on window partition columns), so
 * partition projection still prunes. Tables without a rule (quarantine, redrives) show every row.
 */
export function athenaViewSql(t: TableDef, database: string): string {
  const q = (name: string) => `${quoteIdent(database)}.${quoteIdent(name)}`;
  const cols = [...t.columns.map((c) => quoteIdent(c.name)), ...t.partitions.map((p) => quoteIdent(p.name))];
  const partition = (p: PartitionDef, alias: string) =>
    p.projection.type === 'path'
      ? `${trinoPathPartition(p, alias)} AS ${quoteIdent(p.name)}`
      : `${alias}.${quoteIdent(p.name)}`;
  const raw = [
    ...t.columns.map((c) => `${trinoRawExpr(c)} AS ${quoteIdent(c.name)}`),
    ...t.partitions.map((p) => partition(p, 'r')),
  ];
  if (!t.compactedPrefix && !t.dedupe) return `SELECT ${raw.join(', ')}\nFROM ${q(rawTableName(t))} r`;
  const key = quoteIdent('_key');
  const compacted = [...t.columns.map((c) => `c.${quoteIdent(c.name)}`), ...t.partitions.map((p) => partition(p, 'c'))];
  // A table without compacted objects (an import's changes) is de-duplicated over its JSONL rows alone.
  const rows =
    `SELECT ${raw.join(', ')}, regexp_replace(r."$path", '^s3://[^/]+/', '') AS ${key}\nFROM ${q(rawTableName(t))} r` +
    (t.compactedPrefix
      ? `\nUNION ALL\nSELECT ${compacted.join(', ')}, c.${quoteIdent(SOURCE_COLUMN)} AS ${key}\nFROM ${q(compactedTableName(t))} c`
      : '');
  if (!t.dedupe) return `SELECT ${cols.join(', ')}\nFROM (\n${rows}\n) u`;
  // Trino has no QUALIFY: the rank is a column of a subquery, filtered outside it.
  return `SELECT ${cols.join(', ')}\nFROM (\nSELECT ${cols.join(', ')}, ${dedupeRank(t.dedupe, '_key')} AS "_rn"\nFROM (\n${rows}\n) u\n) d\nWHERE "_rn" = 1`;
}

/**
 * Every Glue table of the catalog for one stage: per table a raw JSON table, a compacted Parquet table (event tables)
 * and the view users query under the table's own name. `bucketOf` maps the catalog's bucket roles to real names.
 */
export function glueTables(
  catalog: Catalog,
  database: string,
  bucketOf: (role: TableDef['bucket']) => string,
): GlueTableInput[] {
  const out: GlueTableInput[] = [];
  for (const t of catalog.tables()) {
    const partitionKeys = projectedPartitions(t).map((p) => ({ name: p.name, type: hiveType(p.type) }));
    const rawLocation = `s3://${bucketOf(t.bucket)}/${t.prefix}`;
    out.push({
      name: rawTableName(t),
      databaseName: database,
      description: `${t.description} (JSONL objects as the pipeline writes them; query the ${t.name} view instead)`,
      tableType: 'EXTERNAL_TABLE',
      parameters: {
        classification: 'json',
        compressionType: 'gzip',
        EXTERNAL: 'TRUE',
        ...projectionParameters(t, rawLocation),
      },
      partitionKeys,
      storageDescriptor: {
        location: rawLocation,
        ...JSON_SERDE,
        columns: t.rawColumns.map((c) => ({ name: glueName(c.key), type: hiveType(c.type) })),
      },
    });
    if (t.compactedPrefix) {
      const location = `s3://${bucketOf(t.bucket)}/${t.compactedPrefix}`;
      out.push({
        name: compactedTableName(t),
        databaseName: database,
        description: `${t.description} (compacted Parquet of closed hours; query the ${t.name} view instead)`,
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          classification: 'parquet',
          'parquet.compression': 'ZSTD',
          EXTERNAL: 'TRUE',
          ...projectionParameters(t, location),
        },
        partitionKeys,
        storageDescriptor: {
          location,
          ...PARQUET_SERDE,
          columns: [
            ...t.columns.map((c) => ({ name: c.name, type: hiveType(c.type) })),
            { name: SOURCE_COLUMN, type: 'string' },
          ],
        },
      });
    }
    out.push(
      prestoView(
        t.name,
        t.description,
        database,
        [
          ...t.columns.map((c) => ({ name: c.name, type: c.type })),
          ...t.partitions.map((p) => ({ name: p.name, type: p.type })),
        ],
        athenaViewSql(t, database),
      ),
    );
  }
  for (const v of catalog.currentViews())
    out.push(
      prestoView(
        v.name,
        v.description,
        database,
        currentColumns(v),
        Catalog.currentSql(v, `${quoteIdent(database)}.${quoteIdent(v.changes.name)}`),
      ),
    );
  return out;
}

/** The columns of a current-state view, typed as its changes table has them. */
function currentColumns(v: CurrentView): { name: string; type: SqlType }[] {
  const all = [...v.changes.columns, ...v.changes.partitions];
  return v.columns.map((name) => ({ name, type: all.find((c) => c.name === name)!.type }));
}

/** A Glue view as Athena stores one (a base64 Presto view definition). */
function prestoView(
  name: string,
  description: string,
  database: string,
  columns: { name: string; type: SqlType }[],
  sql: string,
): GlueTableInput {
  const presto = {
    originalSql: sql,
    catalog: 'awsdatacatalog',
    schema: database,
    columns: columns.map((c) => ({ name: c.name, type: trinoType(c.type) })),
  };
  return {
    name,
    databaseName: database,
    description,
    tableType: 'VIRTUAL_VIEW',
    parameters: { presto_view: 'true', comment: 'Presto View' },
    partitionKeys: [],
    storageDescriptor: { columns: columns.map((c) => ({ name: c.name, type: hiveType(c.type) })) },
    viewOriginalText: `/* Presto View: ${Buffer.from(JSON.stringify(presto)).toString('base64')} */`,
    viewExpandedText: '/* Presto View */',
  };
}
