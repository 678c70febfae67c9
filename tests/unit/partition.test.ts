import { describe, expect, it } from 'vitest';
import { decodePartitionValue, encodePartitionValue, lakeObjectName, lakePrefix } from '../../lib/lake/partition.ts';

const SAFE = /^[A-Za-z0-9._%-]+$/;

describe('partition values', () => {
  it('keeps safe characters and percent-encodes the rest as UTF-8', () => {
    expect(encodePartitionValue('home')).toBe('home');
    expect(encodePartitionValue('product/shoes')).toBe('product%2Fshoes');
    expect(encodePartitionValue('Sale! 50% off')).toBe('Sale%21%2050%25%20off');
    expect(encodePartitionValue('rückgabe')).toBe('r%C3%BCckgabe');
    expect(encodePartitionValue('a\u0000b\nc')).toBe('a%00b%0Ac');
    expect(decodePartitionValue('r%C3%BCckgabe')).toBe('rückgabe');
  });

  it('maps empty, "." and ".." to "_" and never yields a path segment', () => {
    for (const v of ['', '.', '..', null, undefined]) expect(encodePartitionValue(v)).toBe('_');
    expect(encodePartitionValue('../x')).toBe('..%2Fx');
    expect(encodePartitionValue('..\\..\\x')).toBe('..%5C..%5Cx');
  });

  it('bounds long values at 128 characters with a hash, never splitting an escape', () => {
    const long = 'x'.repeat(10_000);
    const enc = encodePartitionValue(long);
    expect(enc.length).toBeLessThanOrEqual(128);
    expect(enc).toMatch(/^x+--[0-9a-f]{16}$/);
    expect(encodePartitionValue('x'.repeat(9_999) + 'y')).not.toBe(enc);
    const unicode = encodePartitionValue('ü'.repeat(200));
    expect(unicode.length).toBeLessThanOrEqual(128);
    expect(unicode).toMatch(/^(%C3%BC)+--[0-9a-f]{16}$/);
  });

  it('keeps every hostile value under its own prefix', () => {
    const hostile = ['../x', 'a/b', '', '.', '..', 'x'.repeat(10_240), '🔥/../../etc', '\u0001\u001f\u007f', '%2e%2e', 'a\\b', ' ', '?#&=', 'x/'.repeat(100)];
    for (const h of hostile) {
      const prefix = lakePrefix('clickstream', '2026-01-15T12:34:56.000Z', [{ name: 'section', value: h }]);
      const segments = prefix.split('/');
      expect(segments.slice(0, 4)).toEqual(['events', 'clickstream', 'dt=2026-01-15', 'hour=12']);
      expect(segments).toHaveLength(5);
      expect(segments[4]!.startsWith('section=')).toBe(true);
      const value = segments[4]!.slice('section='.length);
      expect(value).toMatch(SAFE);
      expect(value.length).toBeLessThanOrEqual(128);
      expect(['.', '..', '']).not.toContain(value);
    }
  });

  it('names objects by shard and sequence range', () => {
    expect(lakeObjectName('shardId-000000000001', '49', '51')).toBe('shardId-000000000001-49-51.jsonl.gz');
  });
});
