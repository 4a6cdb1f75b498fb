/**
 * The C test programs build/test/test-memif and fuzz-memif (ASan + UBSan, built by
 * `make test-bins`, which the package's test script runs first): the memif
 * server in-process against hostile clients and an honest one. Each TAP
 * case becomes its own vitest case; a "not ok", a missing plan, a non-zero
 * exit or a sanitizer report fails.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineTapSuite, runTapProgram } from '@vpio/devkit/c-tests';

const root = fileURLToPath(new URL('..', import.meta.url));

defineTapSuite('test-memif (C, ASan + UBSan)', await runTapProgram(join(root, 'build', 'test', 'test-memif'), { cwd: root }), {
  minCases: 16,
});

// Structure-aware fuzzing (mutated handshakes, lying rings), fixed seed so
// a failure reproduces: `build/test/fuzz-memif ITERATIONS SEED`.
defineTapSuite(
  'fuzz-memif (C, ASan + UBSan)',
  await runTapProgram(join(root, 'build', 'test', 'fuzz-memif'), { cwd: root, args: ['3000', '1'] }),
  { minCases: 3 },
);
