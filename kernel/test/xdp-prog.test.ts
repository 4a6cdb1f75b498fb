/**
 * The uplink XDP program (build/xdp_vpio.bpf.o) against its contract,
 * vpio/xdp_vpio.h: the C test program (build/test/test-xdp-prog, ASan +
 * UBSan) opens the object, has the verifier load it, and runs it with
 * BPF_PROG_TEST_RUN; one vitest case per TAP case. Loading BPF needs root
 * (CAP_BPF; this kernel's unprivileged_bpf_disabled is usually 1 or 2), so
 * the suite is skipped, saying so, for anyone else. The redirect into a
 * real AF_XDP socket is @vpio/uplink's test (test/xdp.test.ts).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { defineTapSuite, runTapProgram } from '@vpio/devkit/c-tests';

const root = fileURLToPath(new URL('..', import.meta.url));
const isRoot = process.getuid?.() === 0;

if (isRoot) {
  defineTapSuite(
    'test-xdp-prog (C, ASan + UBSan)',
    await runTapProgram(join(root, 'build', 'test', 'test-xdp-prog'), {
      cwd: root,
      args: [join(root, 'build', 'xdp_vpio.bpf.o')],
    }),
    { minCases: 4 },
  );
} else {
  describe('test-xdp-prog (C, ASan + UBSan)', () => {
    it.skip('needs root: loading a BPF program needs CAP_BPF (run `npm test` as root)', () => {});
  });
}
