/**
 * Scenario 2 (xen mode, on this host): objective: the parts of
 * `vpio-linux-netfront --xen` that need no hypervisor behave as documented.
 *   2.1 its own TAP device (src/tap.c, test/c/test-lnf-tap.c in a fresh
 *       network namespace): flags, queues, MAC/MTU/addresses, errors;
 *   2.2 on a host that is not a Xen guest, --xen stops at once with exit 69
 *       saying so, and makes no TAP device;
 *   2.3 the xen-only options are refused in host mode, and a bad --ip in xen
 *       mode, with exit 64, before anything is opened.
 * The program on a real Xen PV guest: xen/tests/test-xen.sh (`npm run test:xen`).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineTapSuite, runTapProgram } from '@vpio/devkit/c-tests';
import { root } from './helpers.js';

const BIN = join(root, 'build', 'vpio-linux-netfront');
const TAP_TEST = join(root, 'build', 'test', 'test-lnf-tap');

function run(args: readonly string[], env: Record<string, string | undefined> = {}): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const e: Record<string, string | undefined> = { ...process.env, ...env };
    delete e.VPIO_CTRL_FD;
    delete e.VPIO_TAP_FD;
    execFile(BIN, [...args], { env: e, timeout: 20_000 }, (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stderr });
    });
  });
}

defineTapSuite(
  "2.1 xen mode's TAP device (test-lnf-tap in a fresh network namespace; ASan + UBSan)",
  await (existsSync(TAP_TEST)
    ? runTapProgram('/usr/bin/unshare', { args: ['-n', TAP_TEST], cwd: root })
    : runTapProgram(TAP_TEST, { cwd: root })),
  { minCases: 5 },
);

describe('xen mode on a host without Xen', () => {
  it.skipIf(existsSync('/dev/xen/xenbus'))('2.2 --xen says this is not a Xen guest (exit 69) and makes no TAP device', async () => {
    const before = readdirSync('/sys/class/net');
    const r = await run(['--xen', '--ifname', 'lnfx0', '--ip', '10.1.2.3/24']);
    expect(r.code).toBe(69);
    expect(r.stderr).toContain('xen mode: not a Xen guest');
    expect(readdirSync('/sys/class/net')).toEqual(before);
  });

  it('2.3 xen-only options in host mode and a bad --ip are usage errors (exit 64)', async () => {
    for (const args of [['--host', '--ip', '10.0.0.1/24', '--', 'true'], ['--ifname', 'x', '--', 'true'], ['--wait-ms', '5', '--', 'true']]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(64);
      expect(r.stderr).toContain('are for xen mode (--xen)');
    }
    const bad = await run(['--xen', '--ip', '10.0.0.300/24']);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('--ip expects an IPv4 address with its prefix length (A/P), got "10.0.0.300/24"');
    const bad6 = await run(['--xen', '--ip6', 'fd00::1']);
    expect(bad6.code).toBe(64);
  });
});
