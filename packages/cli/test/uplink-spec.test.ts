/**
 * Scenario 8 (`vpio uplink` / `vpio vxlan` planning and the command line,
 * pure and without traffic): objective: an uplink port becomes a domain
 * uplink-IFNAME running vpio-uplink --wire xdp on an AF_XDP wire when
 * vpio-xdp-probe says the interface can carry one (--mode auto, the
 * default, or xdp), else --wire packet on an AF_PACKET wire (--mode packet,
 * or auto's fallback, which keeps the probe's reason); --mode xdp on an
 * interface the probe rejects fails with its reason and starts nothing; a
 * VXLAN port a domain vxlan-NAME on a UDP wire whose vif is a trunk of the
 * mapped VIDs, both with mac-lock off; bad requests (interface names, VIDs
 * outside [1, 4094], VNIs outside [1, 2^24-1], duplicates, mixed address
 * families) fail at the boundary naming the part, from the command line
 * (exit 2, before any daemon is asked) and from the control socket alike;
 * `vpio ls` shows the kind and
 * wire in a WIRE column; `vpio doctor` says whether AF_PACKET and AF_XDP
 * uplinks are possible and why. The server side runs on a real Platform
 * (no vpio-uplink needed: these requests are refused before it would start).
 */
import { connect } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlServer, Platform } from '../src/index.js';
import { formatDoctor, formatLs } from '../src/format.js';
import { CliError } from '../src/cli-error.js';
import type { LsResult } from '../src/protocol.js';
import { kernelOption, parseXdpProbe, probeXdp, uplinkChecks, type XdpProbe } from '../src/uplink-doctor.js';
import { VNI_MAX, normaliseEndpoint, parseMemifAdd, parseUplinkAdd, parseVlanText, parseVniText, parseVxlanAdd, planMemif, planUplink, planVxlan, xdpWireNow } from '../src/uplink-spec.js';
import { tempBase, vpio } from './helpers.js';

const BIN = (): string => '/x/vpio-uplink';
const OBJ = (): string => '/x/kernel/build/xdp_vpio.bpf.o';
/** vpio-xdp-probe's verdicts, as it prints them. */
const VETH = parseXdpProbe('{"packet":true,"xdp":{"possible":true,"mode":"copy","attach":"native","driver":"veth","features":7,"rx_queues":1,"why":"driver veth has native XDP but no AF_XDP zero-copy: copy mode"}}');
const TWO_QUEUES = parseXdpProbe('{"packet":true,"xdp":{"possible":false,"mode":"none","attach":"none","driver":"veth","features":7,"rx_queues":2,"why":"up1 has 2 rx queues; the AF_XDP wire serves one queue: ethtool -L up1 rx 1 (or combined 1), or --mode packet"}}');
const NO_BPF = parseXdpProbe('{"packet":true,"xdp":{"possible":false,"mode":"none","attach":"none","driver":"veth","features":null,"why":"no CAP_BPF: cannot load the XDP program"}}');
const facts = (probe: XdpProbe, obj: () => string = OBJ): { probe: XdpProbe; obj: () => string } => ({ probe, obj });

describe('uplink and vxlan requests', () => {
  it('8.1 an uplink is domain uplink-IFNAME: vpio-uplink --wire packet, the packet wire, an untagged vif with mac-lock off', () => {
    const p = planUplink(parseUplinkAdd({ ifname: 'eth1', mode: 'packet' }), BIN);
    expect(p.domainName).toBe('uplink-eth1');
    expect(p.args).toEqual(['/x/vpio-uplink', '--wire', 'packet', '--stats-interval', '1000']);
    expect(p.wire).toEqual({ kind: 'packet', ifname: 'eth1' });
    expect(p.vif).toEqual({ txSlots: 1024, rxSlots: 1024, policy: { macLock: false } });
    expect(p.info).toEqual({ kind: 'uplink', ifname: 'eth1', mode: 'packet', text: 'uplink eth1 (packet)' });
    expect(planUplink(parseUplinkAdd({ ifname: 'eth1', ...parseVlanText('10') }), BIN, facts(VETH)).vif.vlan).toBe(10);
    expect(planUplink(parseUplinkAdd({ ifname: 'eth1', ...parseVlanText('10+20'), nativeVid: 30, name: 'up0' }), BIN, facts(VETH))).toMatchObject({
      domainName: 'up0', vif: { policy: { macLock: false, trunk: { vids: [10, 20], nativeVid: 30 } } },
    });
    // packet never asks for the probe's verdict
    expect(planUplink(parseUplinkAdd({ ifname: 'eth1', mode: 'packet' }), BIN, facts(VETH)).wire.kind).toBe('packet');
  });

  it('8.1b --mode xdp and auto on an interface the probe accepts: vpio-uplink --wire xdp on the AF_XDP wire with vpio\'s XDP object', () => {
    for (const mode of ['xdp', 'auto', undefined] as const) {
      const p = planUplink(parseUplinkAdd({ ifname: 'eth1', ...(mode ? { mode } : {}) }), BIN, facts(VETH));
      expect(p.domainName).toBe('uplink-eth1');
      expect(p.args).toEqual(['/x/vpio-uplink', '--wire', 'xdp', '--stats-interval', '1000']);
      // 4096-byte UMEM frames: XDP's headroom plus a whole 2048-byte vif buffer
      expect(p.wire).toEqual({ kind: 'xdp', ifname: 'eth1', obj: '/x/kernel/build/xdp_vpio.bpf.o', frameSize: 4096 });
      expect(p.vif).toEqual({ txSlots: 1024, rxSlots: 1024, policy: { macLock: false } });
      expect(p.info).toEqual({ kind: 'uplink', ifname: 'eth1', mode: 'xdp', text: 'uplink eth1 (xdp)' });
    }
    // the tenant's stats line says how it was bound and attached
    const info = planUplink(parseUplinkAdd({ ifname: 'eth1' }), BIN, facts(VETH)).info;
    const line = (zc: number, native: number): string => `{"event":"stats","why":"interval","wire":{"kind":"xdp","name":"eth1","rx_packets":5,"zerocopy":${zc},"attach_native":${native},"queue":0},"vif":{}}`;
    expect(xdpWireNow(info, line(0, 1))).toMatchObject({ mode: 'xdp', bind: 'copy', attach: 'native', text: 'uplink eth1 (xdp copy native)' });
    expect(xdpWireNow(info, line(1, 0))).toMatchObject({ bind: 'zerocopy', attach: 'generic', text: 'uplink eth1 (xdp zerocopy generic)' });
    expect(xdpWireNow(info, undefined)).toBe(info);
    expect(xdpWireNow(info, '{"event":"stats","wire":{"kind":"xdp"}}')).toBe(info);
    const packet = planUplink(parseUplinkAdd({ ifname: 'eth1', mode: 'packet' }), BIN).info;
    expect(xdpWireNow(packet, line(1, 1))).toBe(packet);
  });

  it('8.1c --mode auto falls back to packet with the probe\'s reason; --mode xdp refuses with it, before any domain', () => {
    const p = planUplink(parseUplinkAdd({ ifname: 'up1' }), BIN, facts(TWO_QUEUES));
    expect(p.args).toEqual(['/x/vpio-uplink', '--wire', 'packet', '--stats-interval', '1000']);
    expect(p.wire).toEqual({ kind: 'packet', ifname: 'up1' });
    expect(p.info).toEqual({
      kind: 'uplink', ifname: 'up1', mode: 'packet', fallback: TWO_QUEUES.why,
      text: 'uplink up1 (packet)',
    });
    expect(() => planUplink(parseUplinkAdd({ ifname: 'up1', mode: 'xdp' }), BIN, facts(TWO_QUEUES))).toThrow(
      'uplink up1 --mode xdp: up1 has 2 rx queues; the AF_XDP wire serves one queue: ethtool -L up1 rx 1 (or combined 1), or --mode packet',
    );
    expect(() => planUplink(parseUplinkAdd({ ifname: 'up1', mode: 'xdp' }), BIN, facts(NO_BPF))).toThrow(
      'uplink up1 --mode xdp: no CAP_BPF: cannot load the XDP program; --mode packet (or auto) uses AF_PACKET',
    );
    // the XDP object not built: auto falls back saying so, xdp refuses
    const unbuilt = (): string => {
      throw new CliError('CLI_UPLINK', 'kernel/build/xdp_vpio.bpf.o is not built: run `npx turbo run build --filter=@vpio/kernel` (or set VPIO_XDP_OBJ)');
    };
    expect(planUplink(parseUplinkAdd({ ifname: 'up1' }), BIN, facts(VETH, unbuilt)).info).toMatchObject({ mode: 'packet', fallback: expect.stringMatching(/xdp_vpio\.bpf\.o is not built/) });
    expect(() => planUplink(parseUplinkAdd({ ifname: 'up1', mode: 'xdp' }), BIN, facts(VETH, unbuilt))).toThrow(/--mode xdp: kernel\/build\/xdp_vpio\.bpf\.o is not built/);
    // no verdict at all
    expect(planUplink(parseUplinkAdd({ ifname: 'up1' }), BIN).info).toMatchObject({ mode: 'packet', fallback: 'AF_XDP was not probed' });
    expect(() => planUplink(parseUplinkAdd({ ifname: 'up1', mode: 'xdp' }), BIN)).toThrow(/uplink up1 --mode xdp: AF_XDP was not probed/);
  });

  it('8.1d vpio-xdp-probe\'s line: read field by field; nonsense, an unknown mode or a failed probe is "not possible" with the reason', async () => {
    expect(VETH).toEqual({ packet: true, possible: true, mode: 'copy', attach: 'native', driver: 'veth', rxQueues: 1, why: 'driver veth has native XDP but no AF_XDP zero-copy: copy mode' });
    expect(TWO_QUEUES).toMatchObject({ possible: false, rxQueues: 2 });
    expect(parseXdpProbe('{"packet":false,"possible":true,"mode":"zerocopy","attach":"generic","driver":"x","rx_queues":1,"why":"w"}')).toMatchObject({ possible: true, mode: 'zerocopy', attach: 'generic', rxQueues: 1 });
    expect(parseXdpProbe('{"packet":true,"xdp":{"possible":true,"mode":"turbo","attach":"native","why":""}}')).toMatchObject({ possible: false, mode: 'none' });
    expect(parseXdpProbe('Segmentation fault')).toMatchObject({ possible: false, why: expect.stringMatching(/^vpio-xdp-probe printed no JSON line/) });
    expect(parseXdpProbe('null')).toMatchObject({ possible: false });
    fc.assert(fc.property(fc.jsonValue(), (v) => {
      const p = parseXdpProbe(JSON.stringify(v));
      expect(typeof p.why).toBe('string');
      expect(p.why.length).toBeGreaterThan(0);
      if (p.possible) expect(p.mode).not.toBe('none');
    }), { numRuns: 500 });
    expect(await probeXdp('eth1', () => '/nonexistent/vpio-xdp-probe')).toMatchObject({ possible: false, why: expect.stringMatching(/^vpio-xdp-probe eth1 failed: /) });
    expect(await probeXdp('eth1', () => {
      throw new CliError('CLI_UPLINK', 'vpio-xdp-probe is not built: run `npx turbo run build --filter=@vpio/uplink` (or set VPIO_XDP_PROBE)');
    })).toMatchObject({ possible: false, why: expect.stringMatching(/^vpio-xdp-probe is not built/) });
  });

  it('8.2 a vxlan port is domain vxlan-NAME: the UDP wire on LOCAL:4789, a trunk of the mapped VIDs, remotes flooded', () => {
    const a = parseVxlanAdd({ name: 'dc2', local: '10.99.0.1', vnis: parseVniText(['10:5010,20:5020']), remotes: ['10.99.0.2', '10.99.0.3:8472'] });
    expect(a).toEqual({ name: 'dc2', local: '10.99.0.1:4789', vnis: [{ vid: 10, vni: 5010 }, { vid: 20, vni: 5020 }], remotes: ['10.99.0.2:4789', '10.99.0.3:8472'], noLearn: false });
    const p = planVxlan(a, BIN);
    expect(p.domainName).toBe('vxlan-dc2');
    expect(p.args).toEqual(['/x/vpio-uplink', '--wire', 'vxlan', '--vni', '10:5010,20:5020', '--remote', '10.99.0.2', '--remote', '10.99.0.3:8472', '--dst-port', '4789', '--stats-interval', '1000']);
    expect(p.wire).toEqual({ kind: 'udp', bind: '10.99.0.1:4789' });
    expect(p.vif).toEqual({ txSlots: 1024, rxSlots: 1024, policy: { macLock: false, trunk: { vids: [10, 20] } } });
    expect(p.info.text).toBe('vxlan 10.99.0.1:4789 → 10.99.0.2,10.99.0.3:8472');
    const six = planVxlan(parseVxlanAdd({ name: 'v6', local: '[fd99::1]:4790', vnis: [{ vid: 5, vni: 1 }], remotes: ['fd99::2'], noLearn: true }), BIN);
    expect(six.wire).toEqual({ kind: 'udp', bind: '[fd99::1]:4790' });
    expect(six.args).toEqual(expect.arrayContaining(['--remote', 'fd99::2', '--no-learn', '--dst-port', '4790']));
    expect(normaliseEndpoint('--local', 'fd99::1')).toMatchObject({ text: '[fd99::1]:4789', family: 6 });
  });

  it('8.2b a memif port is domain memif-NAME: vpio-uplink --wire memif --id N [--secret S], the memif wire at SOCKET, a vif like an uplink\'s', () => {
    const p = planMemif(parseMemifAdd({ name: 'p0', socket: '/run/vpio/p0.sock', vlan: 10 }), BIN);
    expect(p.domainName).toBe('memif-p0');
    expect(p.args).toEqual(['/x/vpio-uplink', '--wire', 'memif', '--id', '0', '--rx-mode', 'interrupt', '--stats-interval', '1000']);
    expect(p.wire).toEqual({ kind: 'memif', path: '/run/vpio/p0.sock' });
    expect(p.vif).toEqual({ txSlots: 1024, rxSlots: 1024, vlan: 10, policy: { macLock: false } });
    expect(p.info).toEqual({ kind: 'memif', name: 'p0', socket: '/run/vpio/p0.sock', id: 0, secret: false, text: 'memif /run/vpio/p0.sock' });
    const s = planMemif(parseMemifAdd({ name: 'p1', socket: '/run/p1.sock', id: 7, secret: 's3cret', ...parseVlanText('10+20') }), BIN);
    expect(s.args).toEqual(['/x/vpio-uplink', '--wire', 'memif', '--id', '7', '--rx-mode', 'interrupt', '--stats-interval', '1000']);
    expect(s.env).toEqual({ VPIO_MEMIF_SECRET: 's3cret' }); // not on the command line: ps shows that to everyone
    expect(planMemif(parseMemifAdd({ name: 'p2', socket: '/run/p2.sock', rxMode: 'poll' }), BIN).args).toContain('poll');
    expect(s.vif.policy).toEqual({ macLock: false, trunk: { vids: [10, 20] } });
    expect(JSON.stringify(s.info)).not.toContain('s3cret');
    const bad: Array<[unknown, RegExp]> = [
      [{ name: 'p', socket: 'rel.sock' }, /--socket: expected an absolute socket path/],
      [{ name: 'p', socket: `/${'x'.repeat(107)}` }, /--socket/],
      [{ name: 'p', socket: '/run/p.sock', id: -1 }, /--id: expected an integer in \[0, 4294967295\]/],
      [{ name: 'p', socket: '/run/p.sock', id: 2 ** 32 }, /--id/],
      [{ name: 'p', socket: '/run/p.sock', secret: 'x'.repeat(25) }, /--secret: expected 1\.\.24 bytes/],
      [{ name: 'p', socket: '/run/p.sock', secret: 'a\nb' }, /--secret/],
      [{ name: 'p', socket: '/run/p.sock', vlan: 4095 }, /--vlan/],
      [{ name: 'p', socket: '/run/p.sock', vlan: 10, trunk: [20] }, /--vlan: expected one VLAN/],
      [{ name: 'a/b', socket: '/run/p.sock' }, /NAME/],
      [{ name: 'p', socket: '/run/p.sock', ifname: 'eth0' }, /ifname: expected one of name, socket/],
      [{ name: 'p', socket: '/run/p.sock', rxMode: 'busy' }, /--rx-mode: expected interrupt or poll/],
    ];
    for (const [raw, re] of bad) expect(() => parseMemifAdd(raw), JSON.stringify(raw)).toThrow(re);
  });

  it('8.3 refuses bad requests naming the part', () => {
    const bad: Array<[() => unknown, string]> = [
      [() => parseUplinkAdd({ ifname: 'a-very-long-name0' }), 'IFNAME: expected an interface name'],
      [() => parseUplinkAdd({ ifname: '' }), 'IFNAME: expected an interface name'],
      [() => parseUplinkAdd({ ifname: 'eth1', mode: 'dpdk' }), '--mode: expected auto, packet or xdp'],
      [() => parseUplinkAdd({ ifname: 'eth1', vlan: 4095 }), '--vlan: expected a VLAN id in [1, 4094]'],
      [() => parseUplinkAdd({ ifname: 'eth1', vlan: 10, trunk: [20] }), '--vlan: expected one VLAN (access) or a trunk'],
      [() => parseUplinkAdd({ ifname: 'eth1', nativeVid: 5 }), '--native-vlan: expected only with a trunk'],
      [() => parseUplinkAdd({ ifname: 'eth1', trunk: [5, 6], nativeVid: 5 }), '--native-vlan: expected a VLAN not also tagged'],
      [() => parseUplinkAdd({ ifname: 'eth1', colour: 1 }), 'colour: expected one of ifname'],
      [() => parseVlanText('0'), '--vlan: expected a VLAN id in [1, 4094]'],
      [() => parseVlanText('10+10'), '--vlan: expected each VLAN id once'],
      [() => parseVniText(['10']), '--vni: expected VID:VNI pairs'],
      [() => parseVniText(['0:5']), '--vni #1 VID: expected a VLAN id in [1, 4094], got 0'],
      [() => parseVniText(['4095:5']), '--vni #1 VID: expected a VLAN id in [1, 4094], got 4095'],
      [() => parseVniText(['10:0']), `--vni #1 VNI: expected a VNI in [1, ${VNI_MAX}], got 0`],
      [() => parseVniText([`10:${VNI_MAX + 1}`]), `--vni #1 VNI: expected a VNI in [1, ${VNI_MAX}], got ${VNI_MAX + 1}`],
      [() => parseVniText(['10:5', '10:6']), '--vni: expected each VID once (VID 10 is mapped twice)'],
      [() => parseVniText(['10:5,20:5']), '--vni: expected each VNI once (VNI 5 is mapped twice)'],
      [() => parseVxlanAdd({ name: 'x', local: '10.99.0.1', vnis: [] }), '--vni: expected at least one VID:VNI mapping'],
      [() => parseVxlanAdd({ name: 'x', local: '10.99.0.1:0', vnis: [{ vid: 1, vni: 1 }] }), '--local: expected an IPv4 or IPv6 ADDR'],
      [() => parseVxlanAdd({ name: 'x', local: 'host.example', vnis: [{ vid: 1, vni: 1 }] }), '--local: expected an IPv4 or IPv6 ADDR'],
      [() => parseVxlanAdd({ name: 'x', local: '10.99.0.1', vnis: [{ vid: 1, vni: 1 }], remotes: ['fd99::2'] }), '--remote: expected an IPv4 address like --local 10.99.0.1:4789'],
      [() => parseVxlanAdd({ name: 'x', local: '10.99.0.1', vnis: [{ vid: 1, vni: 1 }], remotes: ['10.99.0.2', '10.99.0.2:4789'] }), '--remote: expected each remote once'],
      [() => parseVxlanAdd({ name: 'x', local: '10.99.0.1', vnis: [{ vid: 1, vni: 1 }], noLearn: true }), '--no-learn: expected at least one --remote'],
      [() => parseVxlanAdd({ name: 'a/b', local: '10.99.0.1', vnis: [{ vid: 1, vni: 1 }] }), 'NAME: expected 1..58 characters'],
    ];
    for (const [f, message] of bad) expect(f, message).toThrow(message);
  });

  it('8.4 never throws anything but ArgumentError on arbitrary requests', () => {
    fc.assert(fc.property(fc.jsonValue(), fc.jsonValue(), (u, x) => {
      for (const f of [() => parseUplinkAdd(u), () => parseVxlanAdd(x)]) {
        try {
          f();
        } catch (e) {
          expect((e as { code?: string }).code).toBe('ERR_ARGUMENT');
        }
      }
    }), { numRuns: 1000 });
  });

  it('8.5 ls shows a WIRE column with the kind and wire of uplink and vxlan ports', () => {
    const policy = { macLock: false, lossless: false, trunk: undefined, ratePps: undefined, burstPackets: undefined, rateBps: undefined, burstBytes: undefined, floodPps: undefined, floodBurst: undefined, maxMacs: undefined };
    const vif = { devid: 0, mtu: 1500, backendState: 4, backendStateName: 'Connected', frontendState: 4, frontendStateName: 'Connected', error: undefined, vlan: undefined, queues: 1, policy };
    const r: LsResult = {
      domains: [
        { domid: 1, name: 'uplink-eth1', pid: 10, state: 'running', argv: [], vifs: [{ ...vif, mac: '02:00:00:00:00:01', port: 1, queuePorts: [1] }], wire: { kind: 'uplink', ifname: 'eth1', mode: 'packet', text: 'uplink eth1 (packet)' } },
        { domid: 2, name: 'vxlan-b', pid: 11, state: 'running', argv: [], vifs: [{ ...vif, mac: '02:00:00:00:00:02', port: 2, queuePorts: [2], policy: { ...policy, trunk: { vids: [10], nativeVid: undefined } } }], wire: { kind: 'vxlan', name: 'b', local: '10.99.0.1:4789', remotes: ['10.99.0.2:4789'], vnis: [{ vid: 10, vni: 5010 }], learn: true, text: 'vxlan 10.99.0.1:4789 → 10.99.0.2' } },
        { domid: 3, name: 'g', pid: 12, state: 'running', argv: [], vifs: [] },
      ],
    };
    expect(formatLs(r).split('\n')).toEqual([
      'DOMID  NAME         STATE    PID  VIF  MAC                VLAN      BACKEND    FRONTEND   PORT  POLICY      WIRE',
      '1      uplink-eth1  running  10   0    02:00:00:00:00:01  -         Connected  Connected  1     mac-lock=0  uplink eth1 (packet)',
      '2      vxlan-b      running  11   0    02:00:00:00:00:02  trunk 10  Connected  Connected  2     mac-lock=0  vxlan 10.99.0.1:4789 → 10.99.0.2',
      '3      g            running  12   -                                                                         -',
    ]);
  });

  it('8.6 doctor says whether AF_PACKET and AF_XDP uplinks are possible and why, without failing for them', () => {
    const cfg = 'CONFIG_PACKET=y\nCONFIG_XDP_SOCKETS=y\nCONFIG_BPF_SYSCALL=y\n';
    expect(kernelOption(cfg, 'CONFIG_PACKET')).toBe('y');
    expect(kernelOption('# CONFIG_PACKET is not set\n', 'CONFIG_PACKET')).toBe('n');
    expect(kernelOption(undefined, 'CONFIG_PACKET')).toBeUndefined();
    const root = uplinkChecks({ capEff: (1n << 40n) - 1n, config: cfg, configSource: '/proc/config.gz' });
    expect(root[0]).toMatchObject({ name: 'uplink-packet', ok: true, reason: 'CAP_NET_RAW, CONFIG_PACKET=y (/proc/config.gz)' });
    expect(root[1]).toMatchObject({ name: 'uplink-xdp', ok: true });
    expect(root[1]!.reason).toContain('the kernel has XDP sockets (CONFIG_XDP_SOCKETS=y');
    expect(root[1]!.reason).toContain('CAP_NET_ADMIN and CAP_BPF present; each interface is probed by `vpio uplink add IFNAME`');
    const user = uplinkChecks({ capEff: 0n, config: undefined, configSource: undefined });
    expect(user[0]).toMatchObject({ ok: false, fix: 'run `vpio up` as root' });
    expect(user[1]).toMatchObject({ ok: false, fix: 'run `vpio up` as root' });
    expect(user[1]!.reason).toContain('XDP socket support unknown (no kernel config found');
    expect(user[1]!.reason).toContain('with CAP_NET_ADMIN and CAP_BPF (or CAP_SYS_ADMIN), which this user lacks');
    // no kernel config: assumed, as AF_PACKET is
    expect(uplinkChecks({ capEff: (1n << 40n) - 1n, config: undefined, configSource: undefined })[1]).toMatchObject({ ok: true });
    const noPacket = uplinkChecks({ capEff: (1n << 40n) - 1n, config: '# CONFIG_PACKET is not set\n# CONFIG_XDP_SOCKETS is not set\n', configSource: '/boot/config-x' });
    expect(noPacket[0]).toMatchObject({ ok: false, reason: 'the kernel has no AF_PACKET (CONFIG_PACKET is not set, /boot/config-x)' });
    expect(noPacket[1]).toMatchObject({ ok: false, fix: expect.stringContaining('CONFIG_XDP_SOCKETS=y') });
    expect(noPacket[1]!.reason).toContain('the kernel lacks XDP sockets (CONFIG_XDP_SOCKETS=n');
    const text = formatDoctor({ ok: true, mode: 'root', checks: [], optional: [root[0]!, user[1]!] });
    expect(text).toMatch(/^ok {7}uplink-packet \(optional\): CAP_NET_RAW/m);
    expect(text).toMatch(/^no {7}uplink-xdp \(optional\): /m);
    expect(text).toContain('everything vpio needs is here');
  });
});

describe('vpio uplink / vpio vxlan on the command line', () => {
  it('8.7 bad arguments exit 2 naming the part, before any daemon is asked; --help for each', async () => {
    const cases: Array<[string[], string]> = [
      [['uplink'], '<subcommand>: expected add or rm'],
      [['uplink', 'add'], '<IFNAME>: expected exactly one interface name'],
      [['uplink', 'add', 'eth1', '--vlan', '5000'], '--vlan: expected a VLAN id in [1, 4094]'],
      [['uplink', 'add', 'eth1', '--mode', 'fast'], '--mode: expected auto, packet or xdp'],
      [['vxlan', 'add', 'b', '--vni', '10:5'], '--local: expected the local VTEP address'],
      [['vxlan', 'add', 'b', '--local', '10.99.0.1'], '--vni: expected VID:VNI'],
      [['vxlan', 'add', 'b', '--local', '10.99.0.1', '--vni', '10:16777216'], '--vni #1 VNI: expected a VNI in [1, 16777215]'],
      [['vxlan', 'add', 'b', '--local', '10.99.0.1', '--vni', '10:5', '--vni', '20:5'], '--vni: expected each VNI once'],
      [['vxlan', 'rm'], '<NAME>: expected exactly one VXLAN port name'],
      [['memif', 'add', 'p0'], '--socket: expected the socket path'],
      [['memif', 'add', 'p0', '--socket', 'rel.sock'], '--socket: expected an absolute socket path'],
      [['memif', 'add', 'p0', '--socket', '/run/p0.sock', '--id', 'x'], '--id: expected an integer in [0, 4294967295]'],
      [['memif', 'add', 'p0', '--socket', '/run/p0.sock', '--vlan', '0'], '--vlan: expected a VLAN id'],
      [['memif', 'rm'], '<NAME>: expected exactly one memif port name'],
    ];
    const runs = await Promise.all(cases.map(([args]) => vpio([...args, '--dir', '/nonexistent/vpio'])));
    for (const [i, [args, message]] of cases.entries()) {
      expect(runs[i]!.code, args.join(' ')).toBe(2);
      expect(runs[i]!.stderr, args.join(' ')).toContain(message);
    }
    // --mode xdp is the platform's to decide (it probes the interface): the command line asks it
    const xdp = await vpio(['uplink', 'add', 'eth1', '--mode', 'xdp', '--dir', '/nonexistent/vpio']);
    expect(xdp.code).toBe(1);
    expect(xdp.stderr).toMatch(/no vpio platform is running on \/nonexistent\/vpio/);
    for (const cmd of ['uplink', 'vxlan', 'memif']) {
      for (const args of [[cmd, '--help'], [cmd, 'add', '--help'], [cmd, 'rm', '--help']]) {
        const h = await vpio(args);
        expect(h.code).toBe(0);
        expect(h.stdout).toContain(`usage: vpio ${cmd} add`);
        expect(h.stdout).toContain(`vpio ${cmd} rm`);
      }
    }
  });
});

describe('uplink and vxlan requests on the control socket', () => {
  const t = tempBase();
  let platform: Platform;
  let server: ControlServer;

  beforeAll(async () => {
    platform = new Platform({ dir: t.dir, cores: [] });
    await platform.start();
    server = await ControlServer.listen({ path: join(t.dir, 'vpio.sock'), platform, onDown: () => undefined });
  });

  afterAll(async () => {
    await server.close();
    await platform.close();
    t.cleanup();
  });

  function ask(lines: unknown[]): Promise<Array<{ id: number; ok: boolean; error?: { code: string; message: string; parameter?: string } }>> {
    return new Promise((resolve) => {
      const s = connect(join(t.dir, 'vpio.sock'));
      let buf = '';
      s.on('data', (c) => {
        buf += c.toString();
        const got = buf.split('\n').filter(Boolean);
        if (got.length >= lines.length) {
          s.destroy();
          resolve(got.map((l) => JSON.parse(l)));
        }
      });
      s.write(lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
    });
  }

  it('8.8 validates every field, names the parameter, and refuses to remove what is not there', async () => {
    const r = await ask([
      { id: 1, cmd: 'uplink-add', args: { ifname: 'eth1', vlan: 0 } },
      { id: 2, cmd: 'uplink-add', args: 'eth1' },
      { id: 3, cmd: 'vxlan-add', args: { name: 'b', local: '10.99.0.1', vnis: [{ vid: 10, vni: 2 ** 24 }] } },
      { id: 4, cmd: 'vxlan-add', args: { name: 'b', local: '10.99.0.1', vnis: [{ vid: 10, vni: 1 }, { vid: 10, vni: 2 }] } },
      { id: 5, cmd: 'uplink-rm', args: { ifname: 'eth1' } },
      { id: 6, cmd: 'vxlan-rm', args: {} },
      { id: 7, cmd: 'uplink-add', args: { ifname: 'vpio-nx0', mode: 'xdp' } },
      { id: 8, cmd: 'ls' },
    ]);
    expect(r.map((x) => [x.id, x.ok, x.error?.code, x.error?.parameter])).toEqual([
      [1, false, 'ERR_ARGUMENT', '--vlan'], [2, false, 'ERR_ARGUMENT', 'args'], [3, false, 'ERR_ARGUMENT', '--vni #1 VNI'],
      [4, false, 'ERR_ARGUMENT', '--vni'], [5, false, 'CLI_NO_SUCH_DOMAIN', undefined], [6, false, 'ERR_ARGUMENT', 'name'],
      [7, false, 'CLI_UPLINK', undefined], [8, true, undefined, undefined],
    ]);
    expect(r[4]!.error!.message).toBe('no uplink on "eth1" (none is running); see `vpio ls`');
    // --mode xdp asks vpio-xdp-probe first and refuses with its reason: no domain was started
    expect(r[6]!.error!.message).toMatch(/^uplink vpio-nx0 --mode xdp: (no interface vpio-nx0|vpio-xdp-probe)/);
    expect((r[7] as unknown as { result: LsResult }).result.domains).toEqual([]);
  });
});
