/**
 * Scenario 10 (an uplink tenant's wire): objective: with `wire`, vpio-launch's
 * monitor, still root and in vpiod's network namespace, makes the one socket
 * the tenant reaches the outside with (AF_PACKET bound to an interface, or
 * UDP bound to an address) and hands it over as fd 4; inside its own empty
 * namespace, under its uid, no-new-privs and the wire tenant's seccomp
 * filter, the tenant can do on it what an uplink must (send, sendmmsg,
 * recvmmsg, PACKET_VERSION, PACKET_RX_RING/TX_RING, mmap) and nothing that
 * reaches further (bind it elsewhere, open another, SO_BINDTODEVICE). A
 * missing, down or taken wire fails at step `wire` with one clear line.
 * Real launcher, real sockets: the AF_PACKET cases run vpio-launch in a
 * network namespace this suite makes (a veth pair), through a wrapper that
 * enters it, so nothing touches the host's interfaces.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLaunchError, resolveDomainOptions, wireLauncherArgs, type Vpiod } from '../src/index.js';
import { defaultLauncherPath } from '../src/native.js';
import { netnsWithLauncher, parseFacts, readAll, root, startVpiod } from './helpers.js';

const GUEST_WIRE = join(root, 'build', 'test', 'guest-wire');
const MEMIF_PEER = join(root, 'build', 'test', 'memif-peer');
const NS = `vpio-t-${process.pid}-w`;
const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });

// the namespace with a veth pair wa <-> wb, both up, IPv6 off (no stray frames), and wc down
const { launcherPath: wrapper } = netnsWithLauncher(NS);
ip('-n', NS, 'link', 'add', 'wa', 'type', 'veth', 'peer', 'name', 'wb');
ip('-n', NS, 'link', 'add', 'wc', 'type', 'veth', 'peer', 'name', 'wd');
for (const dev of ['wa', 'wb']) {
  execFileSync('ip', ['netns', 'exec', NS, 'sysctl', '-qw', `net.ipv6.conf.${dev}.disable_ipv6=1`]);
  ip('-n', NS, 'link', 'set', dev, 'up');
}
ip('-n', NS, 'addr', 'add', '10.99.7.2/24', 'dev', 'wb');

/** Broadcast pings out of wb (so into wa) every 50 ms while `fn` runs: the frames the tenant on wa receives. */
async function withPeerTraffic<T>(fn: () => Promise<T>): Promise<T> {
  const pinger = spawn('ip', ['netns', 'exec', NS, 'ping', '-q', '-b', '-i', '0.05', '-w', '20', '10.99.7.255'], { stdio: 'ignore' });
  try {
    return await fn();
  } finally {
    pinger.kill('SIGKILL');
  }
}

const { vpiod } = await startVpiod();
const { vpiod: vpiodNs } = await startVpiod({ launcherPath: wrapper });

async function probe(v: Vpiod, name: string, wire: Parameters<Vpiod['createDomain']>[0]['wire']): Promise<{ facts: Record<string, string>; code: number | null | undefined; stderr: string }> {
  const d = await v.createDomain({ name, argv: [GUEST_WIRE], stdout: 'pipe', wire });
  const text = await readAll(d.stdout);
  await d.released;
  return { facts: parseFacts(text), code: d.exit?.code, stderr: d.stderr };
}

function rxPackets(dev: string): number {
  return Number(execFileSync('ip', ['netns', 'exec', NS, 'cat', `/sys/class/net/${dev}/statistics/rx_packets`], { encoding: 'utf8' }).trim());
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('an uplink tenant\'s wire socket', () => {
  it('10.1 packet: fd 4 is an AF_PACKET socket on the interface; send, recvmmsg, TPACKET_V2 rings and mmap work; frames reach the peer', async () => {
    const before = rxPackets('wb');
    const { facts: f, code, stderr } = await withPeerTraffic(() => probe(vpiodNs, 'wire-packet', { kind: 'packet', ifname: 'wa' }));
    expect(code, stderr).toBe(0);
    expect(f).toMatchObject({
      wire_fd: '4', wire_kind: 'packet', wire_name: 'wa', fds: '0,1,2,3,4', net_ifaces: 'lo', so_domain: 'packet',
      send: 'OK', recvmmsg: '3',
      packet_version: 'OK', rx_ring: 'OK', tx_ring: 'OK', mmap: 'OK', tx_ring_send: 'OK', rx_ring_recv: 'OK',
      done: '1',
    });
    // 3 send + 1 through the TX ring crossed the veth
    expect(rxPackets('wb') - before).toBeGreaterThanOrEqual(4);
  });

  it('10.2 packet: the tenant can neither send to another interface (sendto with an address, sendmmsg), re-bind its socket, bind any other, SO_BINDTODEVICE, nor open an AF_PACKET socket', async () => {
    const { facts: f, code } = await probe(vpiodNs, 'wire-packet-deny', { kind: 'packet', ifname: 'wa' });
    expect(code).toBe(0);
    expect(f).toMatchObject({ rebind_wire: 'EPERM', bind_new_socket: 'EPERM', bindtodevice: 'EPERM', packet_socket: 'EPERM', sendto_other_if: 'EPERM', sendmmsg: 'EPERM' });
  });

  it('10.3 udp: fd 4 is the bound UDP socket; sendmmsg and recvmmsg work; bind is refused', async () => {
    const port = await freeUdpPort();
    const { facts: f, code, stderr } = await probe(vpiod, 'wire-udp', { kind: 'udp', bind: `127.0.0.1:${port}` });
    expect(code, stderr).toBe(0);
    expect(f).toMatchObject({
      wire_fd: '4', wire_kind: 'udp', wire_name: `127.0.0.1:${port}`, fds: '0,1,2,3,4', net_ifaces: 'lo', so_domain: 'inet',
      sockname: `127.0.0.1:${port}`, sendmmsg: '2', recvmmsg: '2', rebind_wire: 'EPERM', bind_new_socket: 'EPERM', packet_socket: 'EPERM',
    });
    // the monitor sized both buffers past rmem_max/wmem_max (4 MiB; the kernel reports twice that): a tunnel takes bursts
    expect(Number(f.rcvbuf)).toBeGreaterThanOrEqual(8 << 20);
    expect(Number(f.sndbuf)).toBeGreaterThanOrEqual(8 << 20);
  });

  it('10.4 udp over IPv6: [::1]:PORT', async () => {
    const port = await freeUdpPort();
    const { facts: f, code, stderr } = await probe(vpiod, 'wire-udp6', { kind: 'udp', bind: `[::1]:${port}` });
    expect(code, stderr).toBe(0);
    expect(f).toMatchObject({ so_domain: 'inet6', sockname: `[::1]:${port}`, recvmmsg: '2' });
  });

  it('10.5 fails at step wire with one clear line: no interface, interface down, address in use, not a local address', async () => {
    const cases: Array<[Parameters<Vpiod['createDomain']>[0]['wire'], RegExp, Vpiod]> = [
      [{ kind: 'packet', ifname: 'eth9' }, /^vpio-launch: wire: no interface eth9$/, vpiodNs],
      [{ kind: 'packet', ifname: 'wc' }, /^vpio-launch: wire: interface wc is down/, vpiodNs],
      [{ kind: 'udp', bind: '10.99.254.1:4789' }, /^vpio-launch: wire: 10\.99\.254\.1:4789: no such local address/, vpiod],
    ];
    const taken = createSocket('udp4');
    await new Promise<void>((resolve) => taken.bind(0, '127.0.0.1', resolve));
    cases.push([{ kind: 'udp', bind: `127.0.0.1:${taken.address().port}` }, new RegExp(`^vpio-launch: wire: 127\\.0\\.0\\.1:${taken.address().port}: address in use$`), vpiod]);
    try {
      for (const [i, [wire, line, v]] of cases.entries()) {
        const { code, stderr } = await probe(v, `wire-bad-${i}`, wire);
        expect(code, stderr).toBe(119); // ST_WIRE
        expect(parseLaunchError(stderr)?.step).toBe('wire');
        expect(stderr.trim()).toMatch(line);
      }
    } finally {
      taken.close();
    }
  });

  it('10.6 the interface is promiscuous while the socket lives, and not after', async () => {
    const d = await vpiodNs.createDomain({ name: 'wire-promisc', argv: ['/bin/sleep', '30'], wire: { kind: 'packet', ifname: 'wa' } });
    const promisc = (): boolean => (Number(execFileSync('ip', ['netns', 'exec', NS, 'cat', '/sys/class/net/wa/flags'], { encoding: 'utf8' })) & 0x100) !== 0;
    await new Promise((r) => setTimeout(r, 300));
    expect(promisc()).toBe(true);
    await vpiodNs.destroyDomain(d.domid, { graceMs: 200 });
    expect(promisc()).toBe(false);
  });

  it('10.7 rejects bad wire options at the boundary, naming the parameter', () => {
    const base = { name: 'x', argv: ['/bin/true'] };
    const bad: Array<[unknown, RegExp]> = [
      [{ kind: 'packet', ifname: '' }, /wire\.ifname/],
      [{ kind: 'packet', ifname: 'a-very-long-name0' }, /wire\.ifname/],
      [{ kind: 'packet', ifname: 'eth0', bind: '1.2.3.4:5' }, /wire\.bind/],
      [{ kind: 'udp', bind: '10.0.0.1' }, /wire\.bind/],
      [{ kind: 'udp', bind: '10.0.0.1:0' }, /wire\.bind/],
      [{ kind: 'udp', bind: '10.0.0.1:65536' }, /wire\.bind/],
      [{ kind: 'udp', bind: '::1:4789' }, /wire\.bind/],
      [{ kind: 'udp', bind: '[10.0.0.1]:4789' }, /wire\.bind/],
      [{ kind: 'xdp', ifname: 'eth0' }, /wire\.obj/],
      ['eth0', /wire/],
    ];
    for (const [wire, re] of bad) expect(() => resolveDomainOptions({ ...base, wire: wire as never }), JSON.stringify(wire)).toThrow(re);
    expect(() => resolveDomainOptions({ ...base, tap: {}, wire: { kind: 'udp', bind: '10.0.0.1:4789' } })).toThrow(/wire: expected absent with tap/);
    expect(() => resolveDomainOptions({ ...base, env: { VPIO_WIRE_FD: '9' } })).toThrow(/env\.VPIO_WIRE_FD/);
    expect(wireLauncherArgs(resolveDomainOptions({ ...base, wire: { kind: 'packet', ifname: 'eth1' } }).wire!)).toEqual(['--wire-packet', 'eth1']);
    expect(wireLauncherArgs(resolveDomainOptions({ ...base, wire: { kind: 'udp', bind: '[fd99::1]:4789' } }).wire!)).toEqual(['--wire-udp', '[fd99::1]:4789']);
    for (const [wire, re] of [
      [{ kind: 'memif', path: 'rel.sock' }, /wire\.path/],
      [{ kind: 'memif', path: `/${'x'.repeat(107)}` }, /wire\.path/],
      [{ kind: 'memif', path: '/run/m.sock', mode: 0o400 }, /wire\.mode/],
      [{ kind: 'memif', path: '/run/m.sock', mode: 0o755 }, /wire\.mode/],
      [{ kind: 'memif', path: '/run/m.sock', ifname: 'eth0' }, /wire\.ifname/],
    ] as Array<[unknown, RegExp]>) expect(() => resolveDomainOptions({ ...base, wire: wire as never }), JSON.stringify(wire)).toThrow(re);
    expect(wireLauncherArgs(resolveDomainOptions({ ...base, wire: { kind: 'memif', path: '/run/m.sock' } }).wire!)).toEqual(['--wire-memif', '/run/m.sock']);
    expect(wireLauncherArgs(resolveDomainOptions({ ...base, wire: { kind: 'memif', path: '/run/m.sock', mode: 0o660 } }).wire!)).toEqual(['--wire-memif', '/run/m.sock', '--wire-memif-mode', '0660']);
  });

  it('10.8 the launcher refuses --tap with --wire-*, and a second wire', () => {
    const run = (args: string[]): string => {
      try {
        execFileSync(defaultLauncherPath(), ['--domid', '9', '--uid', '70009', '--gid', '70009', ...args, '--', '/bin/true'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        return '';
      } catch (e) {
        return String((e as { stderr?: string }).stderr);
      }
    };
    expect(run(['--tap', 'eth0', '--wire-udp', '127.0.0.1:4789'])).toMatch(/--tap and --wire-udp exclude each other/);
    expect(run(['--wire-packet', 'eth0', '--wire-udp', '127.0.0.1:4789'])).toMatch(/one --wire-packet, --wire-udp, --wire-memif or --wire-xdp/);
    expect(run(['--wire-memif', '/tmp/x.sock', '--wire-udp', '127.0.0.1:4789'])).toMatch(/one --wire-packet, --wire-udp, --wire-memif or --wire-xdp/);
    expect(run(['--wire-memif', 'rel.sock'])).toMatch(/--wire-memif expects an absolute file path/);
    expect(run(['--wire-memif', '/tmp/x.sock', '--wire-memif-mode', '0400'])).toMatch(/--wire-memif-mode expects/);
    expect(run(['--wire-udp', '127.0.0.1:4789', '--wire-memif-mode', '0600'])).toMatch(/--wire-memif-mode needs --wire-memif/);
    expect(run(['--wire-udp', '[::1]:0'])).toMatch(/--wire-udp expects/);
  });

  it('10.9 memif: fd 4 listens at PATH (mode 0600); the tenant accepts, receives a memfd with SCM_RIGHTS, maps it, answers with an eventfd; bind is refused; the file goes with the domain', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vpio-memif-'));
    const path = join(dir, 'm.sock');
    try {
      const d = await vpiod.createDomain({ name: 'wire-memif', argv: [GUEST_WIRE], stdout: 'pipe', wire: { kind: 'memif', path } });
      const out = readAll(d.stdout);
      for (let i = 0; i < 100 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 20));
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(statSync(path).isSocket()).toBe(true);
      expect(execFileSync(MEMIF_PEER, [path], { encoding: 'utf8' }).trim()).toBe('reply=reply fds=1');
      const f = parseFacts(await out);
      await d.released;
      expect(d.exit?.code, d.stderr).toBe(0);
      expect(f).toMatchObject({
        wire_fd: '4', wire_kind: 'memif', wire_name: path, fds: '0,1,2,3,4', net_ifaces: 'lo', so_domain: 'unix', acceptconn: '1',
        accept4: 'OK', recvmsg: 'OK', scm_rights: '1', mmap_memfd: 'OK', memfd_text: 'vpio-memif', sendmsg: 'OK', rebind_wire: 'EPERM', done: '1',
      });
      expect(existsSync(path)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('10.10 memif: a stale socket file is replaced; a live one, a non-socket and an open directory fail at step wire with one clear line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vpio-memif-'));
    const path = join(dir, 'm.sock');
    try {
      execFileSync(MEMIF_PEER, ['--stale', path]);
      const live = await vpiod.createDomain({ name: 'wire-memif-live', argv: ['/bin/sleep', '30'], wire: { kind: 'memif', path, mode: 0o660 } });
      for (let i = 0; i < 100 && statSync(path).mode % 0o1000 !== 0o660; i++) await new Promise((r) => setTimeout(r, 20));
      expect(statSync(path).mode & 0o777).toBe(0o660);
      writeFileSync(join(dir, 'file'), '');
      const open = join(dir, 'open');
      mkdirSync(open);
      chmodSync(open, 0o777);
      const cases: Array<[string, RegExp]> = [
        [path, /^vpio-launch: wire: .*m\.sock: in use \(something listens on it\)$/],
        [join(dir, 'file'), /^vpio-launch: wire: .*file: exists and is not a socket$/],
        [join(open, 'm.sock'), /^vpio-launch: wire: .*: directory .*open must be owned by root and not group\/other-writable/],
        [join(dir, 'nodir', 'm.sock'), /^vpio-launch: wire: .*: directory .*nodir: No such file or directory$/],
      ];
      for (const [i, [p, line]] of cases.entries()) {
        const { code, stderr } = await probe(vpiod, `wire-memif-bad-${i}`, { kind: 'memif', path: p });
        expect(code, stderr).toBe(119); // ST_WIRE
        expect(stderr.trim()).toMatch(line);
      }
      await vpiod.destroyDomain(live.domid, { graceMs: 200 });
      expect(existsSync(path)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
