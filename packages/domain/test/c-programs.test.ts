/**
 * The C test program (ASan + UBSan), one vitest case per TAP line: the
 * seccomp filter of the launcher (the control framing is @vpio/guest's test).
 */
import { join } from 'node:path';
import { defineTapSuite, runTapProgram } from '@vpio/devkit/c-tests';
import { root } from './helpers.js';

defineTapSuite('test-launch-c (C, ASan + UBSan)', await runTapProgram(join(root, 'build', 'test', 'test-launch-c'), { cwd: root }), {
  minCases: 3,
});
