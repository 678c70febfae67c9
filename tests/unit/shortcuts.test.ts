import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SHORTCUTS } from '../../components/ui/shortcuts.ts';

describe('keyboard shortcuts', () => {
  it("the README's table lists exactly the shortcuts the console's help lists, in its order", () => {
    const readme = readFileSync('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('**Keyboard.**'));
    const table = section.slice(section.indexOf('| keys |'), section.indexOf('\n\n', section.indexOf('| keys |')));
    const rows = table
      .split('\n')
      .slice(2)
      .map((line) =>
        line
          .split('|')
          .slice(1, -1)
          .map((c) => c.trim()),
      );
    expect(rows).toEqual(SHORTCUTS.map((s) => [`\`${s.keys}\``, s.what, s.where]));
    expect(SHORTCUTS.length).toBeGreaterThanOrEqual(10);
  });
});
