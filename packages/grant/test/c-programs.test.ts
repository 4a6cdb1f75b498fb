/**
 * The C test program of the host grant driver (build/test/test-grant, ASan +
 * UBSan, built by `make test-bins`), one vitest case per TAP case. It holds
 * the separate-process proofs: a forked grantee of a read-only grant that
 * tries mprotect, a writable mmap, a read-write reopen through
 * /proc/self/fd/N and pwrite, and fails at each.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineTapSuite, runTapProgram } from '@vpio/devkit/c-tests';

const root = fileURLToPath(new URL('..', import.meta.url));

defineTapSuite('test-grant (C, ASan + UBSan)', await runTapProgram(join(root, 'build', 'test', 'test-grant'), { cwd: root }), {
  minCases: 10,
});
