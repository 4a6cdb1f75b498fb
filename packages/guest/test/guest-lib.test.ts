/**
 * The guest library: its C TAP test (ASan + UBSan), one vitest case per TAP
 * line, and the archive a guest links carries the whole API of
 * vpio/guest.h plus the grant and event-channel sides it promises.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defineTapSuite, runTapProgram } from '@vpio/devkit/c-tests';

const root = fileURLToPath(new URL('..', import.meta.url));

defineTapSuite('test-guest (C, ASan + UBSan)', await runTapProgram(join(root, 'build', 'test', 'test-guest'), { cwd: root }), {
  minCases: 3,
});

/** Function names declared in a header (`int name(` at the start of a line). */
function declaredFunctions(header: string): string[] {
  const text = readFileSync(join(root, 'include', 'vpio', header), 'utf8');
  return [...text.matchAll(/^(?:int|void)\s+(\w+)\(/gm)].map((m) => m[1]!);
}

describe('build/lib/libvpio_guest.a', () => {
  const defined = new Set(
    execFileSync('nm', ['-g', '--defined-only', join(root, 'build', 'lib', 'libvpio_guest.a')], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length === 3 && f[1] === 'T')
      .map((f) => f[2]!),
  );

  it('defines every function vpio/guest.h and vpio/domain_ctrl.h declare', () => {
    const wanted = [...declaredFunctions('guest.h'), ...declaredFunctions('domain_ctrl.h')];
    expect(wanted.length).toBeGreaterThan(15);
    expect(wanted.filter((f) => !defined.has(f))).toEqual([]);
  });

  it("carries @vpio/grant's host map/share and @vpio/evtchn's notify/wait/drain", () => {
    for (const f of ['vgnt_host_map', 'vgnt_host_verify', 'vgnt_host_share', 'evtchn_notify', 'evtchn_wait', 'evtchn_drain']) {
      expect(defined.has(f), f).toBe(true);
    }
  });

  it('needs nothing but libc: no undefined symbol outside the C library', () => {
    const undefinedSyms = execFileSync('nm', ['-u', join(root, 'build', 'lib', 'libvpio_guest.a')], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim().replace(/^U\s+/, ''))
      .filter((s) => s && !s.endsWith(':'));
    const ours = undefinedSyms.filter((s) => /^(vpio_|vgnt_|evtchn_|vring_|vsw_|xs_)/.test(s) && !defined.has(s));
    expect(ours).toEqual([]);
  });
});
