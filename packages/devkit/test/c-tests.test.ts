import { describe, expect, it } from 'vitest';
import { parseTap } from '../lib/c-tests.mjs';

describe('parseTap', () => {
  it('collects cases with the diagnostics printed before each, and the plan', () => {
    const out = ['ok 1 - first', '# a.c:3: CHECK(x) failed', '# more', 'not ok 2 - second', 'noise', '1..2', ''].join('\n');
    const t = parseTap(out);
    expect(t.plan).toBe(2);
    expect(t.cases).toEqual([
      { ok: true, n: 1, name: 'first', diagnostics: [] },
      { ok: false, n: 2, name: 'second', diagnostics: ['# a.c:3: CHECK(x) failed', '# more'] },
    ]);
  });

  it('has no plan when the program died before printing it', () => {
    expect(parseTap('ok 1 - a\n').plan).toBeUndefined();
  });
});
