import { describe, expect, it } from 'vitest';
import { parseBody, splitJsonArray } from '../../lib/events/body.ts';
import { MAX_BODY_BYTES, assertBodySize, framingOf } from '../../lib/events/limits.ts';
import { MalformedBodyError, UnsupportedMediaTypeError } from '../../lib/events/errors.ts';
import { MAX_EVENT_DEPTH, parseJsonStrict } from '../../lib/registry/json.ts';

describe('parseBody', () => {
  it('reads one object, an array, and NDJSON', () => {
    expect(parseBody('{"a":1}').items).toEqual([{ index: 0, value: { a: 1 }, raw: '{"a":1}', canonical: true }]);
    const arr = parseBody('[{"a":1}, {"a":2}]');
    expect(arr.format).toBe('array');
    expect(arr.items.map((i) => i.value)).toEqual([{ a: 1 }, { a: 2 }]);
    expect(arr.rawOf(1)).toBe('{"a":2}');
    const nd = parseBody('{"a":1}\r\n\n{"a":2}\n', 'ndjson');
    expect(nd.format).toBe('ndjson');
    expect(nd.items.map((i) => i.value)).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('sniffs NDJSON without a content type and keeps a bad line as a per-event parse error', () => {
    const nd = parseBody('{"a":1}\n{bad\n{"a":3}');
    expect(nd.format).toBe('ndjson');
    expect(nd.items).toHaveLength(3);
    expect(nd.items[1]!.error).toMatchObject({
      path: '/',
      keyword: 'json',
      message: expect.stringMatching(/^NDJSON line 2 of the request: not valid JSON \(/),
    });
    expect(nd.items[1]!.raw).toBe('{bad');
  });

  it('refuses bodies that are not JSON, empty, or scalars with 400-class errors', () => {
    expect(() => parseBody('{nope')).toThrow(/Request body is not valid JSON/);
    expect(() => parseBody('  ')).toThrow(/empty/);
    expect(() => parseBody('42')).toThrow(
      'Request body is a JSON number; send one JSON object, a JSON array of objects, or NDJSON.',
    );
    expect(() => parseBody('[]')).toThrow(/empty JSON array/);
  });

  it('enforces 500 events and 4 MiB with the limits in the message', () => {
    const many = JSON.stringify(Array.from({ length: 501 }, () => ({})));
    expect(() => parseBody(many)).toThrow(
      'Request has 501 events; the limit is at most 500 events and 4194304 bytes (4 MiB) per request. Split it into smaller requests.',
    );
    expect(() => parseBody(Array.from({ length: 501 }, () => '{}').join('\n'), 'ndjson')).toThrow(
      /Request has 501 events/,
    );
    expect(() => assertBodySize(Buffer.byteLength(`{"a":"${'x'.repeat(MAX_BODY_BYTES)}"}`))).toThrow(
      /bytes; the limit is at most 500 events/,
    );
    expect(parseBody(JSON.stringify(Array.from({ length: 500 }, () => ({})))).items).toHaveLength(500);
  });

  it('splits a JSON array into the raw text of each element', () => {
    expect(splitJsonArray('[ {"a":"x,]}"} , [1,[2]] ,"s\\"", 3, null ]')).toEqual([
      '{"a":"x,]}"}',
      '[1,[2]]',
      '"s\\""',
      '3',
      'null',
    ]);
  });
});

/** The 400 a body gets, with the error list the API answers and quarantines. */
function refusal(
  text: string,
  contentType?: string,
): { message: string; errors: { path: string; keyword: string; message: string }[] } {
  try {
    parseBody(text, framingOf(contentType));
  } catch (err) {
    if (err instanceof MalformedBodyError) return { message: err.message, errors: err.errors };
    throw err;
  }
  throw new Error('the body was accepted');
}

const nest = (levels: number, inner = '1') => '{"a":'.repeat(levels) + inner + '}'.repeat(levels);

describe('the strict reader: what a JSON text may hold', () => {
  it('refuses repeated names, whatever their values (duplicates used to reach a 500 when the last was beyond 2^53)', () => {
    const big =
      '{"trans_num":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","cc_num":"4111111111111111","cc_num":12345678901234567890}';
    expect(refusal(big)).toEqual({
      message:
        'Request body is refused: member name "cc_num" appears twice in one object with different values (the second at character 77); send each name once.',
      errors: [
        {
          path: '/',
          keyword: 'duplicate',
          message:
            'member name "cc_num" appears twice in one object with different values (the second at character 77); send each name once.',
        },
      ],
    });
    expect(refusal('[{"a":1}, {"b":{"c":1,"c":2}}]').errors[0]!.keyword).toBe('duplicate');
    // The same name with the same value twice means one thing to every reader (lossless-json's rule): kept once.
    expect(parseBody('{"a":1,"a":1}').items[0]!.value).toEqual({ a: 1 });
    const nd = parseBody('{"a":1}\n{"a":1, "a":2}', 'ndjson');
    expect(nd.items.map((i) => i.error?.keyword)).toEqual([undefined, 'duplicate']);
  });

  it('keeps every digit of integers beyond 2^53, whatever the spacing of the text', () => {
    for (const text of [
      '{"cc_num":12345678901234567890,"x":[18014398509481985]}',
      '{ "cc_num" : 12345678901234567890 , "x" : [ 18014398509481985 ] }',
    ]) {
      expect(parseBody(text).items[0]!.value).toEqual({ cc_num: '12345678901234567890', x: ['18014398509481985'] });
    }
    // A double that holds the integer exactly reads the same on either path: its exact text.
    expect(parseJsonStrict('{"x":18014398509481984}')).toEqual({ x: '18014398509481984' });
    expect(parseJsonStrict('{"x": 18014398509481984}')).toEqual({ x: '18014398509481984' });
    // Written with a fraction or an exponent, a number has no digits to keep: it stays the nearest double.
    expect(parseJsonStrict('{"x":1.5,"y":-0,"z":1e+21,"w":4.992346398065154e+18}')).toEqual({
      x: 1.5,
      y: -0,
      z: 1e21,
      w: 4992346398065154000,
    });
    expect(parseJsonStrict('{"z":1000000000000000000000}')).toEqual({ z: '1000000000000000000000' });
    const proto = parseJsonStrict('{"__proto__":18014398509481984}') as Record<string, unknown>;
    expect([
      Object.getPrototypeOf(proto) === Object.prototype,
      Object.getOwnPropertyDescriptor(proto, '__proto__')?.value,
    ]).toEqual([true, '18014398509481984']);
    expect(refusal('{"x":1e400}').errors).toEqual([
      {
        path: '/x',
        keyword: 'number',
        message: 'number is beyond the range of a double (about 1.8e308); send it as a string.',
      },
    ]);
  });

  it(`refuses nesting beyond ${MAX_EVENT_DEPTH} levels with a 400 at the place (5,000 levels used to get a 500)`, () => {
    expect(parseBody(nest(MAX_EVENT_DEPTH)).items).toHaveLength(1);
    expect(parseBody(`[${nest(MAX_EVENT_DEPTH)}]`).items).toHaveLength(1);
    const deep = refusal(nest(MAX_EVENT_DEPTH + 1));
    expect(deep.errors).toEqual([
      {
        path: '/a'.repeat(MAX_EVENT_DEPTH),
        keyword: 'depth',
        message: `objects and arrays nest more than ${MAX_EVENT_DEPTH} levels deep here; an event may nest at most ${MAX_EVENT_DEPTH} levels.`,
      },
    ]);
    expect(refusal(`[{}, ${nest(MAX_EVENT_DEPTH + 1)}]`).errors[0]!.path).toBe(`/1${'/a'.repeat(MAX_EVENT_DEPTH)}`);
    expect(refusal('['.repeat(200_000) + ']'.repeat(200_000)).errors[0]!.keyword).toBe('depth');
    expect(parseBody(`{"a":1}\n${nest(5000)}`, 'ndjson').items[1]!.error!.keyword).toBe('depth');
  });

  it('refuses strings and names that are not Unicode text (lone surrogates), at their path', () => {
    expect(refusal('{"metadata":{"uuid":"u","section":"x\\ud800y"}}').errors).toEqual([
      {
        path: '/metadata/section',
        keyword: 'encoding',
        message:
          'string has an unpaired surrogate escape (such as \\ud800) and is not Unicode text; send the character itself, or both halves of its surrogate pair.',
      },
    ]);
    expect(refusal('[{"ok":"\\ud83d\\udd25"}, {"list":["a", "\\udfff"]}]').errors[0]!.path).toBe('/1/list/1');
    // In a name, the pointer shows U+FFFD for the lone half (a pointer must itself be Unicode text).
    expect(refusal('{"a/b":{"k\\udc00~":1}}').errors[0]!.path).toBe('/a~1b/k\ufffd~0');
    expect(parseBody('{"ok":"\\ud83d\\udd25 \\u00e9"}').items[0]!.value).toEqual({ ok: '🔥 é' });
    const nd = parseBody('{"a":"\\ud800"}\n{"a":"fine"}', 'ndjson');
    expect(nd.items.map((i) => i.error ?? i.value)).toEqual([
      {
        path: '/a',
        keyword: 'encoding',
        message:
          'NDJSON line 1 of the request: string has an unpaired surrogate escape (such as \\ud800) and is not Unicode text; send the character itself, or both halves of its surrogate pair.',
      },
      { a: 'fine' },
    ]);
  });
});

describe('content types', () => {
  it('accepts JSON and NDJSON in UTF-8, and text/plain (browsers), and refuses everything else with 415', () => {
    const ok: [string | undefined, string][] = [
      [undefined, 'json'],
      ['application/json', 'json'],
      ['Application/JSON; charset=UTF-8', 'json'],
      ['application/vnd.acme.event+json', 'json'],
      ['text/plain;charset=utf-8', 'json'],
      ['application/x-ndjson', 'ndjson'],
      ['application/ndjson; charset=utf8', 'ndjson'],
      ['application/jsonl', 'ndjson'],
      ['application/x-jsonlines', 'ndjson'],
    ];
    for (const [ct, framing] of ok) expect(framingOf(ct), ct).toBe(framing);
    for (const ct of [
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      'text/csv',
      'application/xml',
      'application/json-seq',
      'application/json,application/json',
      'json',
      'application/json; charset=latin1',
      'text/plain; charset=utf-16',
    ]) {
      expect(() => framingOf(ct), ct).toThrow(UnsupportedMediaTypeError);
    }
    expect(() => framingOf('text/csv')).toThrow(
      'Content-Type text/csv is not accepted; send application/json (or any application/*+json), application/x-ndjson (or application/ndjson, application/jsonl, application/x-jsonlines, application/jsonlines) and text/plain, in UTF-8.',
    );
    expect(() => framingOf('application/x-www-form-urlencoded')).toThrow(UnsupportedMediaTypeError);
  });
});
