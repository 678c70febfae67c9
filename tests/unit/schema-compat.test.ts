/**
 * The compatibility checker (lib/registry/compat.ts) against a written matrix. Every row says what changes, the
 * direction the checker must find and the verdict per mode, and why; the rows marked "Confluent" are the cases its
 * JSON Schema rules cover (strict and lenient × open and closed content × added and removed × required and optional),
 * the rest are draft 2020-12 keywords.
 *
 * Reading the verdicts: BACKWARD holds when every instance valid under the old version is valid under the new one (a
 * widening or nothing), FORWARD when every instance valid under the new one is valid under the old one (a narrowing or
 * nothing), FULL when both hold.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  breaks,
  CompatError,
  checkCompatibility,
  type CompatMode,
  type ContentPolicy,
  diffSchemas,
  parseMode,
} from '../../lib/registry/compat.ts';

type S = Record<string, unknown>;
const obj = (props: S, required: string[], closed: boolean | 'unevaluated' = false): S => ({
  type: 'object',
  properties: props,
  required,
  ...(closed === true
    ? { additionalProperties: false }
    : closed === 'unevaluated'
      ? { unevaluatedProperties: false }
      : {}),
});
const A = { a: { type: 'string' } };
const AP = { a: { type: 'string' }, p: { type: 'string' } };

interface Row {
  name: string;
  old: S | boolean;
  new: S | boolean;
  policy?: ContentPolicy;
  /** The kinds found, in order. */
  kinds: string[];
  /** Compatible under BACKWARD, FORWARD, FULL. */
  verdict: [boolean, boolean, boolean];
  why: string;
}

const content: Row[] = [];
for (const policy of ['strict', 'lenient'] as const)
  for (const model of ['open', 'closed', 'unevaluated'] as const) {
    const closed = model === 'closed' ? true : model === 'unevaluated' ? 'unevaluated' : false;
    const isOpen = model === 'open';
    const lenientOpen = isOpen && policy === 'lenient';
    content.push(
      {
        name: `Confluent: ${policy}, ${model} content, optional property added`,
        old: obj(A, ['a'], closed),
        new: obj(AP, ['a'], closed),
        policy,
        kinds: isOpen
          ? lenientOpen
            ? ['property-added-to-open-content']
            : ['type-narrowed']
          : ['property-added-to-closed-content'],
        verdict: isOpen ? (lenientOpen ? [true, true, true] : [false, true, false]) : [true, false, false],
        why: isOpen
          ? lenientOpen
            ? 'an open model accepted p with any value; lenient takes undeclared properties as never sent'
            : 'an open model accepted p with any value (a number, say), which fails the new string type'
          : 'the closed model refused p; the new version accepts it, which old readers refuse',
      },
      {
        name: `Confluent: ${policy}, ${model} content, required property added`,
        old: obj(A, ['a'], closed),
        new: obj(AP, ['a', 'p'], closed),
        policy,
        kinds: isOpen
          ? lenientOpen
            ? ['required-added', 'property-added-to-open-content']
            : ['required-added', 'type-narrowed']
          : ['required-added', 'property-added-to-closed-content'],
        verdict: isOpen ? [false, true, false] : [false, false, false],
        why: isOpen
          ? 'old data lacks p; new data has a string p, which the open old model accepts'
          : 'old data lacks p; new data has p, which the closed old model refuses',
      },
      {
        name: `Confluent: ${policy}, ${model} content, optional property removed`,
        old: obj(AP, ['a'], closed),
        new: obj(A, ['a'], closed),
        policy,
        kinds: isOpen
          ? lenientOpen
            ? ['property-removed-from-open-content']
            : ['type-widened']
          : ['property-removed-from-closed-content'],
        verdict: isOpen ? (lenientOpen ? [true, true, true] : [true, false, false]) : [false, true, false],
        why: isOpen
          ? lenientOpen
            ? 'the open model still accepts p; lenient takes it as never sent with another type'
            : 'p may hold anything now, which old readers (string) refuse'
          : 'old data carrying p fails the closed new model',
      },
      {
        name: `Confluent: ${policy}, ${model} content, required property removed`,
        old: obj(AP, ['a', 'p'], closed),
        new: obj(A, ['a'], closed),
        policy,
        kinds: isOpen
          ? lenientOpen
            ? ['required-removed', 'property-removed-from-open-content']
            : ['required-removed', 'type-widened']
          : ['required-removed', 'property-removed-from-closed-content'],
        verdict: isOpen ? [true, false, false] : [false, false, false],
        why: isOpen
          ? 'new data may lack p, which old readers require'
          : 'old data has p (closed new model refuses it) and new data lacks it (old readers require it)',
      },
    );
  }

const keywords: Row[] = [
  {
    name: 'annotations only',
    old: { type: 'string', description: 'x' },
    new: { type: 'string', description: 'y', title: 't', examples: ['a'] },
    kinds: [],
    verdict: [true, true, true],
    why: 'annotations accept and refuse nothing',
  },
  {
    name: 'type widened to a union with null',
    old: { type: 'string' },
    new: { type: ['string', 'null'] },
    kinds: ['type-widened'],
    verdict: [true, false, false],
    why: 'every string is still valid; null is new',
  },
  {
    name: 'integer widened to number',
    old: { type: 'integer' },
    new: { type: 'number' },
    kinds: ['type-widened'],
    verdict: [true, false, false],
    why: 'integers are numbers',
  },
  {
    name: 'number narrowed to integer',
    old: { type: 'number' },
    new: { type: 'integer' },
    kinds: ['type-narrowed'],
    verdict: [false, true, false],
    why: '2.5 was valid',
  },
  {
    name: 'type changed',
    old: { type: 'string' },
    new: { type: 'number' },
    kinds: ['type-changed'],
    verdict: [false, false, false],
    why: 'neither accepts the other',
  },
  {
    name: 'enum extended',
    old: { enum: ['F', 'M'] },
    new: { enum: ['F', 'M', 'X'] },
    kinds: ['enum-extended'],
    verdict: [true, false, false],
    why: 'old values all stay',
  },
  {
    name: 'enum reduced',
    old: { enum: ['F', 'M', 'X'] },
    new: { enum: ['F', 'M'] },
    kinds: ['enum-reduced'],
    verdict: [false, true, false],
    why: '"X" was valid',
  },
  {
    name: 'enum changed',
    old: { enum: ['F', 'M'] },
    new: { enum: ['F', 'X'] },
    kinds: ['enum-changed'],
    verdict: [false, false, false],
    why: 'each refuses a value of the other',
  },
  {
    name: 'const widened to an enum',
    old: { const: 1 },
    new: { enum: [1, 2] },
    kinds: ['enum-extended'],
    verdict: [true, false, false],
    why: 'const is a one-value enum',
  },
  {
    name: 'enum added',
    old: { type: 'string' },
    new: { type: 'string', enum: ['a'] },
    kinds: ['enum-added'],
    verdict: [false, true, false],
    why: 'any string was valid',
  },
  {
    name: 'minimum raised',
    old: { type: 'number', minimum: 0 },
    new: { type: 'number', minimum: 1 },
    kinds: ['minimum-tightened'],
    verdict: [false, true, false],
    why: '0.5 was valid',
  },
  {
    name: 'minimum made exclusive',
    old: { type: 'number', minimum: 0 },
    new: { type: 'number', exclusiveMinimum: 0 },
    kinds: ['minimum-tightened'],
    verdict: [false, true, false],
    why: '0 was valid',
  },
  {
    name: 'an exclusive minimum equal to the minimum dropped',
    old: { type: 'number', minimum: 0, exclusiveMinimum: 0 },
    new: { type: 'number', minimum: 0 },
    kinds: ['minimum-relaxed'],
    verdict: [true, false, false],
    why: '0 is valid now',
  },
  {
    name: 'maximum raised',
    old: { type: 'number', maximum: 10 },
    new: { type: 'number', maximum: 20 },
    kinds: ['maximum-relaxed'],
    verdict: [true, false, false],
    why: 'more values fit',
  },
  {
    name: 'maximum added',
    old: { type: 'number' },
    new: { type: 'number', maximum: 20 },
    kinds: ['maximum-added'],
    verdict: [false, true, false],
    why: '21 was valid',
  },
  {
    name: 'maximum removed',
    old: { type: 'number', exclusiveMaximum: 20 },
    new: { type: 'number' },
    kinds: ['maximum-removed'],
    verdict: [true, false, false],
    why: 'no upper bound now',
  },
  {
    name: 'multipleOf relaxed',
    old: { type: 'number', multipleOf: 0.02 },
    new: { type: 'number', multipleOf: 0.01 },
    kinds: ['multiple-of-relaxed'],
    verdict: [true, false, false],
    why: 'multiples of 0.02 are multiples of 0.01',
  },
  {
    name: 'maxLength lowered',
    old: { type: 'string', maxLength: 64 },
    new: { type: 'string', maxLength: 32 },
    kinds: ['maxLength-tightened'],
    verdict: [false, true, false],
    why: 'a 40-character string was valid',
  },
  {
    name: 'minLength removed',
    old: { type: 'string', minLength: 1 },
    new: { type: 'string' },
    kinds: ['minLength-relaxed'],
    verdict: [true, false, false],
    why: '"" is valid now',
  },
  {
    name: 'maxItems added',
    old: { type: 'array' },
    new: { type: 'array', maxItems: 3 },
    kinds: ['maxItems-tightened'],
    verdict: [false, true, false],
    why: 'four items were valid',
  },
  {
    name: 'pattern added',
    old: { type: 'string' },
    new: { type: 'string', pattern: '^[0-9]+$' },
    kinds: ['pattern-added'],
    verdict: [false, true, false],
    why: '"x" was valid',
  },
  {
    name: 'pattern changed',
    old: { type: 'string', pattern: '^[0-9]+$' },
    new: { type: 'string', pattern: '^[0-9a-f]+$' },
    kinds: ['pattern-changed'],
    verdict: [false, false, false],
    why: 'regular-expression inclusion is not decided, so neither direction is assumed',
  },
  {
    name: 'format removed',
    old: { type: 'string', format: 'date-time' },
    new: { type: 'string' },
    kinds: ['format-removed'],
    verdict: [true, false, false],
    why: 'any string now',
  },
  {
    name: 'uniqueItems added',
    old: { type: 'array' },
    new: { type: 'array', uniqueItems: true },
    kinds: ['unique-items-added'],
    verdict: [false, true, false],
    why: '[1, 1] was valid',
  },
  {
    name: 'content model closed',
    old: obj(A, ['a']),
    new: obj(A, ['a'], true),
    kinds: ['content-model-closed'],
    verdict: [false, true, false],
    why: 'undeclared properties were valid',
  },
  {
    name: 'content model opened (unevaluatedProperties)',
    old: obj(A, ['a'], 'unevaluated'),
    new: obj(A, ['a']),
    kinds: ['content-model-opened'],
    verdict: [true, false, false],
    why: 'undeclared properties are valid now',
  },
  {
    name: 'partially open: a property added that a pattern property covered with the same schema',
    old: {
      type: 'object',
      properties: A,
      patternProperties: { '^x_': { type: 'string' } },
      additionalProperties: false,
    },
    new: {
      type: 'object',
      properties: { ...A, x_b: { type: 'string' } },
      patternProperties: { '^x_': { type: 'string' } },
      additionalProperties: false,
    },
    kinds: [],
    verdict: [true, true, true],
    why: 'x_b was accepted as a string before and is now',
  },
  {
    name: 'partially open: a property added with a tighter schema than its pattern property',
    old: { type: 'object', patternProperties: { '^x_': { type: 'string' } }, additionalProperties: false },
    new: {
      type: 'object',
      properties: { x_b: { type: 'string', maxLength: 3 } },
      patternProperties: { '^x_': { type: 'string' } },
      additionalProperties: false,
    },
    kinds: ['maxLength-tightened'],
    verdict: [false, true, false],
    why: 'a longer x_b was valid',
  },
  {
    name: '$ref followed: a $defs type widened changes every place that uses it',
    old: {
      $defs: { loose: { type: ['string', 'number'] } },
      type: 'object',
      properties: { u: { $ref: '#/$defs/loose' } },
    },
    new: {
      $defs: { loose: { type: ['string', 'number', 'null'] } },
      type: 'object',
      properties: { u: { $ref: '#/$defs/loose' } },
    },
    kinds: ['type-widened'],
    verdict: [true, false, false],
    why: 'null is new at /properties/u',
  },
  {
    name: '$ref replaced by its inline equal',
    old: { $defs: { s: { type: 'string' } }, properties: { u: { $ref: '#/$defs/s' } } },
    new: { properties: { u: { type: 'string' } } },
    kinds: [],
    verdict: [true, true, true],
    why: 'the same schema, written out',
  },
  {
    name: 'prefixItems: a tuple position added, tighter than items',
    old: { type: 'array', items: { type: 'string' } },
    new: { type: 'array', prefixItems: [{ type: 'string', maxLength: 3 }], items: { type: 'string' } },
    kinds: ['maxLength-tightened'],
    verdict: [false, true, false],
    why: 'a long first item was valid',
  },
  {
    name: 'items: false removed (a closed tuple opened)',
    old: { type: 'array', prefixItems: [{ type: 'string' }], items: false },
    new: { type: 'array', prefixItems: [{ type: 'string' }] },
    kinds: ['accepts-something'],
    verdict: [true, false, false],
    why: 'more items are valid now',
  },
  {
    name: 'anyOf alternative added',
    old: { anyOf: [{ type: 'string' }] },
    new: { anyOf: [{ type: 'string' }, { type: 'number' }] },
    kinds: ['anyof-branch-added'],
    verdict: [true, false, false],
    why: 'one more way to be valid',
  },
  {
    name: 'anyOf alternative removed',
    old: { anyOf: [{ type: 'string' }, { type: 'number' }] },
    new: { anyOf: [{ type: 'string' }] },
    kinds: ['anyof-branch-removed'],
    verdict: [false, true, false],
    why: 'numbers were valid',
  },
  {
    name: 'oneOf alternative added',
    old: { oneOf: [{ type: 'string' }] },
    new: { oneOf: [{ type: 'string' }, { maxLength: 3 }] },
    kinds: ['oneof-changed'],
    verdict: [false, false, false],
    why: '"ab" matches both alternatives now, which oneOf refuses',
  },
  {
    name: 'oneOf alternative widened',
    old: { oneOf: [{ type: 'integer' }, { type: 'string' }] },
    new: { oneOf: [{ type: ['integer', 'string'] }, { type: 'string' }] },
    kinds: ['oneof-changed'],
    verdict: [false, false, false],
    why: '"a" matches two alternatives now: widening one alternative of oneOf is not a widening',
  },
  {
    name: 'oneOf alternative removed',
    old: { oneOf: [{ type: 'integer' }, { type: 'number' }] },
    new: { oneOf: [{ type: 'number' }] },
    kinds: ['oneof-changed'],
    verdict: [false, false, false],
    why: '1 matched both before (refused) and one now (accepted), 1.5 the reverse of nothing: not a narrowing',
  },
  {
    name: 'anyOf alternatives reordered',
    old: { anyOf: [{ type: 'string' }, { type: 'number' }] },
    new: { anyOf: [{ type: 'number' }, { type: 'string' }] },
    kinds: [],
    verdict: [true, true, true],
    why: 'the same alternatives',
  },
  {
    name: 'a $defs entry changed under a property that refers to it from deep inside',
    old: { $defs: { y: { type: 'string' } }, properties: { a: { properties: { b: { $ref: '#/$defs/y' } } } } },
    new: {
      $defs: { y: { type: 'string', maxLength: 1 } },
      properties: { a: { properties: { b: { $ref: '#/$defs/y' } } } },
    },
    kinds: ['maxLength-tightened'],
    verdict: [false, true, false],
    why: 'the place is written alike in both, but what it refers to changed',
  },
  {
    name: 'a $ref with a keyword beside it that its target also has',
    old: { type: 'string', maxLength: 10 },
    new: { $defs: { s: { type: 'string', maxLength: 5 } }, $ref: '#/$defs/s', maxLength: 10 },
    kinds: ['ref-siblings-not-analysed'],
    verdict: [false, false, false],
    why: 'both bounds apply (5 in effect); merging would have kept only 10',
  },
  {
    name: 'a keyword beside a recursive $ref',
    old: { $defs: { n: { type: 'object', properties: { child: { $ref: '#/$defs/n' } } } }, $ref: '#/$defs/n' },
    new: {
      $defs: { n: { type: 'object', properties: { child: { $ref: '#/$defs/n', minProperties: 1 } } } },
      $ref: '#/$defs/n',
    },
    kinds: ['minProperties-tightened'],
    verdict: [false, true, false],
    why: '{"child": {}} was valid',
  },
  {
    name: 'unevaluatedProperties beside allOf: a property declared at the top that allOf declared too',
    old: { allOf: [{ properties: { id: {} } }], unevaluatedProperties: false },
    new: { allOf: [{ properties: { id: {} } }], properties: { id: { type: 'string' } }, unevaluatedProperties: false },
    kinds: ['unevaluated-content-not-analysed'],
    verdict: [false, false, false],
    why: '{"id": 1} was valid (allOf evaluated id); the checker does not follow what allOf declares',
  },
  {
    name: 'a property named like an Object method removed from a closed model',
    old: { type: 'object', properties: { constructor: { type: 'string' } }, additionalProperties: false },
    new: { type: 'object', additionalProperties: false },
    kinds: ['property-removed-from-closed-content'],
    verdict: [false, true, false],
    why: '{"constructor": "x"} was valid',
  },
  {
    name: 'additionalProperties {} is an open model',
    old: { type: 'object', properties: A, additionalProperties: {} },
    new: { type: 'object', properties: AP, additionalProperties: {} },
    kinds: ['property-added-to-open-content'],
    verdict: [true, true, true],
    why: '{} accepts anything, as true does',
  },
  {
    name: 'a reference into nothing and a malformed one',
    old: { properties: { a: { $ref: '#n' }, b: { $ref: '#/%E0' } } },
    new: { properties: { a: { $ref: '#n' }, b: { $ref: '#/%E0' } } },
    kinds: [],
    verdict: [true, true, true],
    why: 'written alike and pointing at nothing in both: nothing to compare',
  },
  {
    name: 'a reference that stops resolving',
    old: { $defs: { s: { type: 'string' } }, properties: { a: { $ref: '#/$defs/s' } } },
    new: { properties: { a: { $ref: '#/$defs/s' } } },
    kinds: ['ref-unresolved'],
    verdict: [false, false, false],
    why: 'the new version refers to a definition it no longer has',
  },
  {
    name: 'allOf added',
    old: { type: 'string' },
    new: { type: 'string', allOf: [{ minLength: 2 }] },
    kinds: ['allOf-added'],
    verdict: [false, true, false],
    why: 'one more condition',
  },
  {
    name: 'not changed (not analysed)',
    old: { not: { type: 'null' } },
    new: { not: { type: 'string' } },
    kinds: ['keyword-not-analysed'],
    verdict: [false, false, false],
    why: 'unanalysed keywords count as breaking every mode',
  },
  {
    name: 'schema true to false',
    old: true,
    new: false,
    kinds: ['accepts-nothing'],
    verdict: [false, true, false],
    why: 'nothing is valid now',
  },
];

const verdictOf = (row: Row, mode: CompatMode) =>
  checkCompatibility(row.new, [{ v: 1, schema: row.old }], mode, { policy: row.policy ?? 'lenient' }).compatible;

describe('the compatibility matrix', () => {
  it.each([...content, ...keywords])('$name', (row) => {
    const changes = diffSchemas(row.old, row.new, { policy: row.policy ?? 'lenient' });
    expect(
      changes.map((c) => c.kind),
      row.why,
    ).toEqual(row.kinds);
    expect(
      (['BACKWARD', 'FORWARD', 'FULL'] as const).map((m) => verdictOf(row, m)),
      row.why,
    ).toEqual(row.verdict);
    expect(verdictOf(row, 'NONE')).toBe(true);
    // A breaking change always says what to do instead.
    expect(changes.filter((c) => c.direction !== 'none' && c.direction !== 'widen' && !c.fix)).toEqual([]);
  });

  it('names the place of each change as a JSON pointer through the schema', () => {
    const changes = diffSchemas(
      keywords.find((r) => r.name.startsWith('$ref followed'))!.old,
      keywords.find((r) => r.name.startsWith('$ref followed'))!.new,
    );
    expect(changes.map((c) => c.path)).toEqual(['/properties/u/type']);
    const nested = diffSchemas(
      { type: 'object', properties: { 'a/b': { type: 'object', properties: { n: { type: 'number', maximum: 5 } } } } },
      { type: 'object', properties: { 'a/b': { type: 'object', properties: { n: { type: 'number', maximum: 4 } } } } },
    );
    expect(nested.map((c) => [c.path, c.kind, c.direction])).toEqual([
      ['/properties/a~1b/properties/n/maximum', 'maximum-tightened', 'narrow'],
    ]);
  });
});

describe('recursive schemas', () => {
  const tree = (leaf: S): S => ({
    $defs: {
      node: {
        type: 'object',
        properties: { v: leaf, kids: { type: 'array', items: { $ref: '#/$defs/node' } } },
      },
    },
    $ref: '#/$defs/node',
  });

  it('compares a schema that refers to itself once per level, and finds the change', () => {
    const changes = diffSchemas(tree({ type: 'string' }), tree({ type: 'string', maxLength: 8 }));
    expect(changes.map((c) => [c.path, c.kind])).toEqual([['/properties/v/maxLength', 'maxLength-tightened']]);
    expect(diffSchemas(tree({ type: 'string' }), tree({ type: 'string' }))).toEqual([]);
  });

  it('reports a reference it cannot follow as breaking', () => {
    const changes = diffSchemas({ $ref: 'https://example.com/s.json' }, { type: 'string' });
    expect(changes.map((c) => [c.kind, c.direction])).toEqual([['ref-unresolved', 'both']]);
  });
});

describe('shared definitions', () => {
  it('reports a change of a definition many places share once, however deep the sharing goes', () => {
    // Each level's x and y both refer to the level below: 2^18 paths to the leaf.
    const levels = (leaf: S): S => {
      const defs: Record<string, S> = { l0: leaf };
      for (let i = 1; i <= 18; i++)
        defs[`l${i}`] = { properties: { x: { $ref: `#/$defs/l${i - 1}` }, y: { $ref: `#/$defs/l${i - 1}` } } };
      return { $defs: defs, $ref: '#/$defs/l18' };
    };
    const changes = diffSchemas(levels({ type: 'string' }), levels({ type: 'string', maxLength: 3 }));
    expect(changes.map((c) => c.kind)).toEqual(['maxLength-tightened']);
    expect(diffSchemas(levels({ type: 'string' }), levels({ type: 'string', description: 'the same' }))).toEqual([]);
  });

  it('says a subschema that is not a schema is one, rather than failing', () => {
    expect(
      diffSchemas({ properties: { a: null } } as unknown as S, { properties: { a: { type: 'string' } } }).map(
        (c) => c.kind,
      ),
    ).toEqual(['not-a-schema']);
  });
});

describe('modes', () => {
  const v1 = { type: ['string', 'null'] };
  const v2 = { type: 'string' };
  const candidate = { type: 'string', description: 'the same as v2' };
  const versions = [
    { v: 1, schema: v1 },
    { v: 2, schema: v2 },
  ];

  it('checks the latest version, or every earlier one when transitive', () => {
    expect(checkCompatibility(candidate, versions, 'BACKWARD').compatible).toBe(true);
    const t = checkCompatibility(candidate, versions, 'BACKWARD_TRANSITIVE');
    expect([t.compatible, t.changes.map((c) => [c.against, c.kind, c.breaking])]).toEqual([
      false,
      [[1, 'type-narrowed', true]],
    ]);
    expect(checkCompatibility(candidate, versions, 'FORWARD_TRANSITIVE').compatible).toBe(true);
    expect(checkCompatibility(candidate, versions, 'FULL_TRANSITIVE').compatible).toBe(false);
    expect(checkCompatibility(candidate, versions, 'NONE')).toMatchObject({ compatible: true, changes: [] });
  });

  it('reads a mode whatever its case and refuses an unknown one, naming the modes', () => {
    expect(parseMode('backward_transitive')).toBe('BACKWARD_TRANSITIVE');
    expect(() => parseMode('LOOSE')).toThrow(CompatError);
    expect(() => parseMode('LOOSE')).toThrow(/modes: BACKWARD, BACKWARD_TRANSITIVE, FORWARD/);
    expect(breaks('none', 'FULL')).toBe(false);
    expect(breaks('both', 'FORWARD')).toBe(true);
  });

  it('finds no change between each shipped schema and itself, and none that matters in a new optional payload field', () => {
    for (const type of ['transactions', 'taxi_trips', 'clickstream']) {
      const schema = JSON.parse(
        readFileSync(path.join(import.meta.dirname, `../../schemas/${type}/v1.schema.json`), 'utf8'),
      ) as S;
      expect(diffSchemas(schema, structuredClone(schema))).toEqual([]);
    }
    const click = JSON.parse(
      readFileSync(path.join(import.meta.dirname, '../../schemas/clickstream/v1.schema.json'), 'utf8'),
    ) as { properties: { payload: { properties: S } } };
    const v2 = structuredClone(click);
    v2.properties.payload.properties.coupon = { $ref: '#/$defs/loose' };
    expect(checkCompatibility(v2, [{ v: 1, schema: click }], 'BACKWARD').compatible).toBe(true);
    expect(
      checkCompatibility(v2, [{ v: 1, schema: click }], 'BACKWARD', { policy: 'strict' }).changes.map((c) => [
        c.path,
        c.kind,
      ]),
    ).toEqual([['/properties/payload/properties/coupon/type', 'type-narrowed']]);
  });
});
