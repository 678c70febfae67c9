import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** Every text file git tracks (what a fresh clone has), with its content. */
function trackedTexts(): { file: string; text: string }[] {
  return execFileSync('git', ['ls-files', '-z'], { encoding: 'utf8' })
    .split('\0')
    .filter((f) => /\.(ts|tsx|mts|mjs|js|json|jsonc|md|sql|css|yml|yaml)$/.test(f) || f === '.ci/run')
    .map((file) => ({ file, text: readFileSync(file, 'utf8') }));
}

describe('the contracts document', () => {
  const sections = [...readFileSync('docs/architecture.md', 'utf8').matchAll(/^## (\d+)\. /gm)].map((m) =>
    Number(m[1]),
  );

  it('is the one the repository cites: nothing points at a design document outside it', () => {
    // Spelled in two halves, so this file does not cite it either.
    const outside = ['design', '.md'].join('');
    expect(
      trackedTexts()
        .filter((f) => f.text.includes(outside))
        .map((f) => f.file),
    ).toEqual([]);
  });

  it('has every section a reference names (architecture.md §N)', () => {
    expect(sections).toEqual(sections.map((_, i) => i + 1));
    const dangling = trackedTexts().flatMap((f) =>
      [...f.text.matchAll(/architecture\.md §(\d+)/g)]
        .map((m) => Number(m[1]))
        .filter((n) => !sections.includes(n))
        .map((n) => `${f.file}: §${n}`),
    );
    expect(dangling).toEqual([]);
  });
});
