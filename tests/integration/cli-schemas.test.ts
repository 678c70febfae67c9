/** `tributary schemas` as a user runs it: the shipped types, a diff, and checks that pass, fail and are refused. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../lib/registry/registry.ts';
import { removeDir, runCli, tempDir } from './helpers.ts';

const dir = tempDir('cli-schemas');
afterAll(() => removeDir(dir));

describe('tributary schemas', () => {
  it('lists, shows, diffs and checks, with the exit codes a pipeline can act on', async () => {
    const v1 = defaultRegistry().version('clickstream', 1).schema as {
      properties: { metadata: { required: string[]; properties: Record<string, unknown> } };
    };
    // A new field of the metadata, required: old events lack it.
    const breaking = structuredClone(v1);
    breaking.properties.metadata.properties.referrer = { type: 'string' };
    breaking.properties.metadata.required = [...breaking.properties.metadata.required, 'referrer'];
    const breakingFile = path.join(dir, 'breaking.json');
    writeFileSync(breakingFile, JSON.stringify(breaking));
    const notSchema = path.join(dir, 'typo.json');
    writeFileSync(notSchema, JSON.stringify({ type: 'object', propertes: {} }));
    // Independent processes, at once.
    const [list, show, diff, check, strictFree, typo, badMode, badVersion] = await Promise.all([
      runCli(['schemas', 'list', '--json']),
      runCli(['schemas', 'show', 'transactions', '--version', '1', '--json']),
      runCli(['schemas', 'diff', 'clickstream', '1', breakingFile, '--json']),
      runCli(['schemas', 'check', 'clickstream', breakingFile, '--json']),
      runCli(['schemas', 'check', 'clickstream', breakingFile, '--mode', 'none']),
      runCli(['schemas', 'check', 'clickstream', notSchema]),
      runCli(['schemas', 'check', 'clickstream', breakingFile, '--mode', 'sideways']),
      runCli(['schemas', 'show', 'clickstream', '--version', '9']),
    ]);
    expect(list.code, list.stderr).toBe(0);
    expect(
      JSON.parse(list.stdout).types.map((t: { type: string; versions: number[] }) => [t.type, t.versions]),
    ).toEqual([
      ['clickstream', [1]],
      ['taxi_trips', [1]],
      ['transactions', [1]],
    ]);
    expect(show.code, show.stderr).toBe(0);
    expect(JSON.parse(show.stdout)).toMatchObject({
      type: 'transactions',
      version: 1,
      manifest: { table: 'transactions' },
    });
    expect(JSON.parse(diff.stdout)).toEqual({
      type: 'clickstream',
      from: 'v1',
      to: breakingFile,
      changes: [
        {
          path: '/properties/metadata/required',
          kind: 'required-added',
          direction: 'narrow',
          message: '"referrer" is required now: data written without it fails.',
          fix: 'Add "referrer" as optional (readers fill a default), or use FORWARD if every producer already sends it.',
        },
        {
          path: '/properties/metadata/properties/referrer',
          kind: 'property-added-to-open-content',
          direction: 'none',
          message:
            '"referrer" is a new property of an open model; taken as one producers did not send before (lenient policy; the evidence shows whether any did).',
        },
      ],
    });
    // Incompatible: exit 1, the breaking change listed.
    expect(check.code).toBe(1);
    expect(JSON.parse(check.stdout)).toMatchObject({
      type: 'clickstream',
      compatible: false,
      mode: 'BACKWARD',
      changes: [
        { path: '/properties/metadata/required', kind: 'required-added', breaking: true, against: 1 },
        { path: '/properties/metadata/properties/referrer', kind: 'property-added-to-open-content', breaking: false },
      ],
      evidence: null,
    });
    expect([strictFree.code, strictFree.stdout]).toEqual([0, expect.stringContaining('is compatible under NONE')]);
    expect([typo.code, typo.stderr]).toEqual([1, expect.stringContaining('strict mode: unknown keyword: "propertes"')]);
    expect([badMode.code, badMode.stderr]).toEqual([
      2,
      expect.stringContaining('Unknown compatibility mode "sideways"'),
    ]);
    expect([badVersion.code, badVersion.stderr]).toEqual([2, expect.stringContaining('has no schema version 9')]);
  }, 90_000);
});
