/** When `tributary dev` rebuilds the console (local/console-build.ts): exactly when an input of the build changed. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { consoleBuildCurrent, consoleSourceFingerprint } from '../../local/console-build.ts';

let root: string;
const put = (file: string, text: string) => {
  mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  writeFileSync(path.join(root, file), text);
};

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'tributary-console-build-'));
  put('app/page.tsx', 'export default 1;');
  put('lib/config.ts', 'export const a = 1;');
  put('schemas/transactions/v1.schema.json', '{}');
  put('next.config.ts', 'export default {};');
  put('package-lock.json', '{}');
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('the console build fingerprint', () => {
  it('changes with any edit, addition or removal of an input, and with nothing else', () => {
    const first = consoleSourceFingerprint(root);
    expect(consoleSourceFingerprint(root)).toBe(first);
    put('.data/lake/x.jsonl', 'not an input');
    put('node_modules/next/index.js', 'not an input either');
    expect(consoleSourceFingerprint(root)).toBe(first);
    put('lib/config.ts', 'export const a = 2;');
    const edited = consoleSourceFingerprint(root);
    expect(edited).not.toBe(first);
    put('components/New.tsx', 'export {}');
    const added = consoleSourceFingerprint(root);
    expect(added).not.toBe(edited);
    rmSync(path.join(root, 'components/New.tsx'));
    expect(consoleSourceFingerprint(root)).toBe(edited);
    // A file moved to another name is another input.
    rmSync(path.join(root, 'app/page.tsx'));
    put('app/home.tsx', 'export default 1;');
    expect(consoleSourceFingerprint(root)).not.toBe(edited);
  });

  it('counts a build as current only with its stamp for these sources and a finished build', () => {
    const fp = consoleSourceFingerprint(root);
    expect(consoleBuildCurrent(fp, root)).toBe(false);
    put('.next/tributary-build.json', JSON.stringify({ fingerprint: fp, buildId: 'abc' }));
    expect(consoleBuildCurrent(fp, root)).toBe(false);
    put('.next/BUILD_ID', 'abc');
    expect(consoleBuildCurrent(fp, root)).toBe(true);
    // Another build in .next (OpenNext's, for a deploy) is not ours.
    put('.next/BUILD_ID', 'other');
    expect(consoleBuildCurrent(fp, root)).toBe(false);
    put('.next/BUILD_ID', 'abc');
    put('app/page.tsx', 'export default 2;');
    expect(consoleBuildCurrent(consoleSourceFingerprint(root), root)).toBe(false);
  });
});
