import { describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES, parseBody, splitJsonArray } from '../../lib/ingest/body.ts';

describe('parseBody', () => {
  it('reads one object, an array, and NDJSON', () => {
    expect(parseBody('{"a":1}').items).toEqual([{ index: 0, value: { a: 1 }, raw: '{"a":1}' }]);
    const arr = parseBody('[{"a":1}, {"a":2}]');
    expect(arr.format).toBe('array');
    expect(arr.items.map((i) => i.value)).toEqual([{ a: 1 }, { a: 2 }]);
    expect(arr.rawOf(1)).toBe('{"a":2}');
    const nd = parseBody('{"a":1}\r\n\n{"a":2}\n', 'application/x-ndjson');
    expect(nd.format).toBe('ndjson');
    expect(nd.items.map((i) => i.value)).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('sniffs NDJSON without a content type and keeps a bad line as a per-event parse error', () => {
    const nd = parseBody('{"a":1}\n{bad\n{"a":3}');
    expect(nd.format).toBe('ndjson');
    expect(nd.items).toHaveLength(3);
    expect(nd.items[1]!.parseError).toMatch(/^NDJSON line 2 of the request is not valid JSON/);
    expect(nd.items[1]!.raw).toBe('{bad');
  });

  it('refuses bodies that are not JSON, empty, or scalars with 400-class errors', () => {
    expect(() => parseBody('{nope')).toThrow(/Request body is not valid JSON/);
    expect(() => parseBody('  ')).toThrow(/empty/);
    expect(() => parseBody('42')).toThrow('Request body is a JSON number; send one JSON object, a JSON array of objects, or NDJSON.');
    expect(() => parseBody('[]')).toThrow(/empty JSON array/);
  });

  it('enforces 500 events and 5 MiB with the limits in the message', () => {
    const many = JSON.stringify(Array.from({ length: 501 }, () => ({})));
    expect(() => parseBody(many)).toThrow('Request has 501 events; the limit is at most 500 events and 5242880 bytes (5 MiB) per request. Split it into smaller requests.');
    expect(() => parseBody(Array.from({ length: 501 }, () => '{}').join('\n'), 'application/x-ndjson')).toThrow(/Request has 501 events/);
    expect(() => parseBody(`{"a":"${'x'.repeat(MAX_BODY_BYTES)}"}`)).toThrow(/bytes; the limit is at most 500 events/);
    expect(parseBody(JSON.stringify(Array.from({ length: 500 }, () => ({})))).items).toHaveLength(500);
  });

  it('splits a JSON array into the raw text of each element', () => {
    expect(splitJsonArray('[ {"a":"x,]}"} , [1,[2]] ,"s\\"", 3, null ]')).toEqual(['{"a":"x,]}"}', '[1,[2]]', '"s\\""', '3', 'null']);
  });
});
