/**
 * Scenario 10x (an AF_XDP wire, vpio-launch --wire-xdp): the monitor, root in
 * vpiod's network namespace, attaches vpio's XDP program to the interface,
 * makes a sealed memfd UMEM and an AF_XDP socket bound to queue 0, puts it
 * in the program's XSKMAP, and hands the tenant the socket (fd 4) and the
 * memfd (fd 5). Inside its sandbox the tenant maps the rings and the UMEM,
 * sends and receives through them, and can do nothing that reaches further
 * (re-register the UMEM, re-bind, open another AF_XDP socket, resize the
 * UMEM). The program is gone when the domain is. Refusals (no interface,
 * down, several rx queues, a foreign XDP program) fail at step `wire` with
 * one line. Real launcher, real kernel: the cases run in a network namespace
 * this file makes, through a launcher wrapper that enters it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseLaunchError, type Vpiod } from '../src/index.js';
import { netnsWithLauncher, parseFacts, readAll, root, startVpiod } from './helpers.js';

const runnable = process.getuid?.() === 0;
const GUEST_WIRE = join(root, 'build', 'test', 'guest-wire');
const XDP_OBJ = join(root, '..', '..', 'kernel', 'build', 'xdp_vpio.bpf.o');
const NS = `vpio-t-${process.pid}-x`;
const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });
const inNs = (...args: string[]): string => execFileSync('ip', ['netns', 'exec', NS, ...args], { encoding: 'utf8' });

function xdpAttached(dev: string): boolean {
  return /\bprog\/xdp\b/.test(ip('-n', NS, '-d', 'link', 'show', 'dev', dev));
}

describe.skipIf(!runnable)('an uplink tenant\'s AF_XDP wire (vpio-launch --wire-xdp)', async () => {
  // xa <-> xb (one queue each), xm <-> xn (two rx queues on xm), xd <-> xe (xd down), xf <-> xg (a foreign XDP program on xf)
  const { launcherPath } = netnsWithLauncher(NS);
  ip('-n', NS, 'link', 'add', 'xa', 'type', 'veth', 'peer', 'name', 'xb');
  ip('-n', NS, 'link', 'add', 'xm', 'numtxqueues', '2', 'numrxqueues', '2', 'type', 'veth', 'peer', 'name', 'xn', 'numtxqueues', '2', 'numrxqueues', '2');
  ip('-n', NS, 'link', 'add', 'xd', 'type', 'veth', 'peer', 'name', 'xe');
  ip('-n', NS, 'link', 'add', 'xf', 'type', 'veth', 'peer', 'name', 'xg');
  for (const dev of ['xa', 'xb', 'xm', 'xn', 'xf', 'xg']) {
    inNs('sysctl', '-qw', `net.ipv6.conf.${dev}.disable_ipv6=1`);
    ip('-n', NS, 'link', 'set', dev, 'up');
  }
  inNs('ethtool', '-L', 'xm', 'rx', '2', 'tx', '2');
  ip('-n', NS, 'addr', 'add', '10.99.8.2/24', 'dev', 'xb');
  const wrapDir = mkdtempSync(join(tmpdir(), 'vpio-wire-xdp-'));
  afterAll(() => rmSync(wrapDir, { recursive: true, force: true }));
  // a foreign XDP program on xf (someone else's: vpio must leave it alone), built here with clang's BPF target
  writeFileSync(join(wrapDir, 'other.bpf.c'), '#include <linux/bpf.h>\n__attribute__((section("xdp"), used)) int xdp_other(struct xdp_md *c) { (void)c; return XDP_PASS; }\nchar _license[] __attribute__((section("license"), used)) = "GPL";\n');
  const multiarch = execFileSync('gcc', ['-print-multiarch'], { encoding: 'utf8' }).trim();
  execFileSync('clang', ['-O2', '-target', 'bpf', `-I/usr/include/${multiarch}`, '-c', '-o', join(wrapDir, 'other.bpf.o'), join(wrapDir, 'other.bpf.c')]);
  ip('-n', NS, 'link', 'set', 'dev', 'xf', 'xdpgeneric', 'obj', join(wrapDir, 'other.bpf.o'), 'sec', 'xdp');
  // vpio's own program left on xg (as a killed monitor leaves it): replaced, then detached with the domain
  ip('-n', NS, 'link', 'set', 'dev', 'xg', 'xdpgeneric', 'obj', XDP_OBJ, 'sec', 'xdp');
  const { vpiod } = await startVpiod({ launcherPath });

  async function probe(v: Vpiod, name: string, ifname: string): Promise<{ facts: Record<string, string>; code: number | null | undefined; stderr: string }> {
    const d = await v.createDomain({ name, argv: [GUEST_WIRE], stdout: 'pipe', wire: { kind: 'xdp', ifname, obj: XDP_OBJ } });
    const text = await readAll(d.stdout);
    await d.released;
    return { facts: parseFacts(text), code: d.exit?.code, stderr: d.stderr };
  }
  const rxPackets = (dev: string): number => Number(inNs('cat', `/sys/class/net/${dev}/statistics/rx_packets`).trim());

  it('10x.1 fd 4 is the bound AF_XDP socket and fd 5 the sealed UMEM: rings map after bind, a frame goes out, frames come in; the program goes with the domain', async () => {
    const before = rxPackets('xb');
    const pinger = spawn('ip', ['netns', 'exec', NS, 'ping', '-q', '-b', '-i', '0.05', '-w', '20', '10.99.8.255'], { stdio: 'ignore' });
    let r;
    try {
      r = await probe(vpiod, 'wire-xdp', 'xa');
    } finally {
      pinger.kill('SIGKILL');
    }
    const { facts: f, code, stderr } = r;
    expect(code, stderr).toBe(0);
    expect(f).toMatchObject({
      wire_fd: '4', wire_kind: 'xdp', wire_name: 'xa', umem_fd: '5', fds: '0,1,2,3,4,5', net_ifaces: 'lo', so_domain: 'xdp',
      umem_bytes: String(10240 * 2048), umem_sealed: '1', umem_truncate: 'EPERM', umem_mmap: 'OK',
      mmap_offsets: 'OK', rings_mmap: 'OK', tx_kick: 'OK', rx_frames: 'OK',
      umem_reg_again: 'EBUSY', xdp_socket: 'EPERM', rebind_wire: 'EPERM', bind_new_socket: 'EPERM', packet_socket: 'EPERM',
      done: '1',
    });
    expect(rxPackets('xb') - before).toBeGreaterThanOrEqual(1);
    // the domain is gone: so is the program
    expect(xdpAttached('xa')).toBe(false);
  });

  it('10x.2 fails at step wire with one clear line: no interface, down, two rx queues, a foreign XDP program (left attached)', async () => {
    const cases: Array<[string, RegExp]> = [
      ['xz9', /^vpio-launch: wire: no interface xz9$/],
      ['xd', /^vpio-launch: wire: interface xd is down/],
      ['xm', /^vpio-launch: wire: xm has 2 rx queues; the AF_XDP wire serves one queue: ethtool -L xm rx 1/],
      ['xf', /^vpio-launch: wire: xf already has an XDP program attached \(xdp_other, id \d+\): vpio does not replace it$/],
    ];
    for (const [i, [ifname, line]] of cases.entries()) {
      const { code, stderr } = await probe(vpiod, `wire-xdp-bad-${i}`, ifname);
      expect(code, stderr).toBe(119); // ST_WIRE
      expect(parseLaunchError(stderr)?.step).toBe('wire');
      expect(stderr.trim()).toMatch(line);
    }
    expect(xdpAttached('xm')).toBe(false);
    expect(xdpAttached('xf')).toBe(true); // not ours: still there
  });

  it('10x.3 a vpio program attached the old way (netlink, as `ip link set xdp` does; it outlives its loader) is replaced, and detached with the domain', async () => {
    expect(xdpAttached('xg')).toBe(true);
    const { facts: f, code, stderr } = await probe(vpiod, 'wire-xdp-stale', 'xg');
    expect(code, stderr).toBe(0);
    expect(f).toMatchObject({ so_domain: 'xdp', rings_mmap: 'OK', tx_kick: 'OK' });
    expect(xdpAttached('xg')).toBe(false);
  });
});
