/**
 * The AF_XDP wire (csrc/wire_xdp*.c, built by xdp.mk) and its probe.
 *
 * test-wire-xdp (C, ASan + UBSan; one vitest case per TAP line) runs the
 * wire on a veth pair in its own network namespace, which it makes with
 * unshare(CLONE_NEWNET) so the namespace and the pair vanish with the
 * process however it ends: vpio's XDP program attached natively and in
 * generic mode, frames both ways checked byte for byte, kicks counted,
 * oversized frames dropped and counted, detach and descriptors on close;
 * and the privilege split tried for real (a capability-less child runs
 * the data path on the inherited socket).
 * It needs root (CAP_NET_ADMIN + CAP_BPF + CAP_NET_RAW): anyone else gets a
 * skipped case saying so.
 *
 * vpio-xdp-probe prints one JSON line for `vpio doctor` and
 * `vpio uplink add --mode auto`; its shape is checked here for a missing
 * interface and for lo (changes nothing, so it runs for everyone).
 *
 * VPIO_XDP_RATE=1 also runs build/test/xdp-rate (64-byte packets/s, AF_XDP
 * against AF_PACKET on the same veth) and prints it: a measurement, never
 * asserted, and not run by default (it loads both cores for ~10 s).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defineTapSuite, runTapProgram } from '@vpio/devkit/c-tests';

const root = fileURLToPath(new URL('..', import.meta.url));
const isRoot = process.getuid?.() === 0;

/** Builds what this file runs (a no-op when the Makefile's test-bins already did through `include xdp.mk`). */
function build(): string | undefined {
  try {
    execFileSync('make', ['-s', '-f', 'xdp.mk', 'xdp-all', 'xdp-test-bins'], { cwd: root, stdio: 'pipe' });
    return undefined;
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    return `make -f xdp.mk failed: ${e.stderr?.toString() || e.message}`;
  }
}

const buildError = build();

describe('building the AF_XDP wire (xdp.mk: libxdp-dev, libbpf-dev, clang for kernel/)', () => {
  it('builds vpio-xdp-probe, test-wire-xdp, xdp-rate and kernel/build/xdp_vpio.bpf.o', () => {
    expect(buildError).toBeUndefined();
  });
});

if (isRoot) {
  defineTapSuite(
    'test-wire-xdp (AF_XDP wire on a veth pair in a private netns; C, ASan + UBSan)',
    await runTapProgram(join(root, 'build', 'test', 'test-wire-xdp'), { cwd: root, timeoutMs: 120_000 }),
    { minCases: 11 },
  );
} else {
  describe('test-wire-xdp (AF_XDP wire on a veth pair in a private netns; C, ASan + UBSan)', () => {
    it.skip('needs root: a network namespace, an XDP program (CAP_BPF, CAP_NET_ADMIN), an AF_XDP socket (CAP_NET_RAW)', () => {});
  });
}

interface Probe {
  packet: boolean;
  xdp: { possible: boolean; mode: string; attach: string; driver: string; features: number | null; why: string };
}

function probe(ifname: string): Probe {
  const out = execFileSync(join(root, 'build', 'vpio-xdp-probe'), [ifname], { encoding: 'utf8' });
  expect(out.trim().split('\n')).toHaveLength(1);
  return JSON.parse(out) as Probe;
}

describe('vpio-xdp-probe IFNAME', () => {
  it('says an interface that does not exist cannot carry an AF_XDP wire, and why', () => {
    const p = probe('vpio-none0');
    expect(p.xdp).toMatchObject({ possible: false, mode: 'none', attach: 'none' });
    expect(p.xdp.why).toMatch(/no interface vpio-none0/);
    expect(typeof p.packet).toBe('boolean');
  });

  it('answers for lo with the fixed vocabulary, changing nothing', () => {
    const p = probe('lo');
    expect(['zerocopy', 'copy', 'none']).toContain(p.xdp.mode);
    expect(['native', 'generic', 'none']).toContain(p.xdp.attach);
    expect(p.xdp.why.length).toBeGreaterThan(0);
    if (!isRoot) expect(p.xdp.possible).toBe(false);
    if (p.xdp.possible) expect(p.xdp.mode).not.toBe('none');
    expect(execFileSync('ip', ['link', 'show', 'dev', 'lo'], { encoding: 'utf8' })).not.toMatch(/xdp/);
  });

  it('rejects a bad command line with exit 2', () => {
    expect(() => execFileSync(join(root, 'build', 'vpio-xdp-probe'), [], { stdio: 'pipe' })).toThrow(
      expect.objectContaining({ status: 2 }),
    );
  });
});

if (isRoot && process.env.VPIO_XDP_RATE === '1') {
  describe('xdp-rate (printed, not asserted)', () => {
    it('measures 64-byte packets/s: AF_XDP wire vs AF_PACKET on one veth', () => {
      const out = execFileSync(join(root, 'build', 'test', 'xdp-rate'), ['2'], { encoding: 'utf8', timeout: 60_000 });
      console.log(out);
      expect(out).toMatch(/"case":"rx_64B"/);
    });
  });
}
