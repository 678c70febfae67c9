// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Athena's storage.location.template placeholders are literally ${dt} and ${hour}.
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { Catalog, partitionValuesOf } from '../../lib/catalog/catalog.ts';
import { duckViewSql, objectGlob, s3rverLayout } from '../../lib/catalog/duckdb.ts';
import { athenaViewSql, glueTables } from '../../lib/catalog/glue.ts';
import { duckType, hiveType, schemaToType } from '../../lib/catalog/types.ts';
import { TableRegistry } from '../../lib/imports/tables.ts';
import { defaultRegistry } from '../../lib/registry/registry.ts';

const catalog = new Catalog(defaultRegistry());
const layout = s3rverLayout('/data', { lake: 'lake', quarantine: 'quarantine', athenaResults: 'athena-results' });
const glue = glueTables(catalog, 'tributary_prod', (role) => `prod-${role}`);
const byName = (n: string) => glue.find((t) => t.name === n)!;

describe('catalog', () => {
  it('has one table per event type plus quarantine, with envelope, data and partition columns', () => {
    expect(catalog.tables().map((t) => t.name)).toEqual([
      'clickstream',
      'quarantine',
      'redrives',
      'taxi_trips',
      'transactions',
    ]);
    expect(catalog.table('taxi_trips').columns.map((c) => c.name)).toEqual([
      'id',
      'v',
      'received_at',
      'event_time',
      'source',
      'trip_id',
      'call_type',
      'origin_call',
      'origin_stand',
      'taxi_id',
      'timestamp',
      'day_type',
      'missing_data',
      'polyline',
    ]);
    expect(catalog.table('taxi_trips').partitions.map((p) => p.name)).toEqual(['dt', 'hour']);
    // transactions' own row number `id` would clash with the envelope id.
    const tx = catalog.table('transactions').columns;
    expect(tx.find((c) => c.name === 'data_id')).toMatchObject({ path: ['data', 'id'], type: { kind: 'bigint' } });
    expect(tx.find((c) => c.name === 'cc_num')!.type).toEqual({ kind: 'string' });
    expect(tx.find((c) => c.name === 'is_fraud')!.type).toEqual({ kind: 'bigint' });
    expect(tx.find((c) => c.name === 'event_time')).toMatchObject({ isoTimestamp: true, type: { kind: 'timestamp' } });
    const click = catalog.table('clickstream');
    expect(click.partitions.map((p) => [p.name, p.projection.type])).toEqual([
      ['dt', 'date'],
      ['hour', 'integer'],
      ['section', 'path'],
    ]);
    expect(click.columns.find((c) => c.name === 'metadata_section')!.path).toEqual(['data', 'metadata', 'section']);
    expect(hiveType(click.columns.find((c) => c.name === 'payload_menuitem')!.type)).toBe(
      'array<struct<value:string,onclick:string>>',
    );
    const r = catalog.table('redrives');
    expect([r.bucket, r.prefix, r.partitions.map((p) => p.name), r.timeColumn]).toEqual([
      'quarantine',
      'ledger/',
      ['dt'],
      'at',
    ]);
    expect(r.columns.map((c) => c.name)).toEqual([
      'qid',
      'id',
      'job',
      'action',
      'outcome',
      'at',
      'by',
      'reason',
      'errors',
      'new_qid',
      'shard_id',
      'sequence_number',
    ]);
    const q = catalog.table('quarantine');
    expect(q.columns.map((c) => c.name)).toEqual([
      'id',
      'stage',
      'errors',
      'type',
      'v',
      'received_at',
      'quarantined_at',
      'payload',
      'payload_encoding',
      'attempts',
      'source',
    ]);
    expect(q.partitions.map((p) => p.name)).toEqual(['dt', 'reason']);
    expect(() => catalog.table('nope')).toThrow(
      /No table "nope"; tables: clickstream, quarantine, redrives, taxi_trips, transactions/,
    );
  });

  it('maps JSON Schema types, loose unions to text and keeps JSON key case for DuckDB', () => {
    const root = { $defs: { loose: { type: ['string', 'number', 'boolean', 'null'] } } };
    expect(schemaToType({ $ref: '#/$defs/loose' }, root)).toEqual({ kind: 'string' });
    expect(schemaToType({ type: ['integer', 'null'] }, root)).toEqual({ kind: 'bigint' });
    expect(schemaToType({ enum: ['A', 'B', null] }, root)).toEqual({ kind: 'string' });
    expect(schemaToType({ type: 'object' }, root)).toEqual({ kind: 'string' });
    const t = schemaToType(
      {
        type: 'object',
        properties: { TIMESTAMP: { type: 'integer' }, xs: { type: 'array', items: { type: 'number' } } },
      },
      root,
    );
    expect(duckType(t)).toBe('STRUCT("TIMESTAMP" BIGINT, "xs" DOUBLE[])');
    expect(hiveType(t)).toBe('struct<timestamp:bigint,xs:array<double>>');
  });

  it('parses partition values out of object keys, raw and compacted, decoded as the engines read them', () => {
    const t = catalog.table('clickstream');
    expect(partitionValuesOf(t, 'events/clickstream/dt=2026-01-02/hour=05/section=a%2Fb/shard-1-2.jsonl.gz')).toEqual({
      dt: '2026-01-02',
      hour: '05',
      section: 'a/b',
    });
    expect(partitionValuesOf(t, 'events/clickstream/dt=2026-01-02/hour=05/section=/shard-1-2.jsonl.gz')).toEqual({
      dt: '2026-01-02',
      hour: '05',
      section: '',
    });
    expect(partitionValuesOf(t, 'events/clickstream/dt=2026-01-02/hour=05/section=%2E%2E/shard-1-2.jsonl.gz')).toEqual({
      dt: '2026-01-02',
      hour: '05',
      section: '..',
    });
    expect(
      partitionValuesOf(
        t,
        'events/clickstream/dt=2026-01-02/hour=05/section=__HIVE_DEFAULT_PARTITION__/shard-1-2.jsonl.gz',
      ),
    ).toEqual({ dt: '2026-01-02', hour: '05', section: null });
    expect(partitionValuesOf(t, 'compacted/clickstream/dt=2026-01-02/hour=05/section=x/part.parquet')).toEqual({
      dt: '2026-01-02',
      hour: '05',
      section: 'x',
    });
    expect(partitionValuesOf(t, 'events/clickstream/dt=2026-01-02/hour=05/file.jsonl.gz')).toBeNull();
    expect(partitionValuesOf(t, 'events/transactions/dt=2026-01-02/hour=05/f.jsonl.gz')).toBeNull();
  });
});

describe('Glue tables from the catalog', () => {
  it('raw JSON tables project dt as a date range and hour as 00-23 onto the lake layout', () => {
    const raw = byName('transactions_raw');
    expect(raw.tableType).toBe('EXTERNAL_TABLE');
    expect(raw.storageDescriptor.location).toBe('s3://prod-lake/events/transactions/');
    expect(raw.storageDescriptor.serDeInfo!.serializationLibrary).toBe('org.openx.data.jsonserde.JsonSerDe');
    expect(raw.partitionKeys).toEqual([
      { name: 'dt', type: 'string' },
      { name: 'hour', type: 'int' },
    ]);
    expect(raw.parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.range': '1970-01-01,NOW+1DAYS',
      'projection.hour.type': 'integer',
      'projection.hour.range': '0,23',
      'projection.hour.digits': '2',
      'storage.location.template': 's3://prod-lake/events/transactions/dt=${dt}/hour=${hour}/',
    });
    expect(raw.storageDescriptor.columns.map((c) => c.name)).toEqual([
      'id',
      'type',
      'v',
      'received_at',
      'event_time',
      'source',
      'data',
      'redrive',
    ]);
    expect(byName('taxi_trips_raw').storageDescriptor.columns.find((c) => c.name === 'data')!.type).toBe(
      'struct<trip_id:string,call_type:string,origin_call:bigint,origin_stand:bigint,taxi_id:bigint,timestamp:bigint,day_type:string,missing_data:boolean,polyline:string>',
    );
  });

  it('free-text partitions are read from the path, not projected; quarantine reasons are an enum', () => {
    const click = byName('clickstream_raw');
    expect(click.partitionKeys.map((p) => p.name)).toEqual(['dt', 'hour']);
    expect(click.parameters['storage.location.template']).toBe(
      's3://prod-lake/events/clickstream/dt=${dt}/hour=${hour}/',
    );
    const raw = `regexp_extract(r."$path", '/section=([^/]*)/', 1)`;
    expect(athenaViewSql(catalog.table('clickstream'), 'db')).toContain(
      `CASE WHEN ${raw} = '__HIVE_DEFAULT_PARTITION__' OR lower(${raw}) = 'null' THEN NULL ELSE url_decode(${raw}) END AS "section"`,
    );
    const q = byName('quarantine_raw');
    expect(q.storageDescriptor.location).toBe('s3://prod-quarantine/records/');
    expect(q.parameters['projection.reason.type']).toBe('enum');
    expect(q.parameters['projection.reason.values']).toBe(
      'schema_violation,malformed_json,unknown_type,too_large,invalid_envelope,processing_error,db_rejected,export_refused',
    );
    expect(q.parameters['storage.location.template']).toBe('s3://prod-quarantine/records/dt=${dt}/reason=${reason}/');
    expect(glue.some((t) => t.name === 'quarantine_compacted')).toBe(false);
  });

  it('compacted tables are Parquet with the flat columns plus _source; the view shows one copy per event id and day', () => {
    const c = byName('transactions_compacted');
    expect(c.storageDescriptor.location).toBe('s3://prod-lake/compacted/transactions/');
    expect(c.storageDescriptor.serDeInfo!.serializationLibrary).toBe(
      'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    );
    expect(c.storageDescriptor.columns.at(-1)).toEqual({ name: '_source', type: 'string' });
    expect(c.storageDescriptor.columns.find((x) => x.name === 'event_time')!.type).toBe('timestamp');
    const view = byName('transactions');
    expect(view.tableType).toBe('VIRTUAL_VIEW');
    const presto = JSON.parse(
      Buffer.from(/\/\* Presto View: (.*) \*\//.exec(view.viewOriginalText!)![1]!, 'base64').toString(),
    );
    expect(presto.catalog).toBe('awsdatacatalog');
    expect(presto.schema).toBe('tributary_prod');
    expect(presto.columns.slice(0, 4)).toEqual([
      { name: 'id', type: 'varchar' },
      { name: 'v', type: 'integer' },
      { name: 'received_at', type: 'timestamp(3)' },
      { name: 'event_time', type: 'timestamp(3)' },
    ]);
    // JSONL rows keyed by their object, compacted rows by the object they came from: one copy per event and day.
    expect(presto.originalSql).toContain(
      `regexp_replace(r."$path", '^s3://[^/]+/', '') AS "_key"\nFROM "tributary_prod"."transactions_raw" r\nUNION ALL\n`,
    );
    expect(presto.originalSql).toContain(
      `c."_source" AS "_key"\nFROM "tributary_prod"."transactions_compacted" c\n) u\n) d\nWHERE "_rn" = 1`,
    );
    expect(presto.originalSql).toContain(
      `row_number() OVER (PARTITION BY "dt", "id" ORDER BY "received_at" ASC NULLS LAST, "_key" ASC) AS "_rn"`,
    );
    expect(presto.originalSql).not.toContain('NOT EXISTS');
    expect(athenaViewSql(catalog.table('quarantine'), 'db')).not.toContain('_rn');
    expect(presto.originalSql).toContain('r."data"."cc_num" AS "cc_num"');
    expect(view.storageDescriptor.columns.at(-2)).toEqual({ name: 'dt', type: 'string' });
  });
});

describe('DuckDB views from the catalog', () => {
  it('read the emulator files with hive partitioning, hide the JSONL objects a Parquet object holds, one copy per event id and day', () => {
    const t = catalog.table('taxi_trips');
    expect(objectGlob(t, layout, t.prefix, '.jsonl.gz')).toBe(
      '/data/s3/lake/events/taxi_trips/*/*/*.jsonl.gz._S3rver_object',
    );
    const sql = duckViewSql(t, layout, {
      raw: true,
      compacted: true,
      hidden: ["events/taxi_trips/dt=2026-01-01/hour=00/a'b.jsonl.gz"],
    });
    expect(sql).toContain(`hive_types = {'dt': VARCHAR, 'hour': INTEGER}`);
    expect(sql).toContain(`"data"."TIMESTAMP" AS "timestamp"`);
    expect(sql).toContain(`WHERE _key NOT IN ('events/taxi_trips/dt=2026-01-01/hour=00/a''b.jsonl.gz')`);
    expect(sql).toContain(`substr(_file, 15, length(_file) - 29) AS _key`);
    expect(sql).toContain(`read_parquet('/data/s3/lake/compacted/taxi_trips/*/*/*.parquet._S3rver_object'`);
    expect(sql).toContain(`"_source" AS _key FROM read_parquet(`);
    expect(sql).toMatch(
      /\) QUALIFY row_number\(\) OVER \(PARTITION BY "dt", "id" ORDER BY "received_at" ASC NULLS LAST, "_key" ASC\) = 1$/,
    );
    expect(duckViewSql(t, layout, { raw: true, compacted: true }, { dedupe: false })).not.toContain('QUALIFY');
    expect(duckViewSql(catalog.table('quarantine'), layout, { raw: true, compacted: false })).not.toContain('QUALIFY');
    expect(duckViewSql(t, layout, { raw: true, compacted: false })).not.toContain('read_parquet');
    expect(duckViewSql(t, layout, { raw: false, compacted: false })).toMatch(
      /^SELECT CAST\(NULL AS VARCHAR\) AS "id", .* WHERE false$/,
    );
  });
});

describe('imported tables in the lake', () => {
  const withImports = new Catalog(defaultRegistry(), new TableRegistry(path.join(import.meta.dirname, '../../tables')));

  it('have a changes table of typed columns by day, hour and tenant, and a current-state view over it', () => {
    const t = withImports.table('example_changes');
    expect([t.prefix, t.partitions.map((p) => [p.name, p.projection.type]), t.dedupe]).toEqual([
      'imports/example/changes/',
      [
        ['dt', 'date'],
        ['hour', 'integer'],
        ['tenant', 'path'],
      ],
      { key: 'id', scope: ['dt'], order: ['received_at'] },
    ]);
    expect(t.columns.map((c) => c.name)).toEqual([
      'id',
      'received_at',
      'tributary_op',
      'tributary_version',
      'pk',
      'col2',
      'col3',
      'col4',
    ]);
    const [view] = withImports.currentViews();
    expect(Catalog.currentSql(view!, '"example_changes"')).toBe(
      'SELECT "pk", "col2", "col3", "col4", "tenant", "tributary_version"\nFROM (SELECT *, row_number() OVER (PARTITION BY "tenant", "pk" ORDER BY "tributary_version" DESC) AS "_rn" FROM "example_changes") c\nWHERE "_rn" = 1 AND "tributary_op" <> \'delete\'',
    );
    // In Glue: the raw and compacted tables, and two views (the changes of both, de-duplicated; the current rows over
    // them). The compactor rewrites closed hours of the changes as Parquet, like events.
    const glued = glueTables(withImports, 'db', (role) => role);
    expect(withImports.table('example_changes').compactedPrefix).toBe('imports/example/compacted/');
    expect(glued.filter((g) => g.name.startsWith('example')).map((g) => [g.name, g.tableType])).toEqual([
      ['example_changes_raw', 'EXTERNAL_TABLE'],
      ['example_changes_compacted', 'EXTERNAL_TABLE'],
      ['example_changes', 'VIRTUAL_VIEW'],
      ['example', 'VIRTUAL_VIEW'],
    ]);
    expect(
      glued.find((g) => g.name === 'example')!.storageDescriptor.columns.map((c) => `${c.name} ${c.type}`),
    ).toEqual(['pk string', 'col2 string', 'col3 string', 'col4 string', 'tenant string', 'tributary_version string']);
  });

  it('cast every column from the text the operations carry, as its definition types it, in both engines', async () => {
    const typed = new Catalog(defaultRegistry(), {
      names: () => ['ledger'],
      get: () => ({
        name: 'ledger',
        primaryKey: ['id'],
        columns: [
          { name: 'id', type: 'integer' },
          { name: 'amount', type: 'decimal', precision: 12, scale: 2 },
          { name: 'day', type: 'date' },
          { name: 'at', type: 'timestamp' },
          { name: 'rate', type: 'double' },
          { name: 'ok', type: 'boolean' },
        ],
      }),
    });
    const t = typed.table('ledger_changes');
    expect(duckViewSql(t, layout, { raw: true, compacted: false })).toContain(
      'CAST("data"."id" AS BIGINT) AS "data_id", CAST("data"."amount" AS DECIMAL(12,2)) AS "amount", CAST("data"."day" AS DATE) AS "day", CAST("data"."at" AS TIMESTAMP) AS "at", CAST("data"."rate" AS DOUBLE) AS "rate", CAST("data"."ok" AS BOOLEAN) AS "ok"',
    );
    expect(athenaViewSql(t, 'db')).toContain(
      'CAST(r."data"."id" AS bigint) AS "data_id", CAST(r."data"."amount" AS decimal(12,2)) AS "amount", CAST(r."data"."day" AS date) AS "day", CAST(r."data"."at" AS timestamp(6)) AS "at", CAST(r."data"."rate" AS double) AS "rate", CAST(r."data"."ok" AS boolean) AS "ok"',
    );
    // The current rows, run: a key column named `id` is `data_id`, never the envelope's id.
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    try {
      await conn.run(`CREATE TABLE ledger_changes AS SELECT * FROM (VALUES
        ('e1', 'insert', 'v1', 1, 'a'), ('e2', 'update', 'v2', 1, 'a'), ('e3', 'insert', 'v1', 2, 'a'),
        ('e4', 'delete', 'v2', 2, 'a'), ('e5', 'insert', 'v1', 1, 'b'), ('e5', 'insert', 'v1', 1, 'b')
      ) AS t(id, tributary_op, tributary_version, data_id, tenant)`);
      await conn.run(
        'ALTER TABLE ledger_changes ADD COLUMN amount DECIMAL(12,2); ALTER TABLE ledger_changes ADD COLUMN "day" DATE; ALTER TABLE ledger_changes ADD COLUMN "at" TIMESTAMP; ALTER TABLE ledger_changes ADD COLUMN rate DOUBLE; ALTER TABLE ledger_changes ADD COLUMN ok BOOLEAN',
      );
      const [view] = typed.currentViews();
      const rows = (
        await conn.runAndReadAll(`${Catalog.currentSql(view!, 'ledger_changes')} ORDER BY tenant, data_id`)
      ).getRows();
      expect(rows.map((r) => [r.at(-2), Number(r[0]), r.at(-1)])).toEqual([
        ['a', 1, 'v2'],
        ['b', 1, 'v1'],
      ]);
    } finally {
      conn.closeSync();
      db.closeSync();
    }
    // A table whose name another already has is refused, saying which.
    expect(
      () =>
        new Catalog(defaultRegistry(), {
          names: () => ['transactions'],
          get: () => ({ name: 'transactions', primaryKey: ['k'], columns: [{ name: 'k', type: 'text' }] }),
        }),
    ).toThrow(
      'Imported table transactions may not use the table name "transactions": "transactions" is taken by another table; rename it.',
    );
  });
});
