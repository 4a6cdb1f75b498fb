/**
 * vpio-uplink's C test programs (TAP, ASan + UBSan; each line a vitest case).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineTapSuite, runTapProgram } from '@vpio/devkit/c-tests';

const root = fileURLToPath(new URL('..', import.meta.url));

defineTapSuite('test-wire (backend list, descriptor checks; ASan + UBSan)', await runTapProgram(join(root, 'build', 'test', 'test-wire'), { cwd: root }), { minCases: 2 });
