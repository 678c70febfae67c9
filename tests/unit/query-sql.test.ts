import { describe, expect, it } from 'vitest';
import { toCsv } from '../../lib/query/csv.ts';
import { splitFilters } from '../../lib/query/duckdb-engine.ts';
import { normalizeCell } from '../../lib/query/engine.ts';
import { adhocParams, bindPlaceholders, resolveParams, sqlLiteral, type ParamDef } from '../../lib/query/params.ts';
import { athenaCostUsd } from '../../lib/query/service.ts';
import { formatBytes } from '../../lib/util/format.ts';
import { assertReadOnly, filtersOn, referencedTables, summarizeSql, tokenize } from '../../lib/query/sql.ts';

describe('read-only guard', () => {
  it.each([
    'SELECT 1',
    'select * from transactions;',
    'WITH x AS (SELECT 1) SELECT * FROM x',
    '(SELECT 1) UNION (SELECT 2)',
    "SELECT 'DELETE FROM t; DROP TABLE x' AS s -- delete\n",
    'SELECT "update" FROM t /* insert */',
  ])('accepts %s', (sql) => {
    expect(() => assertReadOnly(sql)).not.toThrow();
  });

  it.each([
    ['DELETE FROM transactions', /starts with "DELETE"/],
    ['SELECT 1; SELECT 2', /Only one statement/],
    ['WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x', /INSERT \(at position \d+\) is not allowed/],
    ["COPY (SELECT 1) TO '/tmp/x'", /starts with "COPY"/],
    ['SELECT 1 FROM t; PRAGMA x', /Only one statement/],
    ['   ', /empty/],
    ["SELECT 'unterminated", /never closed/],
    ['ATTACH \'x.db\'', /starts with "ATTACH"/],
    ['SELECT * FROM t /* open', /never closed/],
  ])('refuses %s', (sql, message) => {
    expect(() => assertReadOnly(sql)).toThrow(message);
  });
});

describe('table and filter detection', () => {
  const tables = (sql: string) => referencedTables(tokenize(sql));
  it('finds tables after FROM/JOIN and in FROM lists, not CTEs or table functions', () => {
    expect(tables('SELECT * FROM transactions t JOIN "taxi_trips" x ON true')).toEqual(['transactions', 'taxi_trips']);
    expect(tables('SELECT * FROM awsdatacatalog.tributary.clickstream, quarantine q WHERE 1=1')).toEqual(['clickstream', 'quarantine']);
    expect(tables('WITH transactions AS (SELECT 1) SELECT * FROM transactions')).toEqual([]);
    expect(tables("SELECT * FROM read_json('x') WHERE a IN (SELECT b FROM quarantine)")).toEqual(['quarantine']);
    expect(tables('SELECT extract(hour FROM ts) FROM (SELECT 1) s')).toEqual([]);
  });
  it('sees comparisons on dt on either side, qualified or quoted', () => {
    const on = (sql: string) => filtersOn(tokenize(sql), 'dt');
    expect(on("SELECT * FROM t WHERE dt = '2026-01-01'")).toBe(true);
    expect(on("SELECT * FROM t x WHERE x.dt BETWEEN '2026-01-01' AND '2026-01-02'")).toBe(true);
    expect(on("SELECT * FROM t WHERE '2026-01-01' <= \"dt\"")).toBe(true);
    expect(on("SELECT * FROM t WHERE dt IN ('2026-01-01')")).toBe(true);
    expect(on('SELECT dt, count(*) FROM t GROUP BY dt')).toBe(false);
    expect(on("SELECT * FROM t WHERE note = 'dt = 1'")).toBe(false);
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
  it('checks types, fills defaults and splits date ranges', () => {
    expect(resolveParams(defs, { period: '2026-01-01..today', kind: 'B' }, now)).toEqual({
      'period.from': { type: 'text', value: '2026-01-01' },
      'period.to': { type: 'text', value: '2026-11-25' },
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
  it('binds :name placeholders positionally, never inside strings, comments or :: casts', () => {
    const bound = bindPlaceholders("SELECT ':x', x::VARCHAR -- :x\nFROM t WHERE a = :x AND b BETWEEN :p.from AND :p.to", {
      x: { type: 'text', value: "it's" },
      'p.from': { type: 'text', value: '2026-01-01' },
      'p.to': { type: 'text', value: '2026-01-02' },
    });
    expect(bound.sql).toBe("SELECT ':x', x::VARCHAR -- :x\nFROM t WHERE a = ? AND b BETWEEN ? AND ?");
    expect(bound.values.map(sqlLiteral)).toEqual(["'it''s'", "'2026-01-01'", "'2026-01-02'"]);
    expect(() => bindPlaceholders('SELECT :missing', {})).toThrow(/no value was given for it \(pass --param missing=…\)/);
    expect(adhocParams({ n: '42', s: 'abc', e: '' })).toEqual({ n: { type: 'number', value: 42 }, s: { type: 'text', value: 'abc' }, e: { type: 'text', value: '' } });
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
  it('writes RFC 4180 CSV', () => {
    expect(toCsv([{ name: 'a', type: 'varchar' }, { name: 'b', type: 'bigint' }], [['x,"y"', 1], [null, 2], [{ k: [1] } as never, 3]])).toBe('a,b\r\n"x,""y""",1\r\n,2\r\n"{""k"":[1]}",3\r\n');
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

  it('splits DuckDB file filters into AND-able groups', () => {
    expect(splitFilters("(dt >= '2024-01-02')(hour = 5)")).toEqual(["(dt >= '2024-01-02')", '(hour = 5)']);
    expect(splitFilters("(dt = ')(')")).toEqual(["(dt = ')(')"]);
    expect(splitFilters('')).toEqual([]);
  });
});

describe('compaction planning', () => {
  it('groups objects up to the target size, a bigger one alone, and closes hours an hour after they end', async () => {
    const { chunkBySize, defaultBefore } = await import('../../lib/lake/compact.ts');
    const objs = [5, 5, 5, 20, 1, 1].map((Size, i) => ({ Key: `k${i}`, Size }));
    expect(chunkBySize(objs, 10).map((c) => c.map((o) => o.Key))).toEqual([['k0', 'k1'], ['k2'], ['k3'], ['k4', 'k5']]);
    expect(chunkBySize([], 10)).toEqual([]);
    expect(defaultBefore(new Date('2026-11-25T10:59:59Z'))).toBe('2026-11-25T09');
    expect(defaultBefore(new Date('2026-01-01T00:10:00Z'))).toBe('2025-12-31T23');
  });
});
