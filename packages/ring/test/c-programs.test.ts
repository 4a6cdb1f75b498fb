/**
 * The C test programs, as vitest cases. build/test/test-ring (ASan + UBSan,
 * built by `make test-bins`, which the package's test script runs first)
 * prints TAP; each "ok N - name" line becomes its own case here, so every C
 * case is counted, and a "not ok", a missing plan, a non-zero exit or a
 * sanitizer report fails. Also: the freestanding build of the ring core
 * needs nothing from libc but the mem* functions GCC requires.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineTapSuite, definedFunctions, runTapProgram, undefinedSymbols } from '@vpio/devkit/c-tests';
import { packageRoot } from '../src/native.js';

const root = packageRoot();
const freestandingObj = join(root, 'build', 'test', 'freestanding.o');

defineTapSuite('test-ring (C, ASan + UBSan)', await runTapProgram(join(root, 'build', 'test', 'test-ring'), { cwd: root }), {
  minCases: 30,
});

describe('freestanding build of the ring headers', () => {
  it('needs nothing from libc beyond memcpy/memset/memmove/memcmp', () => {
    expect(existsSync(freestandingObj), `${freestandingObj} is missing: run \`make -s test-bins\``).toBe(true);
    const allowed = new Set(['memcpy', 'memset', 'memmove', 'memcmp']);
    expect(undefinedSymbols(freestandingObj).filter((s) => !allowed.has(s))).toEqual([]);
  });

  it('compiles every burst helper into it', () => {
    const defined = definedFunctions(freestandingObj);
    for (const fn of ['fs_be_init', 'fs_be_tx', 'fs_be_rx', 'fs_be_sleep', 'fs_fe_attach', 'fs_fe_tx', 'fs_fe_rx', 'fs_fe_sleep', 'fs_check']) {
      expect(defined).toContain(fn);
    }
  });
});
