/**
 * Netfront's xen-mode ops (vpio/netfront_xen.h) where there is no Xen (this
 * host, CI): the C test program's cases, and the lab's domU program
 * refusing to start with the missing device named. On Xen they run in the
 * lab (xen/tests/drivers.sh: test-nf-xen in dom0, xen-peer in a PV domU).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { defineTapSuite, runTapProgram } from '@vpio/devkit/c-tests';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

defineTapSuite('test-nf-xen (C, ASan + UBSan)', await runTapProgram(join(root, 'build', 'test', 'test-nf-xen'), { cwd: root }), {
  minCases: 2,
});

describe.skipIf(existsSync('/dev/xen/gntdev'))('xen-peer without Xen', () => {
  it('exits 2 naming /dev/xen/gntdev instead of failing later', async () => {
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(join(root, 'build', 'test', 'xen-peer'), [], { timeout: 10_000 }, (err, _out, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr });
      });
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\/dev\/xen\/gntdev is missing: not a Xen PV guest/);
  });
});
