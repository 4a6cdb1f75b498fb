/**
 * minios's C test programs (TAP, ASan + UBSan; each C case is a vitest case):
 * the configuration language, every element on synthetic frames and over an
 * in-memory vif, the cooperative scheduler, and the PV build's libc against
 * glibc.
 *
 * Also: the PV build's libc (build/pv/libc/*.o, freestanding) needs nothing
 * from outside but the kernel's mo_libc_panic, and defines every symbol the
 * host test renames (pv/libc/host-names.h).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defineTapSuite, runTapProgram, undefinedSymbols } from '@vpio/devkit/c-tests';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name: string): string => join(root, 'build', 'test', name);

const [config, elements, sched, pvLibc] = await Promise.all([
  runTapProgram(bin('test-config'), { cwd: root }),
  runTapProgram(bin('test-elements'), { cwd: root }),
  runTapProgram(bin('test-sched'), { cwd: root }),
  runTapProgram(bin('test-pv-libc'), { cwd: root }),
]);

defineTapSuite('test-config (grammar, errors with line:col, shipped configs)', config, { minCases: 6 });
defineTapSuite('test-elements (responders, filters, vif elements, Pktgen, Pinger)', elements, { minCases: 11 });
defineTapSuite('test-sched (cooperative scheduler)', sched, { minCases: 7 });
defineTapSuite("test-pv-libc (the PV build's libc against glibc; the heap)", pvLibc, { minCases: 22 });

describe("freestanding build of the PV build's libc", () => {
  const objDir = join(root, 'build', 'pv', 'libc');
  const objects = existsSync(objDir)
    ? readdirSync(objDir).filter((f) => f.endsWith('.o')).map((f) => join(objDir, f))
    : [];
  /** Every symbol the objects define (functions and data). */
  const defined = new Set(
    objects.flatMap((o) =>
      execFileSync('nm', ['--defined-only', o], { encoding: 'utf8' })
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => f.length === 3)
        .map((f) => f[2] ?? ''),
    ),
  );

  it('needs nothing from outside but mo_libc_panic', () => {
    expect(objects.length, `${objDir} has no objects: run \`make -s test-bins\``).toBeGreaterThan(0);
    const outside = new Set(objects.flatMap(undefinedSymbols).filter((s) => !defined.has(s)));
    expect([...outside]).toEqual(['mo_libc_panic']);
  });

  it("defines every symbol of host-names.h and mo_heap.h's API", () => {
    const header = readFileSync(join(root, 'pv', 'libc', 'host-names.h'), 'utf8');
    const names = [...header.matchAll(/^#define (\w+) mo_\1$/gm)].map((m) => m[1] ?? '');
    expect(names.length).toBeGreaterThan(50);
    for (const name of [
      ...names, 'mo_heap_init', 'mo_heap_alloc_pages', 'mo_heap_free_pages', 'mo_heap_free_bytes',
      'mo_heap_failed_allocs', 'mo_heap_get_stats', 'mo_heap_check',
    ]) {
      expect(defined.has(name), name).toBe(true);
    }
  });
});
