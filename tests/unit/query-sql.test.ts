import { ListObjectsV2Command, S3Client, type _Object } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../lib/catalog/catalog.ts';
import { TableRegistry } from '../../lib/imports/tables.ts';
import { normalizeCell, type QueryEngine } from '../../lib/query/engine.ts';
import { QueryForbiddenError, QueryRefusedError } from '../../lib/query/errors.ts';
import {
  adhocParams,
  orderedValues,
  resolveParams,
  sqlLiteral,
  type BoundValue,
  type ParamDef,
} from '../../lib/query/params.ts';
import { MAX_QUERY_BYTES, sqlParser } from '../../lib/query/parser.ts';
import { athenaCostUsd, type QueryRequest } from '../../lib/query/query-info.ts';
import { QueryService } from '../../lib/query/service.ts';
import { summarizeSql } from '../../lib/query/sql.ts';
import type { Actor } from '../../lib/quarantine/service.ts';
import { defaultRegistry } from '../../lib/registry/registry.ts';
import { formatBytes } from '../../lib/util/format.ts';

const MiB = 1024 * 1024;
const parser = sqlParser();
afterAll(() => parser.close());

const refused = async (p: Promise<unknown>): Promise<QueryRefusedError> => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(QueryRefusedError);
  return err as QueryRefusedError;
};

describe("read-only: DuckDB's parser decides", () => {
  it.each([
    'SELECT 1',
    'select * from transactions;',
    'WITH x AS (SELECT 1) SELECT * FROM x',
    '(SELECT 1) UNION (SELECT 2)',
    'FROM transactions',
    'VALUES (1), (2)',
    "SELECT 'DELETE FROM t; DROP TABLE x' AS s -- delete\n",
    'SELECT "update" FROM t /* insert */',
    "SELECT $$ ; COPY (SELECT 1) TO 'x' $$ AS harmless_text",
  ])('accepts %j', async (sql) => {
    await expect(parser.parse(sql)).resolves.toMatchObject({ params: [] });
  });

  it.each([
    ['DELETE FROM transactions', 'not_read_only'],
    ['SELECT 1; SELECT 2', 'multiple_statements'],
    ['WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x', 'not_read_only'],
    ["COPY (SELECT 42) TO '/tmp/x.csv'", 'not_read_only'],
    ["COPY transactions TO '/tmp/x.parquet' (FORMAT parquet)", 'not_read_only'],
    ["EXPORT DATABASE '/tmp/x'", 'not_read_only'],
    ["ATTACH '/tmp/x.db' AS x", 'not_read_only'],
    ['CREATE TABLE t AS SELECT 1', 'not_read_only'],
    ['CREATE OR REPLACE TEMP VIEW transactions AS SELECT 1', 'not_read_only'],
    ['INSTALL httpfs', 'not_read_only'],
    ['LOAD httpfs', 'not_read_only'],
    ["SET memory_limit = '1MB'", 'not_read_only'],
    ["SET GLOBAL memory_limit = '1MB'", 'not_read_only'],
    ['RESET memory_limit', 'not_read_only'],
    ["PRAGMA memory_limit = '1MB'", 'not_read_only'],
    ['CALL pragma_version()', 'not_read_only'],
    ['EXPLAIN ANALYZE SELECT 1', 'not_read_only'],
    ['   ', 'empty_query'],
    [';;', 'empty_query'],
    ["SELECT 'unterminated", 'syntax_error'],
    ['SELECT * FROM t /* open', 'syntax_error'],
    [`SELECT ${'NOT '.repeat(3000)}true`, 'too_deep'],
    // The exploit: it only runs when a wrapper closes its parentheses; on its own it is not even one statement.
    ["SELECT $$'$$ AS a) t; COPY (SELECT 42) TO $p$/lake/x.csv$p$; SELECT * FROM (SELECT $$'$$ AS b", 'syntax_error'],
    // Dollar quotes and E-strings, which a tokenizer that knows only '…' reads as one harmless string.
    ["SELECT $$'$$; COPY (SELECT 42) TO '/lake/x.csv'; SELECT $$'$$", 'not_read_only'],
    ["SELECT $tag$'$tag$; SET GLOBAL memory_limit = '1MB'; SELECT $tag$'$tag$", 'not_read_only'],
    ["SELECT E'\\''; COPY (SELECT 42) TO '/lake/x.csv'; SELECT E'\\''", 'not_read_only'],
    ["SELECT $$'$$; SELECT 42; SELECT $$'$$", 'multiple_statements'],
    // Nested comments: DuckDB ends this one at the second */.
    ["SELECT 1 /* /* */ */; COPY (SELECT 42) TO '/lake/x.csv'", 'not_read_only'],
  ])('refuses %j (%s)', async (sql, code) => {
    expect((await refused(parser.parse(sql))).code).toBe(code);
  });

  it(`refuses a text over ${MAX_QUERY_BYTES} bytes before parsing it`, async () => {
    const sql = `SELECT * FROM transactions WHERE dt IN (${Array.from({ length: 80_000 }, (_, i) => `'x${i}'`).join(',')})`;
    const err = await refused(parser.parse(sql));
    expect(err.code).toBe('query_too_long');
    expect(err.message).toMatch(/^The query is 7\d\d,\d{3} bytes; at most 262,144 are accepted \(Athena's limit\)\./);
  });

  it('drops a trailing ; and turns $name placeholders into ?, never inside strings, comments, identifiers or dollar quotes', async () => {
    const parsed = await parser.parse(
      'SELECT $x, \'$x\', "$x", $q$ $x $q$, $xy, $x::VARCHAR /* $x */ -- $x\nFROM t WHERE a = $x AND b BETWEEN $p_from AND $p_to ;\n',
    );
    expect(parsed.sql).toBe(
      'SELECT ?, \'$x\', "$x", $q$ $x $q$, ?, ?::VARCHAR /* $x */ -- $x\nFROM t WHERE a = ? AND b BETWEEN ? AND ?',
    );
    expect(parsed.params).toEqual(['x', 'xy', 'x', 'x', 'p_from', 'p_to']);
    expect((await refused(parser.parse('SELECT ?'))).code).toBe('positional_param');
    expect((await refused(parser.parse('SELECT $1'))).code).toBe('positional_param');
  });

  it('reads every saved query, both variants, with the parser the guard uses', async () => {
    const { loadSavedQueries, savedSql } = await import('../../lib/query/saved.ts');
    for (const q of loadSavedQueries()) {
      for (const engine of ['duckdb', 'athena'] as const) {
        const parsed = await parser.parse(savedSql(q, engine));
        expect(parsed.sql, `${q.name} (${engine})`).not.toMatch(/\$(period|small_kb|limit)/);
        expect(parsed.params.length, `${q.name} (${engine})`).toBeGreaterThan(0);
      }
    }
  });
});

/** A lake of 10 days × 24 hours of 1 MiB transaction objects, one compacted day, and 2 days of clickstream. */
function fakeLake(): _Object[] {
  const objects: _Object[] = [];
  for (let d = 1; d <= 10; d++) {
    for (let h = 0; h < 24; h++) {
      const dt = `2026-01-${String(d).padStart(2, '0')}`;
      const hh = String(h).padStart(2, '0');
      objects.push({ Key: `events/transactions/dt=${dt}/hour=${hh}/a.jsonl.gz`, Size: MiB });
      if (d === 1) objects.push({ Key: `compacted/transactions/dt=${dt}/hour=${hh}/c.parquet`, Size: MiB / 2 });
      if (d <= 2) objects.push({ Key: `events/clickstream/dt=${dt}/hour=${hh}/section=home/a.jsonl.gz`, Size: MiB });
    }
  }
  return objects;
}

const catalog = new Catalog(defaultRegistry());
const buckets = { lake: 'lake', quarantine: 'quarantine', athenaResults: 'results' };

function service(engine: QueryEngine['name'] = 'duckdb', limitBytes = 50 * MiB): QueryService {
  const s3 = new S3Client({ region: 'eu-west-1' });
  const lake = fakeLake();
  mockClient(s3)
    .on(ListObjectsV2Command)
    .callsFake((input: { Bucket: string; Prefix?: string }) => ({
      Contents: input.Bucket === 'lake' ? lake.filter((o) => o.Key!.startsWith(input.Prefix ?? '')) : [],
    }));
  return new QueryService({
    engine: { name: engine } as QueryEngine,
    catalog,
    s3,
    buckets,
    limits: { maxUnfilteredScanBytes: limitBytes },
  });
}

const estimated = async (svc: QueryService, req: QueryRequest) =>
  (await svc.check(req)).estimate.reduce((a, e) => a + e.bytes, 0);
const day = (d: number) => ({ type: 'text', value: `2026-01-${String(d).padStart(2, '0')}` }) as BoundValue;

describe('the partition-filter guard reads the parse tree', () => {
  const svc = service();

  it.each([
    ["SELECT count(*) FROM transactions WHERE dt = '2026-01-03'", 24],
    ["SELECT count(*) FROM transactions WHERE dt BETWEEN '2026-01-03' AND '2026-01-04'", 48],
    ["SELECT count(*) FROM transactions WHERE dt IN ('2026-01-03', '2026-01-05', '2025-12-31')", 48],
    ["SELECT count(*) FROM transactions WHERE '2026-01-09' <= dt", 48],
    ["SELECT count(*) FROM transactions WHERE dt > '2026-01-08' AND amt > 10", 48],
    // Through the one-row-per-event view an hour filter is applied above the per-day window: the day is read.
    ["SELECT count(*) FROM transactions WHERE dt = '2026-01-03' AND hour BETWEEN 1 AND 2", 24],
    // The stored copies themselves prune by hour.
    ["SELECT count(*) FROM transactions_raw WHERE dt = '2026-01-03' AND hour BETWEEN 1 AND 2", 2],
    ["SELECT count(*) FROM clickstream WHERE dt = '2026-01-02' AND hour = 10", 24],
    ["SELECT count(*) FROM transactions WHERE (dt = '2026-01-03' OR dt = '2026-01-04') AND merchant = 'x'", 48],
    ["SELECT count(*) FROM transactions WHERE NOT (dt <> '2026-01-03')", 24],
    ["SELECT count(*) FROM transactions WHERE dt = DATE '2026-01-03'", 24],
    ["SELECT count(*) FROM transactions t WHERE t.dt = '2026-01-03'", 24],
    ["SELECT count(*) FROM transactions WHERE transactions.dt = '2026-01-03'", 24],
    // The compacted day counts its Parquet objects too (the view reads both).
    ["SELECT count(*) FROM transactions WHERE dt = '2026-01-01'", 36],
    ["WITH t AS (SELECT * FROM transactions WHERE dt = '2026-01-03') SELECT count(*) FROM t", 24],
    [
      "SELECT count(*) FROM transactions WHERE dt = '2026-01-03' AND id IN (SELECT id FROM transactions WHERE dt = '2026-01-04')",
      48,
    ],
    [
      "SELECT * FROM transactions t JOIN clickstream c ON t.id = c.id WHERE t.dt = '2026-01-03' AND c.dt = '2026-01-02'",
      48,
    ],
    [
      "SELECT id FROM transactions WHERE dt = '2026-01-03' UNION ALL SELECT id FROM transactions WHERE dt = '2026-01-04'",
      48,
    ],
    ['WITH transactions AS (SELECT 1 AS x) SELECT * FROM transactions', 0],
    ['SELECT * FROM information_schema.tables', 0],
    ['SELECT * FROM range(10) r, unnest([1, 2]) u(x)', 0],
  ])('%s: estimates %d MiB', async (sql, mib) => {
    expect(await estimated(svc, { sql })).toBe(mib * MiB);
  });

  it('prunes on placeholders like on constants', async () => {
    expect(
      await estimated(svc, {
        sql: 'SELECT count(*) FROM transactions WHERE dt BETWEEN $from AND $to',
        params: { from: day(3), to: day(4) },
      }),
    ).toBe(48 * MiB);
    expect(
      await estimated(svc, {
        sql: 'SELECT count(*) FROM transactions_raw WHERE dt = $d AND hour < $h',
        params: { d: day(4), h: { type: 'number', value: 6 } },
      }),
    ).toBe(6 * MiB);
  });

  it.each([
    ['SELECT count(*) FROM transactions', 'no filter'],
    ['SELECT count(*) FROM transactions WHERE dt = dt', 'no filter'],
    ["SELECT count(*) FROM transactions WHERE dt = '2026-01-03' OR true", 'kept by its filter'],
    ["SELECT count(*) FROM transactions WHERE dt = '2026-01-03' OR amt > 5", 'kept by its filter'],
    ["SELECT dt = '2026-01-03' AS today FROM transactions", 'no filter'],
    ["SELECT * FROM clickstream c CROSS JOIN (SELECT * FROM transactions) t WHERE c.dt = '2026-01-02'", 'no filter'],
    ["SELECT * FROM (SELECT * FROM transactions) t WHERE t.dt = '2026-01-03'", 'no filter'],
    ["SELECT * FROM transactions /* /* */ WHERE dt = '2026-01-03' -- */", 'no filter'],
    ["SELECT * FROM transactions WHERE dt <> '2026-01-03'", 'kept by its filter'],
    ["SELECT * FROM transactions WHERE dt >= '2026-01-01'", 'kept by its filter'],
    ["SELECT * FROM transactions t WHERE x.dt = '2026-01-03'", 'no filter'],
    [
      "SELECT * FROM transactions a JOIN transactions b ON a.dt = b.dt AND b.dt = '2026-01-03' WHERE a.dt = '2026-01-03'",
      'no filter',
    ],
    [
      "WITH transactions AS (SELECT * FROM transactions) SELECT * FROM transactions WHERE dt = '2026-01-03'",
      'no filter',
    ],
    ["SELECT id FROM transactions WHERE dt = '2026-01-03' UNION ALL SELECT id FROM transactions", 'no filter'],
    [
      "SELECT * FROM transactions WHERE dt = '2026-01-03' AND EXISTS (SELECT 1 FROM transactions x WHERE x.id = 'a')",
      'no filter',
    ],
    ["SELECT count(*) FROM transactions GROUP BY dt HAVING dt = '2026-01-03'", 'no filter'],
  ])('refuses %s', async (sql, how) => {
    const err = await refused(svc.check({ sql }));
    expect(err.code).toBe('partition_filter_required');
    expect(err.message).toMatch(
      /^This query would scan about \d+ MB \(.*transactions: \d+ MB in [\d,]+ objects, dt 2026-01-0\d … 2026-01-10, /,
    );
    expect(err.message).toContain(how);
    expect(err.message).toMatch(
      /e\.g\. WHERE dt = '2026-01-10' or WHERE dt BETWEEN '2026-01-04' AND '2026-01-10' \(a filter on hour narrows only the _raw and _compacted tables of Athena; the one-row-per-event tables read whole days\)\. An operator can run it anyway by sending "allowFullScan": true\.$/,
    );
    // Each surface names its own way to lift the guard.
    expect((await refused(svc.check({ sql, via: 'console' }))).message).toMatch(
      /An operator can run it anyway by ticking "allow a full scan" under the editor\.$/,
    );
    expect((await refused(svc.check({ sql, via: 'cli' }))).message).toMatch(
      /An operator can run it anyway with --allow-full-scan\.$/,
    );
  });

  it('says the estimate and the limit', async () => {
    const err = await refused(svc.check({ sql: 'SELECT * FROM transactions' }));
    expect(err.message).toMatch(
      /^This query would scan about 252 MB \(transactions: 252 MB in 264 objects, dt 2026-01-01 … 2026-01-10, with no filter on dt in the WHERE of the SELECT that reads it\); the scan limit is 50 MB\. Add a filter on dt to the WHERE of the SELECT that reads transactions/,
    );
  });

  it('guards a 250 kB IN list exactly, and it is one lookup per partition', async () => {
    const values = [
      `'2026-01-07'`,
      ...Array.from(
        { length: 19_000 },
        (_, i) => `'1990-${String((i % 12) + 1).padStart(2, '0')}-${String(i % 28).padStart(2, '0')}'`,
      ),
    ];
    const sql = `SELECT count(*) FROM transactions WHERE dt IN (${values.join(',')})`;
    expect(Buffer.byteLength(sql)).toBeGreaterThan(240_000);
    expect(Buffer.byteLength(sql)).toBeLessThan(MAX_QUERY_BYTES);
    expect(await estimated(svc, { sql })).toBe(24 * MiB);
  });

  it("refuses tables that are not the lake's, and table functions that read files or run SQL", async () => {
    expect((await refused(svc.check({ sql: 'SELECT * FROM pg_catalog.pg_tables' }))).code).toBe('unknown_table');
    const file = await refused(
      svc.check({ sql: "SELECT * FROM '/data/s3/lake/events/transactions/dt=2026-01-01/hour=00/a.jsonl.gz'" }),
    );
    expect(file.message).toMatch(
      /is not a table of the lake; query clickstream, quarantine, redrives, taxi_trips, transactions, lake_objects\.$/,
    );
    expect((await refused(svc.check({ sql: "SELECT * FROM query('SELECT 1')" }))).code).toBe('table_function');
    expect((await refused(svc.check({ sql: 'SUMMARIZE transactions' }))).code).toBe('not_a_query');
    expect((await refused(svc.check({ sql: 'DESCRIBE transactions' }))).code).toBe('not_a_query');
    const reader = await refused(svc.check({ sql: "SELECT * FROM read_json('/data/x.json')" }));
    expect(reader.message).toMatch(/^read_json\(\) reads files directly, past the partition guard/);
    await expect(
      svc.check({ sql: "SELECT * FROM read_json('/data/x.json')", allowFullScan: true }),
    ).resolves.toBeTruthy();
  });

  it('only an operator lifts the guard', async () => {
    const viewer: Actor = { by: 'vera', role: 'viewer' };
    const operator: Actor = { by: 'olga', role: 'operator' };
    const err = await svc
      .check({ sql: 'SELECT * FROM transactions', allowFullScan: true, actor: viewer })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryForbiddenError);
    expect((err as QueryForbiddenError).status).toBe(403);
    expect((err as Error).message).toBe(
      'Only an operator can lift the scan guard (allowFullScan). Narrow the query with a filter on dt instead, or ask an operator to run it.',
    );
    // A viewer's filtered query runs; an operator's unfiltered one runs when they lift the guard.
    await expect(
      svc.check({ sql: "SELECT * FROM transactions WHERE dt = '2026-01-03'", actor: viewer }),
    ).resolves.toBeTruthy();
    await expect(
      svc.check({ sql: 'SELECT * FROM transactions', allowFullScan: true, actor: operator }),
    ).resolves.toBeTruthy();
  });

  it('on Athena: the raw and compacted tables count their own objects, lake_objects does not exist, block comments are refused', async () => {
    const athena = service('athena');
    expect(await estimated(athena, { sql: "SELECT count(*) FROM transactions_raw WHERE dt = '2026-01-01'" })).toBe(
      24 * MiB,
    );
    expect(
      await estimated(athena, { sql: "SELECT count(*) FROM transactions_compacted WHERE dt = '2026-01-01'" }),
    ).toBe(12 * MiB);
    expect((await refused(athena.check({ sql: 'SELECT * FROM transactions_raw' }))).code).toBe(
      'partition_filter_required',
    );
    expect((await refused(athena.check({ sql: 'SELECT * FROM lake_objects' }))).code).toBe('unknown_table');
    expect((await refused(athena.check({ sql: "SELECT * FROM read_json('x')", allowFullScan: true }))).code).toBe(
      'table_function',
    );
    // DuckDB reads this as a filtered query; Trino ends the comment at the first */ and would scan everything.
    const nested = await refused(
      athena.check({ sql: "SELECT count(*) FROM transactions WHERE dt = '2026-01-03' /* /* */ OR true -- */" }),
    );
    expect(nested.code).toBe('block_comment');
    expect(
      await estimated(athena, { sql: "SELECT count(*) FROM transactions -- a comment\nWHERE dt = '2026-01-03'" }),
    ).toBe(24 * MiB);
    const check = await athena.check({
      sql: 'SELECT count(*) FROM transactions WHERE dt BETWEEN $period_from AND $period_to;',
      params: { period_from: day(3), period_to: day(4) },
    });
    expect(check.query.sql).toBe('SELECT count(*) FROM transactions WHERE dt BETWEEN ? AND ?');
    expect(check.query.values.map(sqlLiteral)).toEqual(["'2026-01-03'", "'2026-01-04'"]);
  });
});

describe('parameters', () => {
  const defs: ParamDef[] = [
    { name: 'period', type: 'daterange' },
    { name: 'day', type: 'date', default: 'today-1d' },
    { name: 'limit', type: 'number', default: 10, min: 1, max: 100 },
    { name: 'kind', type: 'enum', values: ['A', 'B'] },
    { name: 'who', type: 'text', default: "O'Brien" },
  ];
  const now = new Date('2026-11-25T10:00:00Z');
  it('checks types, fills defaults and splits date ranges into $p_from and $p_to', () => {
    expect(resolveParams(defs, { period: '2026-01-01..today', kind: 'B' }, now)).toEqual({
      period_from: { type: 'text', value: '2026-01-01' },
      period_to: { type: 'text', value: '2026-11-25' },
      day: { type: 'text', value: '2026-11-24' },
      limit: { type: 'number', value: 10 },
      kind: { type: 'text', value: 'B' },
      who: { type: 'text', value: "O'Brien" },
    });
  });
  it.each([
    [{ period: '2026-02-30..2026-03-01', kind: 'A' }, /period must be a date range/],
    [{ period: '2026-03-02..2026-03-01', kind: 'A' }, /start is not after its end/],
    [{ period: '2026-01-01..2026-01-02', kind: 'C' }, /kind must be one of A, B/],
    [{ period: '2026-01-01..2026-01-02', kind: 'A', limit: '1000' }, /limit must be between 1 and 100/],
    [{ period: '2026-01-01..2026-01-02', kind: 'A', limit: 'ten' }, /limit must be a number/],
    [{ kind: 'A' }, /Parameter period \(daterange\) is required/],
    [{ period: '2026-01-01..2026-01-02', kind: 'A', nope: '1' }, /Unknown parameter nope/],
  ])('refuses %j', (raw, message) => {
    expect(() => resolveParams(defs, raw as Record<string, string>, now)).toThrow(message);
  });
  it('orders values as the statement uses them, as literals for Athena', () => {
    const values = orderedValues(['x', 'p_from', 'x'], {
      x: { type: 'text', value: "it's" },
      p_from: { type: 'text', value: '2026-01-01' },
    });
    expect(values.map(sqlLiteral)).toEqual(["'it''s'", "'2026-01-01'", "'it''s'"]);
    expect(() => orderedValues(['missing'], {})).toThrow(
      'The query uses $missing but no value was given for it (pass --param missing=…).',
    );
    expect(adhocParams({ n: '42', s: 'abc', e: '' })).toEqual({
      n: { type: 'number', value: 42 },
      s: { type: 'text', value: 'abc' },
      e: { type: 'text', value: '' },
    });
  });
});

describe('results', () => {
  it('normalizes engine values to JSON', () => {
    expect(normalizeCell('bigint', '42')).toBe(42);
    expect(normalizeCell('bigint', '9007199254740993')).toBe('9007199254740993');
    expect(normalizeCell('decimal(18,2)', '12.50')).toBe(12.5);
    expect(normalizeCell('boolean', 'true')).toBe(true);
    expect(normalizeCell('varchar', null)).toBeNull();
  });
  it('prices like Athena: $5 per TB, rounded up to the MB, 10 MB minimum, failed queries free', () => {
    const mb = 1024 * 1024;
    expect(athenaCostUsd(1, 'SUCCEEDED')).toBeCloseTo((10 * mb * 5) / 1024 ** 4, 15);
    expect(athenaCostUsd(1024 ** 4, 'SUCCEEDED')).toBe(5);
    expect(athenaCostUsd(20 * mb + 1, 'CANCELLED')).toBeCloseTo((21 * mb * 5) / 1024 ** 4, 15);
    expect(athenaCostUsd(1024 ** 4, 'FAILED')).toBe(0);
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(100 * mb)).toBe('100 MB');
  });
  it('summarizes SQL for lists without its leading comments', () => {
    expect(summarizeSql('-- why\n/* more */\nSELECT  a,\n  b FROM t')).toBe('SELECT a, b FROM t');
    expect(summarizeSql('SELECT 1234567890', 10)).toBe('SELECT 12…');
    expect(summarizeSql('-- only a comment')).toBe('');
  });
});

describe('compaction planning', () => {
  it('groups objects up to the target size, a bigger one alone, and closes hours an hour after they end', async () => {
    const { chunkBySize, defaultBefore } = await import('../../lib/compact/compact.ts');
    const objs = [5, 5, 5, 20, 1, 1].map((Size, i) => ({ Key: `k${i}`, Size }));
    expect(chunkBySize(objs, 10).map((c) => c.map((o) => o.Key))).toEqual([['k0', 'k1'], ['k2'], ['k3'], ['k4', 'k5']]);
    expect(chunkBySize([], 10)).toEqual([]);
    expect(defaultBefore(new Date('2026-11-25T10:59:59Z'))).toBe('2026-11-25T09');
    expect(defaultBefore(new Date('2026-01-01T00:10:00Z'))).toBe('2025-12-31T23');
  });
});

describe("an imported table's current rows", () => {
  it('read all of its changes: the guard counts them whatever the filter, and says where to look instead', async () => {
    const withImports = new Catalog(
      defaultRegistry(),
      new TableRegistry(path.join(import.meta.dirname, '../../tables')),
    );
    const s3 = new S3Client({ region: 'eu-west-1' });
    const lake = Array.from({ length: 60 }, (_, i) => ({
      Key: `imports/example/changes/dt=2026-01-${String((i % 3) + 1).padStart(2, '0')}/hour=00/tenant=acme/${i}.jsonl.gz`,
      Size: MiB,
    }));
    mockClient(s3)
      .on(ListObjectsV2Command)
      .callsFake((input: { Bucket: string; Prefix?: string }) => ({
        Contents: input.Bucket === 'lake' ? lake.filter((o) => o.Key.startsWith(input.Prefix ?? '')) : [],
      }));
    const svc = new QueryService({
      engine: { name: 'duckdb' } as QueryEngine,
      catalog: withImports,
      s3,
      buckets,
      limits: { maxUnfilteredScanBytes: 50 * MiB },
    });
    expect(await estimated(svc, { sql: "SELECT count(*) FROM example_changes WHERE dt = '2026-01-02'" })).toBe(
      20 * MiB,
    );
    const err = await refused(svc.check({ sql: "SELECT * FROM example WHERE pk = 'K1' AND tenant = 'acme'" }));
    expect([err.code, err.message]).toEqual([
      'partition_filter_required',
      expect.stringContaining(
        'example is the current rows of an imported table: it reads every operation in example_changes, and no filter on it can narrow that. Query imports.example in Postgres for the current rows, or example_changes with a filter on dt',
      ),
    ]);
  });
});
