/**
 * minios's C test programs (TAP, ASan + UBSan; each C case is a vitest case):
 * the configuration language, every element on synthetic frames and over an
 * in-memory vif, and the cooperative scheduler.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineTapSuite, runTapProgram } from '@vpio/devkit/c-tests';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name: string): string => join(root, 'build', 'test', name);

const [config, elements, sched] = await Promise.all([
  runTapProgram(bin('test-config'), { cwd: root }),
  runTapProgram(bin('test-elements'), { cwd: root }),
  runTapProgram(bin('test-sched'), { cwd: root }),
]);

defineTapSuite('test-config (grammar, errors with line:col, shipped configs)', config, { minCases: 6 });
defineTapSuite('test-elements (responders, filters, vif elements, Pktgen, Pinger)', elements, { minCases: 11 });
defineTapSuite('test-sched (cooperative scheduler)', sched, { minCases: 7 });
