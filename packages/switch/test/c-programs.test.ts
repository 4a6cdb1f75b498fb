/**
 * The C test programs, as vitest cases. build/test/test-switch (the switch's
 * correctness cases), build/test/test-hostile (the hostile-guest harness),
 * build/test/test-capture (the capture tap), build/test/test-chain (buffer
 * chains, offload words, software segmentation), build/test/test-group
 * (port groups: multi-queue vifs as one logical port) and
 * build/test/test-vlan-offload (offload packets across a VLAN tag change)
 * are built with ASan + UBSan
 * by `make test-bins`, which the package's test script runs first; each
 * "ok N - name" line is a case.
 */
import { join } from 'node:path';
import { defineTapSuite, runTapProgram } from '@vpio/devkit/c-tests';
import { packageRoot } from '@vpio/addon';

const root = packageRoot('@vpio/switch', import.meta.url);

const [sw, hostile, capture, chain, group, vlanOffload] = await Promise.all([
  runTapProgram(join(root, 'build', 'test', 'test-switch'), { cwd: root, timeoutMs: 60_000 }),
  runTapProgram(join(root, 'build', 'test', 'test-hostile'), { cwd: root, timeoutMs: 60_000 }),
  runTapProgram(join(root, 'build', 'test', 'test-capture'), { cwd: root, timeoutMs: 60_000 }),
  runTapProgram(join(root, 'build', 'test', 'test-chain'), { cwd: root, timeoutMs: 60_000 }),
  runTapProgram(join(root, 'build', 'test', 'test-group'), { cwd: root, timeoutMs: 90_000 }),
  runTapProgram(join(root, 'build', 'test', 'test-vlan-offload'), { cwd: root, timeoutMs: 60_000 }),
]);

defineTapSuite('test-switch (C, ASan + UBSan)', sw, { minCases: 18 });
defineTapSuite('test-hostile (C, ASan + UBSan): the hostile-guest harness', hostile, { minCases: 1 });
defineTapSuite('test-capture (C, ASan + UBSan): the capture tap', capture, { minCases: 6 });
defineTapSuite('test-chain (C, ASan + UBSan): buffer chains, offload words and software segmentation', chain, { minCases: 10 });
defineTapSuite('test-group (C, ASan + UBSan): port groups', group, { minCases: 5 });
defineTapSuite('test-vlan-offload (C, ASan + UBSan): offload packets across a VLAN tag change', vlanOffload, { minCases: 5 });
