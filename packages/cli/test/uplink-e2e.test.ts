/**
 * Scenario 9 (uplink and VXLAN ports, end to end): objective: `vpio uplink`
 * and `vpio vxlan` join a platform's switch to real wires, with real parts
 * only: `vpio up` run inside a network namespace this suite makes (nsenter:
 * only the network namespace changes), veth pairs to other namespaces, Linux
 * guests (`vpio run --linux`), vpio-uplink as the ports' tenant, ping and
 * iperf3 unchanged, Linux's own vxlan device as the other end in 9.3.
 *   9.1 a Linux guest reaches a plain Linux namespace through an uplink
 *       port: ping both ways; `vpio ls` shows the uplink; after
 *       `vpio uplink rm` the outside no longer reaches the guest; a missing
 *       interface, a down one and a second uplink on the same one are
 *       refused in one clear line;
 *   9.2 two vpio hosts, each in its own namespace, joined by a veth pair
 *       and `vpio vxlan add` to each other: a Linux guest on A pings one on
 *       B and runs iperf3 -t 2 to it through a minios firewall on A
 *       (configs/bridge-firewall.click between VLAN 20 and the tunnel's
 *       VLAN 10): TCP to port 5201 passes, to port 5202 is denied;
 *   9.3 interop: A's vxlan ports against Linux vxlan devices in bridges,
 *       over IPv4 and over IPv6 (fd99::): a guest on A pings the address
 *       behind each, and back;
 *   9.4 garbage from the wire (test/c/wire-garbage.c): bad VXLAN datagrams
 *       (short, I flag clear, reserved bits, another VNI, runt, tagged and
 *       group-source inner frames): the port's drop counters count each by
 *       reason, it keeps running, and honest traffic still passes.
 * Not here yet (vpio-uplink's AF_PACKET receive stalls under load, see the
 * package's notes): a TCP transfer over the packet uplink, and over-long
 * frames on its veth.
 * Root only. Every namespace is named vpio-t-<pid>-<tag> and removed
 * afterwards, also on failure; addresses are 10.99.x.x inside them only.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DomainRow, LsResult } from '../src/protocol.js';
import { root } from './helpers.js';
import { FIREWALL, Lab, ip, ping, run, vpio, vpioJson, waitConsole, wireStats, freshWireStats } from './uplink-lab.js';

describe.skipIf(process.getuid?.() !== 0)('uplink and VXLAN ports end to end', () => {
  const labs: Lab[] = [];
  const lab = (): Lab => {
    const l = new Lab();
    labs.push(l);
    return l;
  };
  afterAll(async () => {
    for (const l of labs) await l.cleanup();
  });

  it('9.1 a Linux guest reaches a plain namespace through an uplink (ping both ways); ls shows it; rm stops the traffic; bad requests are refused', async () => {
    const l = lab();
    const h = l.ns('uh');
    const o = l.ns('uo');
    ip('-n', h, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'out0', 'netns', o);
    ip('-n', h, 'link', 'add', 'dn0', 'type', 'veth', 'peer', 'name', 'dn1');
    for (const [ns, dev] of [[h, 'up0'], [o, 'out0']] as const) ip('-n', ns, 'link', 'set', dev, 'up');
    ip('-n', o, 'addr', 'add', '10.99.1.1/24', 'dev', 'out0');
    const dir = await l.up(h);

    // --mode packet: the AF_PACKET wire (auto picks AF_XDP on this one-queue veth: uplink-xdp.test.ts)
    const add = await vpio(dir, 'uplink', 'add', 'up0', '--mode', 'packet');
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/uplink up0 \(packet\) is domain \d+ "uplink-up0"/);
    expect(add.stdout).toMatch(/backend Connected, frontend Connected/);

    // (a TCP transfer over the packet uplink is not here yet: vpio-uplink's AF_PACKET RX stalls under
    // bulk traffic, rx_kernel_freeze; see the issue 12 notes)
    const g = await vpio(dir, 'run', '--name', 'g', '--linux', '--ip', '10.99.1.2/24', '--', 'sh', '-c', 'ping -c 3 -W 2 10.99.1.1; sleep 60');
    expect(g.code, g.stderr).toBe(0);
    expect(await waitConsole(dir, 'g', /packet loss/)).toMatch(/3 packets transmitted, 3 received/);

    const ls = await vpioJson<LsResult>(dir, 'ls');
    const up = ls.domains.find((d) => d.name === 'uplink-up0');
    expect(up?.wire).toMatchObject({ kind: 'uplink', ifname: 'up0', mode: 'packet', text: 'uplink up0 (packet)' });
    expect(up?.vifs[0]?.policy.macLock).toBe(false);
    expect((await vpio(dir, 'ls')).stdout).toMatch(/WIRE\n(.|\n)*uplink up0 \(packet\)/);

    // refused in one line: the same interface again, a missing one, a down one
    const again = await vpio(dir, 'uplink', 'add', 'up0', '--mode', 'packet');
    expect([again.code, again.stderr.trim()]).toEqual([1, expect.stringMatching(/^vpio uplink: interface up0 already has an uplink \("uplink-up0"\)/)]);
    const missing = await vpio(dir, 'uplink', 'add', 'eth9', '--mode', 'packet');
    expect([missing.code, missing.stderr.trim()]).toEqual([1, 'vpio uplink: cannot add uplink eth9 (packet): vpio-launch: wire: no interface eth9']);
    const down = await vpio(dir, 'uplink', 'add', 'dn0', '--mode', 'packet');
    expect([down.code, down.stderr.trim()]).toEqual([1, expect.stringMatching(/^vpio uplink: cannot add uplink dn0 \(packet\): vpio-launch: wire: interface dn0 is down/)]);

    // the outside reaches the guest; after rm it does not
    expect((await ping(o, '10.99.1.2')).code).toBe(0);
    const rm = await vpio(dir, 'uplink', 'rm', 'up0');
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.stdout).toMatch(/uplink up0 removed/);
    expect((await vpioJson<LsResult>(dir, 'ls')).domains.map((d) => d.name)).toEqual(['g']);
    const after = await ping(o, '10.99.1.2');
    expect(after.code, after.stdout).not.toBe(0);
    expect(after.stdout).toMatch(/ 0 received/);
  }, 60_000);

  it('9.2 two vpio hosts over VXLAN: ping, iperf3 -t 2 through a minios firewall on A (5201 passes, 5202 is denied)', async () => {
    const l = lab();
    const a = l.ns('va');
    const b = l.ns('vb');
    ip('-n', a, 'link', 'add', 'ta', 'type', 'veth', 'peer', 'name', 'tb', 'netns', b);
    ip('-n', a, 'addr', 'add', '10.99.0.1/24', 'dev', 'ta');
    ip('-n', b, 'addr', 'add', '10.99.0.2/24', 'dev', 'tb');
    // room for VXLAN's 50 bytes around a 1500-byte frame
    ip('-n', a, 'link', 'set', 'ta', 'mtu', '1600', 'up');
    ip('-n', b, 'link', 'set', 'tb', 'mtu', '1600', 'up');
    const [dirA, dirB] = await Promise.all([l.up(a), l.up(b)]);
    for (const [dir, local, remote] of [[dirA, '10.99.0.1', '10.99.0.2'], [dirB, '10.99.0.2', '10.99.0.1']] as const) {
      const r = await vpio(dir, 'vxlan', 'add', 'peer', '--local', local, '--vni', '10:5010', '--remote', remote);
      expect(r.code, r.stderr).toBe(0);
    }
    expect((await vpioJson<LsResult>(dirA, 'ls')).domains[0]?.wire).toMatchObject({ kind: 'vxlan', text: 'vxlan 10.99.0.1:4789 → 10.99.0.2' });
    // the same name again, and another port on the same local address: one line each
    const again = await vpio(dirA, 'vxlan', 'add', 'peer', '--local', '10.99.0.1:4790', '--vni', '10:5010');
    expect([again.code, again.stderr.trim()]).toEqual([1, 'vpio vxlan: cannot add vxlan 10.99.0.1:4790: a domain named "vxlan-peer" is already running (see `vpio ls`)']);
    const taken = await vpio(dirA, 'vxlan', 'add', 'other', '--local', '10.99.0.1', '--vni', '20:5020');
    expect([taken.code, taken.stderr.trim()]).toEqual([1, 'vpio vxlan: cannot add vxlan 10.99.0.1:4789: vpio-launch: wire: 10.99.0.1:4789: address in use']);

    // B: the server side on VLAN 10, iperf3 on 5201 and 5202. MACs explicit: the default
    // (02:76:70:<domid>:<vif>) is the same on both hosts. Offloads stay on: the switch tags
    // checksum-partial and TSO frames for the trunk (and fills/segments for a port without offloads)
    const srv = await vpio(dirB, 'run', '--name', 'srv', '--linux', '--ip', '10.99.10.2/24', '--vif', 'vlan=10,mac=02:00:00:99:0b:02', '--', 'sh', '-c',
      'iperf3 -s -1 -p 5201 & iperf3 -s -p 5202 & echo SERVING; sleep 60');
    expect(srv.code, srv.stderr).toBe(0);
    // A: the firewall between VLAN 20 (clients) and VLAN 10 (the tunnel), and a client on VLAN 20
    const fw = await vpio(dirA, 'run', '--name', 'fw', '--minios', FIREWALL,
      '--vif', 'vlan=20,mac-lock=0,lossless=1,tx-slots=1024', '--vif', 'vlan=10,mac-lock=0,lossless=1,tx-slots=1024');
    expect(fw.code, fw.stderr).toBe(0);
    await waitConsole(dirB, 'srv', /SERVING/);
    const cli = await vpio(dirA, 'run', '--name', 'cli', '--linux', '--ip', '10.99.10.1/24', '--vif', 'vlan=20,mac=02:00:00:99:0a:01', '--', 'sh', '-c',
      'ping -c 3 -W 2 10.99.10.2 && iperf3 -c 10.99.10.2 -p 5201 -t 2 && echo ALLOWED-DONE; timeout 3 iperf3 -c 10.99.10.2 -p 5202 -t 1; echo DENIED-RC=$?; sleep 30');
    expect(cli.code, cli.stderr).toBe(0);
    const text = await waitConsole(dirA, 'cli', /DENIED-RC=\d+/, 25_000);
    expect(text).toMatch(/3 packets transmitted, 3 received/);
    expect(text).toMatch(/receiver/);
    expect(text).toContain('ALLOWED-DONE');
    expect(text).not.toMatch(/DENIED-RC=0\b/);
    // the tunnel carried it: both ports received datagrams and dropped none
    const [wa, wb] = await Promise.all([wireStats(dirA, 'vxlan-peer'), wireStats(dirB, 'vxlan-peer')]);
    expect(wa.rx_frames).toBeGreaterThan(100);
    expect(wb.rx_frames).toBeGreaterThan(100);
  }, 60_000);

  it('9.3 interop and 9.4 garbage: Linux vxlan devices (IPv4 and IPv6) answer through A\'s ports; bad datagrams are counted by reason and dropped, honest traffic passes', async () => {
    const l = lab();
    const a = l.ns('xa');
    const x = l.ns('xl');
    ip('-n', a, 'link', 'add', 'xa0', 'type', 'veth', 'peer', 'name', 'xl0', 'netns', x);
    ip('-n', a, 'addr', 'add', '10.99.2.1/24', 'dev', 'xa0');
    ip('-n', x, 'addr', 'add', '10.99.2.2/24', 'dev', 'xl0');
    ip('-n', a, 'link', 'set', 'xa0', 'mtu', '1600', 'up');
    ip('-n', x, 'link', 'set', 'xl0', 'mtu', '1600', 'up');
    // Linux's side: vxlan VNI 5010 to A, bridged, an address behind it
    ip('-n', x, 'link', 'add', 'vx0', 'type', 'vxlan', 'id', '5010', 'local', '10.99.2.2', 'remote', '10.99.2.1', 'dstport', '4789', 'dev', 'xl0');
    ip('-n', x, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', x, 'link', 'set', 'vx0', 'master', 'br0');
    ip('-n', x, 'link', 'set', 'vx0', 'up');
    ip('-n', x, 'addr', 'add', '10.99.20.2/24', 'dev', 'br0');
    ip('-n', x, 'link', 'set', 'br0', 'up');
    // and over IPv6: VNI 5020 between fd99::1 and fd99::2, another bridge, another address
    ip('-n', a, 'addr', 'add', 'fd99::1/64', 'dev', 'xa0', 'nodad');
    ip('-n', x, 'addr', 'add', 'fd99::2/64', 'dev', 'xl0', 'nodad');
    ip('-n', x, 'link', 'add', 'vx6', 'type', 'vxlan', 'id', '5020', 'local', 'fd99::2', 'remote', 'fd99::1', 'dstport', '4789', 'dev', 'xl0');
    ip('-n', x, 'link', 'add', 'br1', 'type', 'bridge');
    ip('-n', x, 'link', 'set', 'vx6', 'master', 'br1');
    ip('-n', x, 'link', 'set', 'vx6', 'up');
    ip('-n', x, 'addr', 'add', '10.99.21.2/24', 'dev', 'br1');
    ip('-n', x, 'link', 'set', 'br1', 'up');
    const dir = await l.up(a);
    const vx = await vpio(dir, 'vxlan', 'add', 'lnx', '--local', '10.99.2.1', '--vni', '10:5010', '--remote', '10.99.2.2');
    expect(vx.code, vx.stderr).toBe(0);
    const vx6 = await vpio(dir, 'vxlan', 'add', 'lnx6', '--local', 'fd99::1', '--vni', '20:5020', '--remote', 'fd99::2');
    expect(vx6.code, vx6.stderr).toBe(0);
    expect(vx6.stdout).toContain('vxlan [fd99::1]:4789 → fd99::2 is domain');

    const g = await vpio(dir, 'run', '--name', 'g', '--linux', '--ip', '10.99.20.1/24', '--vif', 'vlan=10,mac=02:00:00:99:14:01', '--', 'sh', '-c', 'ping -c 3 -W 2 10.99.20.2; sleep 60');
    expect(g.code, g.stderr).toBe(0);
    const g6 = await vpio(dir, 'run', '--name', 'g6', '--linux', '--ip', '10.99.21.1/24', '--vif', 'vlan=20,mac=02:00:00:99:15:01', '--', 'sh', '-c', 'ping -c 3 -W 2 10.99.21.2; sleep 60');
    expect(g6.code, g6.stderr).toBe(0);
    expect(await waitConsole(dir, 'g', /packet loss/)).toMatch(/3 packets transmitted, 3 received/);
    expect(await waitConsole(dir, 'g6', /packet loss/)).toMatch(/3 packets transmitted, 3 received/);
    expect((await ping(x, '10.99.20.1')).code).toBe(0); // and back, from Linux's side
    expect((await ping(x, '10.99.21.1')).code).toBe(0);

    // 9.4: garbage from Linux's namespace at the VXLAN port
    const work = mkdtempSync(join(tmpdir(), 'vpio-garbage-'));
    const garbage = join(work, 'wire-garbage');
    execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', garbage, join(root, 'test', 'c', 'wire-garbage.c')]);
    const vxBefore = await wireStats(dir, 'vxlan-lnx');
    const sentUdp = await run('ip', ['netns', 'exec', x, garbage, 'udp', '10.99.2.1', '4789', '5010']);
    expect(sentUdp.stdout.trim(), sentUdp.stderr).toBe('sent=70');
    const vxAfter = await freshWireStats(dir, 'vxlan-lnx');
    execFileSync('rm', ['-rf', work]);
    expect(vxAfter.rx_drops! - vxBefore.rx_drops!).toBe(70);
    for (const reason of ['rx_drop_short', 'rx_drop_no_i_flag', 'rx_drop_reserved', 'rx_drop_unknown_vni', 'rx_drop_runt', 'rx_drop_inner_tagged', 'rx_drop_src_multicast']) {
      expect(vxAfter[reason]! - (vxBefore[reason] ?? 0), reason).toBe(10);
    }
    // the port still runs, and honest traffic passes
    const ls = await vpioJson<LsResult>(dir, 'ls');
    expect(ls.domains.filter((d: DomainRow) => d.wire).map((d) => d.name)).toEqual(['vxlan-lnx', 'vxlan-lnx6']);
    expect((await ping(x, '10.99.20.1')).code).toBe(0);
  }, 60_000);
});
