/**
 * The C test program of the host event-channel driver
 * (build/test/test-evtchn, ASan + UBSan, built by `make test-bins`), one
 * vitest case per TAP case: the real-process proofs (a forked child and its
 * parent ping-pong 100,000 notifications; a child that exits is seen as
 * closed), the never-blocking notifier, and descriptor accounting.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineTapSuite, runTapProgram } from '@vpio/devkit/c-tests';

const root = fileURLToPath(new URL('..', import.meta.url));

defineTapSuite('test-evtchn (C, ASan + UBSan)', await runTapProgram(join(root, 'build', 'test', 'test-evtchn'), { cwd: root }), {
  minCases: 13,
});
