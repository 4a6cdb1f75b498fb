/**
 * Scenario 10 (the wire's options, pure): objective: an AF_XDP wire
 * { kind: 'xdp', ifname, obj, queue?, bind?, attach?, frameSize? } becomes
 * vpio-launch's --wire-xdp IFNAME --wire-xdp-obj PATH, with
 * --wire-xdp-queue, --wire-xdp-bind, --wire-xdp-attach and
 * --wire-xdp-frame-size only when they differ from the launcher's defaults
 * (0, auto, auto, 2048); a bad part fails at the boundary
 * naming it (wire.ifname, wire.obj, wire.queue, ...). No process, no root:
 * scenario 10 in wire.test.ts runs the launcher itself.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { XDP_MAX_QUEUES, resolveDomainOptions, resolveWireOptions, wireLauncherArgs, type DomainWireOptions } from '../src/index.js';

const OBJ = '/opt/vpio/kernel/build/xdp_vpio.bpf.o';
const args = (wire: unknown): string[] => wireLauncherArgs(resolveWireOptions(wire as DomainWireOptions));

describe('an AF_XDP wire\'s options', () => {
  it('10.11 xdp: --wire-xdp IFNAME --wire-xdp-obj PATH; queue, bind and attach only when not the defaults', () => {
    expect(resolveWireOptions({ kind: 'xdp', ifname: 'eth1', obj: OBJ })).toEqual({ kind: 'xdp', ifname: 'eth1', obj: OBJ, queue: 0, bind: 'auto', attach: 'auto', frameSize: 2048 });
    expect(args({ kind: 'xdp', ifname: 'eth1', obj: OBJ })).toEqual(['--wire-xdp', 'eth1', '--wire-xdp-obj', OBJ]);
    expect(args({ kind: 'xdp', ifname: 'eth1', obj: OBJ, queue: 0, bind: 'auto', attach: 'auto', frameSize: 2048 })).toEqual(['--wire-xdp', 'eth1', '--wire-xdp-obj', OBJ]);
    expect(args({ kind: 'xdp', ifname: 'eth1', obj: OBJ, frameSize: 4096 })).toEqual(['--wire-xdp', 'eth1', '--wire-xdp-obj', OBJ, '--wire-xdp-frame-size', '4096']);
    expect(args({ kind: 'xdp', ifname: 'enp3s0f1', obj: OBJ, queue: 3, bind: 'zerocopy', attach: 'native' })).toEqual([
      '--wire-xdp', 'enp3s0f1', '--wire-xdp-obj', OBJ, '--wire-xdp-queue', '3', '--wire-xdp-bind', 'zerocopy', '--wire-xdp-attach', 'native',
    ]);
    expect(args({ kind: 'xdp', ifname: 'veth0', obj: OBJ, queue: XDP_MAX_QUEUES - 1, bind: 'copy', attach: 'generic' })).toEqual([
      '--wire-xdp', 'veth0', '--wire-xdp-obj', OBJ, '--wire-xdp-queue', String(XDP_MAX_QUEUES - 1), '--wire-xdp-bind', 'copy', '--wire-xdp-attach', 'generic',
    ]);
    // through createDomain's options, as vpiod takes them
    expect(resolveDomainOptions({ name: 'u', argv: ['/bin/true'], wire: { kind: 'xdp', ifname: 'eth1', obj: OBJ } }).wire).toMatchObject({ kind: 'xdp', ifname: 'eth1' });
  });

  it('10.12 xdp: rejects bad options at the boundary, naming the parameter', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ kind: 'xdp', obj: OBJ }, /wire\.ifname: expected an interface name/],
      [{ kind: 'xdp', ifname: 'a-very-long-name0', obj: OBJ }, /wire\.ifname/],
      [{ kind: 'xdp', ifname: 'eth/0', obj: OBJ }, /wire\.ifname/],
      [{ kind: 'xdp', ifname: 'eth0' }, /wire\.obj: expected the absolute path of vpio's XDP object/],
      [{ kind: 'xdp', ifname: 'eth0', obj: 'kernel/build/xdp_vpio.bpf.o' }, /wire\.obj/],
      [{ kind: 'xdp', ifname: 'eth0', obj: '/a\0b' }, /wire\.obj/],
      [{ kind: 'xdp', ifname: 'eth0', obj: `/${'x'.repeat(4095)}` }, /wire\.obj/],
      [{ kind: 'xdp', ifname: 'eth0', obj: OBJ, queue: -1 }, /wire\.queue/],
      [{ kind: 'xdp', ifname: 'eth0', obj: OBJ, queue: XDP_MAX_QUEUES }, /wire\.queue/],
      [{ kind: 'xdp', ifname: 'eth0', obj: OBJ, queue: 1.5 }, /wire\.queue/],
      [{ kind: 'xdp', ifname: 'eth0', obj: OBJ, queue: '1' }, /wire\.queue/],
      [{ kind: 'xdp', ifname: 'eth0', obj: OBJ, bind: 'zero-copy' }, /wire\.bind: expected 'auto', 'zerocopy' or 'copy'/],
      [{ kind: 'xdp', ifname: 'eth0', obj: OBJ, attach: 'skb' }, /wire\.attach: expected 'auto', 'native' or 'generic'/],
      [{ kind: 'xdp', ifname: 'eth0', obj: OBJ, frameSize: 3000 }, /wire\.frameSize: expected 2048 or 4096/],
      [{ kind: 'xdp', ifname: 'eth0', obj: OBJ, frameSize: '4096' }, /wire\.frameSize/],
      [{ kind: 'xdp', ifname: 'eth0', obj: OBJ, path: '/run/x.sock' }, /wire\.path: expected one of kind, ifname, obj, queue, bind, attach, frameSize/],
      [{ kind: 'af_xdp', ifname: 'eth0', obj: OBJ }, /wire\.kind: expected 'packet', 'udp', 'memif' or 'xdp'/],
    ];
    for (const [wire, re] of bad) expect(() => resolveWireOptions(wire as DomainWireOptions), JSON.stringify(wire)).toThrow(re);
  });

  it('10.13 never throws anything but ArgumentError on arbitrary wire options, and what it accepts the launcher gets back as given', () => {
    const wire = fc.record({
      kind: fc.constantFrom('xdp', 'packet', 'udp', 'memif', 'tap'),
      ifname: fc.oneof(fc.string({ maxLength: 17 }), fc.constantFrom('eth0', 'veth-a.1')),
      obj: fc.oneof(fc.string(), fc.constant(OBJ)),
      queue: fc.oneof(fc.integer({ min: -2, max: 70 }), fc.double(), fc.string()),
      bind: fc.oneof(fc.constantFrom('auto', 'zerocopy', 'copy'), fc.string()),
      attach: fc.oneof(fc.constantFrom('auto', 'native', 'generic'), fc.string()),
      frameSize: fc.oneof(fc.constantFrom(2048, 4096), fc.integer()),
    }, { requiredKeys: ['kind'] });
    fc.assert(fc.property(wire, (w) => {
      let r;
      try {
        r = resolveWireOptions(w as DomainWireOptions);
      } catch (e) {
        expect((e as { code?: string }).code).toBe('ERR_ARGUMENT');
        return;
      }
      if (r.kind !== 'xdp') return;
      const a = wireLauncherArgs(r);
      expect(a.slice(0, 4)).toEqual(['--wire-xdp', w.ifname, '--wire-xdp-obj', w.obj]);
      expect(a.includes('--wire-xdp-queue')).toBe((w.queue ?? 0) !== 0);
      expect(a.includes('--wire-xdp-bind')).toBe((w.bind ?? 'auto') !== 'auto');
      expect(a.includes('--wire-xdp-attach')).toBe((w.attach ?? 'auto') !== 'auto');
      expect(a.includes('--wire-xdp-frame-size')).toBe((w.frameSize ?? 2048) !== 2048);
    }), { numRuns: 2000 });
  });
});
