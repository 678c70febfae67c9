import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../lib/catalog/catalog.ts';
import { athenaViewSql } from '../../lib/catalog/glue.ts';
import { quoteString } from '../../lib/catalog/types.ts';
import { defaultRegistry } from '../../lib/registry/registry.ts';
import {
  MAX_PARTITION_VALUE,
  NULL_PARTITION,
  decodePartitionValue,
  encodePartitionValue,
  lakeObjectName,
  lakePrefix,
} from '../../lib/layout/partition.ts';

const SAFE = /^[A-Za-z0-9._%-]*$/;

/** Values that collided, escaped a prefix or did not read back before, next to ordinary ones. */
const VALUES: unknown[] = [
  '',
  '.',
  '..',
  '_',
  '%',
  '%25',
  '%2E',
  '...',
  '_.',
  'home',
  'product/shoes',
  'Sale! 50% off',
  'rückgabe',
  '../admin',
  '..\\..\\x',
  'a+b',
  'a b',
  '?#&=',
  '\u0000',
  '\n',
  '🔥',
  'null',
  'NULL',
  'Null',
  '__HIVE_DEFAULT_PARTITION__',
  '__hive_default_partition__',
  null,
  'x'.repeat(128),
  'x'.repeat(129),
  'x'.repeat(10_000),
  `${'x'.repeat(9_999)}y`,
  'ü'.repeat(200),
  '€'.repeat(50),
  '€'.repeat(60),
  '\ud800',
  '\ufffd',
  'a\udc00b',
  `head\u2026${'0'.repeat(32)}`,
  'x/'.repeat(100),
];

describe('partition values', () => {
  it('keeps safe characters and percent-encodes every other UTF-8 byte, "%" included', () => {
    expect(encodePartitionValue('home')).toBe('home');
    expect(encodePartitionValue('product/shoes')).toBe('product%2Fshoes');
    expect(encodePartitionValue('Sale! 50% off')).toBe('Sale%21%2050%25%20off');
    expect(encodePartitionValue('rückgabe')).toBe('r%C3%BCckgabe');
    expect(encodePartitionValue('a\u0000b\nc')).toBe('a%00b%0Ac');
    expect(encodePartitionValue('%')).toBe('%25');
    expect(encodePartitionValue('_')).toBe('_');
  });

  it('keeps "", ".", "..", "_" and null apart: empty stays empty, dots are escaped, null is the hive NULL marker', () => {
    expect(encodePartitionValue('')).toBe('');
    expect(encodePartitionValue('.')).toBe('%2E');
    expect(encodePartitionValue('..')).toBe('%2E%2E');
    expect(encodePartitionValue('...')).toBe('...');
    expect(encodePartitionValue(null)).toBe(NULL_PARTITION);
    expect(encodePartitionValue(undefined)).toBe(NULL_PARTITION);
    // Strings a reader would take for NULL are escaped, so they read back as strings.
    expect(encodePartitionValue('null')).toBe('%6Eull');
    expect(encodePartitionValue('NULL')).toBe('%4EULL');
    expect(encodePartitionValue('__HIVE_DEFAULT_PARTITION__')).toBe('%5F_HIVE_DEFAULT_PARTITION__');
    expect(encodePartitionValue('../x')).toBe('..%2Fx');
    expect(encodePartitionValue('..\\..\\x')).toBe('..%5C..%5Cx');
  });

  it('is one-to-one and reversible: every value decodes to itself unless it had to be shortened', () => {
    const encoded = VALUES.map((v) => encodePartitionValue(v));
    expect(new Set(encoded).size).toBe(VALUES.length);
    // Shortened: the values over the limit, the lone surrogates and the value that already looked shortened.
    expect(encoded.filter((e) => /%E2%80%A6[0-9a-f]{32}$/.test(e)).length).toBe(10);
    for (const [i, v] of VALUES.entries()) {
      const e = encoded[i]!;
      const shortened = /%E2%80%A6[0-9a-f]{32}$/.test(e);
      // A value too long for a key segment is shortened (so it cannot decode back); every other one decodes exactly.
      expect(decodePartitionValue(e) === v, e).toBe(!shortened);
    }
    // Decoded values are distinct too (what a GROUP BY on the column sees).
    expect(new Set(encoded.map(decodePartitionValue)).size).toBe(VALUES.length);
  });

  it('shortens long values to 128 characters with a hash of the whole value, cutting only between characters', () => {
    const long = encodePartitionValue('x'.repeat(10_000));
    expect(long.length).toBeLessThanOrEqual(MAX_PARTITION_VALUE);
    expect(long).toMatch(/^x+%E2%80%A6[0-9a-f]{32}$/);
    expect(encodePartitionValue(`${'x'.repeat(9_999)}y`)).not.toBe(long);
    expect(encodePartitionValue('x'.repeat(128))).toBe('x'.repeat(128));
    for (const v of ['ü'.repeat(200), '€'.repeat(60), '🔥'.repeat(40)]) {
      const e = encodePartitionValue(v);
      expect(e.length).toBeLessThanOrEqual(MAX_PARTITION_VALUE);
      // The head decodes (no escape of half a character) and is a prefix of the value.
      const decoded = decodePartitionValue(e)!;
      expect(decoded).toMatch(/\u2026[0-9a-f]{32}$/);
      expect(v.startsWith(decoded.replace(/\u2026[0-9a-f]{32}$/, ''))).toBe(true);
    }
    // A lone surrogate has no UTF-8 form: it is kept apart from U+FFFD by the hash.
    expect(encodePartitionValue('\ud800')).not.toBe(encodePartitionValue('\ufffd'));
    // A value that already looks shortened is shortened itself, so it cannot pose as another value's directory.
    const lookalike = decodePartitionValue(long)!;
    expect(encodePartitionValue(lookalike)).not.toBe(long);
  });

  it('keeps every hostile value under its own prefix', () => {
    for (const h of VALUES) {
      const prefix = lakePrefix('clickstream', '2026-01-15T12:34:56.000Z', [{ name: 'section', value: h }]);
      const segments = prefix.split('/');
      expect(segments.slice(0, 4)).toEqual(['events', 'clickstream', 'dt=2026-01-15', 'hour=12']);
      expect(segments).toHaveLength(5);
      expect(segments[4]!.startsWith('section=')).toBe(true);
      const value = segments[4]!.slice('section='.length);
      expect(value).toMatch(SAFE);
      expect(value.length).toBeLessThanOrEqual(MAX_PARTITION_VALUE);
      expect(['.', '..']).not.toContain(value);
    }
  });

  it('names objects by shard and sequence range', () => {
    expect(lakeObjectName('shardId-000000000001', '49', '51')).toBe('shardId-000000000001-49-51.jsonl.gz');
  });
});

describe('partition values as DuckDB reads them', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tributary-partition-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('hive partitioning reads every directory back as decodePartitionValue does, so both engines see one value per directory', async () => {
    for (const [i, v] of VALUES.entries()) {
      const d = path.join(dir, `section=${encodePartitionValue(v)}`);
      mkdirSync(d, { recursive: true });
      writeFileSync(path.join(d, `${i}.jsonl.gz`), gzipSync(`${JSON.stringify({ i })}\n`));
    }
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const r = await c.runAndReadAll(
      `SELECT i, section FROM read_json('${dir}/*/*.jsonl.gz', format = 'newline_delimited', records = true, hive_partitioning = true, hive_types = {'section': VARCHAR}, columns = {'i': 'INTEGER'}) ORDER BY i`,
    );
    const rows = r.getRowsJson() as [number, string | null][];
    c.closeSync();
    db.closeSync();
    expect(rows.map((row) => row[0])).toEqual(VALUES.map((_, i) => i));
    expect(rows.map((row) => row[1])).toEqual(VALUES.map((v) => decodePartitionValue(encodePartitionValue(v))));
    // Each of the values that used to collide reads back as itself.
    for (const v of ['', '.', '..', '_', '%', 'null', null]) expect(rows[VALUES.indexOf(v)]![1]).toBe(v);

    // The Athena view's expression for the column, evaluated on the same paths (DuckDB has the same regexp_extract,
    // lower and url_decode; Trino's url_decode differs only on "+" and stray "%", which the encoding never writes).
    const athena = /(CASE WHEN regexp_extract\(r\."\$path".*? END) AS "section"/.exec(
      athenaViewSql(new Catalog(defaultRegistry()).table('clickstream'), 'db'),
    )![1]!;
    const paths = VALUES.map(
      (v, i) =>
        `(${i}, ${quoteString(`s3://lake/events/clickstream/dt=2026-01-15/hour=12/section=${encodePartitionValue(v)}/x.jsonl.gz`)})`,
    );
    const db2 = await DuckDBInstance.create(':memory:');
    const c2 = await db2.connect();
    const viaAthena = (
      await c2.runAndReadAll(
        `SELECT ${athena.replaceAll('r."$path"', 'p')} FROM (VALUES ${paths.join(', ')}) AS t(i, p) ORDER BY i`,
      )
    )
      .getRowsJson()
      .map((row) => row[0]);
    c2.closeSync();
    db2.closeSync();
    expect(viaAthena).toEqual(rows.map((row) => row[1]));
  });
});
