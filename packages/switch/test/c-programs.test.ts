/**
 * The C test programs, as vitest cases. build/test/test-switch (the switch's
 * correctness cases) and build/test/test-hostile (the hostile-guest
 * harness) are built with ASan + UBSan by `make test-bins`, which the
 * package's test script runs first; each "ok N - name" line is a case.
 */
import { join } from 'node:path';
import { defineTapSuite, runTapProgram } from '@vpio/devkit/c-tests';
import { packageRoot } from '@vpio/addon';

const root = packageRoot('@vpio/switch', import.meta.url);

const [sw, hostile] = await Promise.all([
  runTapProgram(join(root, 'build', 'test', 'test-switch'), { cwd: root, timeoutMs: 60_000 }),
  runTapProgram(join(root, 'build', 'test', 'test-hostile'), { cwd: root, timeoutMs: 60_000 }),
]);

defineTapSuite('test-switch (C, ASan + UBSan)', sw, { minCases: 18 });
defineTapSuite('test-hostile (C, ASan + UBSan): the hostile-guest harness', hostile, { minCases: 1 });
