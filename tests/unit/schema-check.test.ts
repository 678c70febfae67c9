import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkCandidate, diffOf, readCandidate, typeVersions, versionOrFile } from '../../lib/registry/check.ts';
import { defaultRegistry, type RegistryError, UnknownVersionError } from '../../lib/registry/registry.ts';

const registry = defaultRegistry();
const v1 = registry.version('transactions', 1).schema as { properties: Record<string, unknown>; required: string[] };

describe('checking a candidate against a type’s versions', () => {
  it('refuses a candidate that is not JSON, not a schema, or not one the registry compiles, saying which', () => {
    const problem = (text: string) => {
      try {
        readCandidate(text, 'cand.json');
        return undefined;
      } catch (err) {
        return [(err as RegistryError).code, (err as RegistryError).status, (err as Error).message];
      }
    };
    expect(problem('{')).toEqual(['invalid_schema', 400, expect.stringMatching(/^cand\.json is not JSON: /)]);
    expect(problem('[1]')).toEqual([
      'invalid_schema',
      400,
      'cand.json is not a JSON Schema: it must be an object (or a boolean).',
    ]);
    // strict mode: an unknown keyword is a typo the registry would refuse.
    expect(problem('{"type":"object","propertes":{}}')).toEqual([
      'invalid_schema',
      400,
      expect.stringMatching(
        /^cand\.json is not a JSON Schema draft 2020-12 the registry compiles: strict mode: unknown keyword: "propertes"/,
      ),
    ]);
    expect(readCandidate(JSON.stringify(v1), 'v1')).toEqual(v1);
  });

  it('finds a required field added as breaking BACKWARD, and the same field optional as compatible', () => {
    const required = structuredClone(v1);
    required.properties.coupon = { type: 'string', maxLength: 32 };
    required.required = [...v1.required, 'coupon'];
    const verdict = checkCandidate(registry, 'transactions', required);
    expect([verdict.compatible, verdict.mode, verdict.policy]).toEqual([false, 'BACKWARD', 'lenient']);
    expect(verdict.changes.filter((c) => c.breaking).map((c) => [c.path, c.kind, c.against])).toEqual([
      ['/required', 'required-added', 1],
    ]);
    const optional = structuredClone(required);
    optional.required = v1.required;
    expect(checkCandidate(registry, 'transactions', optional).compatible).toBe(true);
    expect(checkCandidate(registry, 'transactions', optional, { mode: 'FORWARD', policy: 'strict' }).compatible).toBe(
      true,
    );
    expect(checkCandidate(registry, 'transactions', optional, { policy: 'strict' }).compatible).toBe(false);
    expect(typeVersions(registry, 'transactions').map((v) => v.v)).toEqual([1]);
  });

  it('diffs versions and files, and names a version the type does not have', () => {
    const file = path.join(os.tmpdir(), `schema-check-${process.pid}.json`);
    const wider = structuredClone(v1) as unknown as { properties: { amt: Record<string, unknown> } };
    wider.properties.amt = { ...wider.properties.amt, type: ['number', 'string', 'null'] };
    writeFileSync(file, JSON.stringify(wider));
    const d = diffOf(registry, 'transactions', '1', file);
    expect([d.from, d.to, d.changes.map((c) => [c.path, c.kind, c.direction])]).toEqual([
      'v1',
      file,
      [['/properties/amt/type', 'type-widened', 'widen']],
    ]);
    expect(diffOf(registry, 'transactions', 'v1', '1').changes).toEqual([]);
    expect(() => versionOrFile(registry, 'transactions', '7')).toThrow(UnknownVersionError);
    expect(() => versionOrFile(registry, 'transactions', path.join(os.tmpdir(), 'no-such-schema.json'))).toThrow(
      /^Cannot read /,
    );
  });
});
