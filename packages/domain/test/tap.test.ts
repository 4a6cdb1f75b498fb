/**
 * Scenario 9 (a Linux guest's TAP device): objective: with `tap`, vpio-launch
 * creates the TAP device inside the domain's own network namespace while it
 * is still privileged there, configures it (MAC, MTU, IPv4 and IPv6
 * addresses, up, lo up, unprivileged ping), and hands the guest exactly one
 * extra descriptor, fd 4, attached to it (with `queues: N`, an
 * IFF_MULTI_QUEUE device and queue q at fd 4 + q); the tenant cannot create
 * another TAP, re-attach or persist its own, detach a queue or attach one
 * more, or change the device's addresses, MTU, MAC or flags. Real launcher,
 * real devices, inside the tenant (test/c/guest-probe.c tap).
 */
import { describe, expect, it } from 'vitest';
import { resolveDomainOptions, tapLauncherArgs } from '../src/index.js';
import { GUEST_PROBE, parseFacts, readAll, startVpiod } from './helpers.js';

const { vpiod } = await startVpiod();

async function probe(tap: Parameters<typeof vpiod.createDomain>[0]['tap'], name: string, tapMac?: string): Promise<Record<string, string>> {
  const d = await vpiod.createDomain(
    { name, argv: [GUEST_PROBE, 'tap'], stdout: 'pipe', tap },
    tapMac ? { beforeSpawn: async () => ({ tapMac }) } : {},
  );
  const text = await readAll(d.stdout);
  await d.released;
  expect(d.exit?.code, d.stderr).toBe(0);
  return parseFacts(text);
}

describe('a Linux guest with a TAP device', () => {
  it('has the configured TAP in its own namespace, with lo up and unprivileged ping', async () => {
    const f = await probe({ name: 'vif0', mac: '02:00:0A:00:00:01', mtu: 1400, ipv4: '10.77.0.1/24', ipv6: 'fd77::1/64' }, 'tap-a');
    expect(f.net_ifaces?.split(',').sort()).toEqual(['lo', 'vif0']);
    expect(f).toMatchObject({
      tap_fd: '4', tap_name: 'vif0', fd4: '/dev/net/tun', fd4_iff: 'vif0', fd4_flags: 'tap,no_pi',
      mac: '02:00:0a:00:00:01', mtu: '1400', up: '1', lo_up: '1', ipv4: '10.77.0.1', netmask: '255.255.255.0', ipv6: 'fd77::1/64',
      icmp_socket: 'OK',
    });
    const [lo, hi] = (f.ping_group_range ?? '').split(/\s+/);
    expect(lo).toBe(hi);
    expect(Number(lo)).toBeGreaterThan(0);
  });

  it('gets exactly one extra descriptor: fd 4, the TAP (one queue: not IFF_MULTI_QUEUE)', async () => {
    const f = await probe({ ipv4: '10.77.0.2/24' }, 'tap-b');
    expect(f.fds).toBe('0,1,2,3,4');
    expect(f).toMatchObject({ tap_queues: '1', fd4_multi_queue: '0' });
    expect(f.tap_name).toBe('eth0');
    expect(f.ipv4).toBe('10.77.0.2');
    expect(f.ipv6).toBe(''); // no global IPv6 address unless asked
  });

  it('cannot create another TAP, re-attach or persist its own, or change addresses, MTU, MAC or flags', async () => {
    const f = await probe({ ipv4: '10.77.0.3/24' }, 'tap-c');
    expect(f.new_tap).toBe('EPERM');
    expect(f.retap_fd4).toBe('EPERM'); // TUNSETIFF: refused by the filter (the launcher made the device)
    expect(f.persist_fd4).toBe('EPERM');
    expect(f.detach_queue_fd4).toBe('EPERM'); // TUNSETQUEUE: refused by the filter
    expect(f.attach_queue).toBe('EPERM');
    for (const k of ['set_addr', 'set_mtu', 'set_mac', 'set_down', 'packet_socket']) expect(f[k], k).toBe('EPERM');
  });

  it('with queues: 4 gets a multi-queue TAP, queue q at fd 4 + q, and can neither detach a queue nor attach another', async () => {
    const f = await probe({ ipv4: '10.77.0.5/24', vnetHdr: true, queues: 4 }, 'tap-mq');
    expect(f.fds).toBe('0,1,2,3,4,5,6,7');
    expect(f).toMatchObject({
      tap_fd: '4', tap_queues: '4', tap_name: 'eth0', fd4_iff: 'eth0', fd4_multi_queue: '1',
      fd5_iff: 'eth0', fd5_multi_queue: '1', fd6_iff: 'eth0', fd6_multi_queue: '1', fd7_iff: 'eth0', fd7_multi_queue: '1',
      ipv4: '10.77.0.5', up: '1',
    });
    expect(f.detach_queue_fd4).toBe('EPERM');
    // a fifth queue: the tun driver would let anyone in the namespace attach it (no owner set), the filter does not
    expect(f.attach_queue).toBe('EPERM');
    expect(f.retap_fd4).toBe('EPERM');
    expect(f.persist_fd4).toBe('EPERM');
  });

  it('takes the MAC the toolstack picks in beforeSpawn over tap.mac', async () => {
    const f = await probe({ mac: '02:00:00:00:00:01' }, 'tap-d', '02:00:00:00:0B:0B');
    expect(f.mac).toBe('02:00:00:00:0b:0b');
  });

  it('rejects bad tap options at the boundary, naming the parameter', () => {
    const base = { name: 'x', argv: ['/bin/true'] };
    expect(() => resolveDomainOptions({ ...base, tap: { name: 'lo' } })).toThrow(/tap\.name/);
    expect(() => resolveDomainOptions({ ...base, tap: { name: 'a-very-long-name0' } })).toThrow(/tap\.name/);
    expect(() => resolveDomainOptions({ ...base, tap: { mac: '03:00:00:00:00:01' } })).toThrow(/tap\.mac/);
    expect(() => resolveDomainOptions({ ...base, tap: { mtu: 67 } })).toThrow(/tap\.mtu/);
    expect(() => resolveDomainOptions({ ...base, tap: { ipv4: '10.0.0.1' } })).toThrow(/tap\.ipv4/);
    expect(() => resolveDomainOptions({ ...base, tap: { ipv4: '10.0.0.1/33' } })).toThrow(/tap\.ipv4/);
    expect(() => resolveDomainOptions({ ...base, tap: { ipv6: 'fd00::1/129' } })).toThrow(/tap\.ipv6/);
    expect(() => resolveDomainOptions({ ...base, tap: { colour: 'red' } as never })).toThrow(/tap\.colour/);
    expect(() => resolveDomainOptions({ ...base, env: { VPIO_TAP_FD: '9' } })).toThrow(/env\.VPIO_TAP_FD/);
    expect(() => resolveDomainOptions({ ...base, tap: { vnetHdr: 'yes' } as never })).toThrow(/tap\.vnetHdr/);
    expect(() => resolveDomainOptions({ ...base, tap: { queues: 0 } })).toThrow(/tap\.queues/);
    expect(() => resolveDomainOptions({ ...base, tap: { queues: 9 } })).toThrow(/tap\.queues/);
    expect(() => resolveDomainOptions({ ...base, tap: { queues: 1.5 } })).toThrow(/tap\.queues/);
    expect(() => resolveDomainOptions({ ...base, env: { VPIO_TAP_QUEUES: '9' } })).toThrow(/env\.VPIO_TAP_QUEUES/);
    expect(resolveDomainOptions({ ...base, tap: {} }).tap).toEqual({ name: 'eth0', mac: undefined, mtu: 1500, ipv4: undefined, ipv6: undefined, vnetHdr: false, queues: 1 });
    expect(tapLauncherArgs(resolveDomainOptions({ ...base, tap: { queues: 3 } }).tap!)).toEqual(expect.arrayContaining(['--tap-queues', '3']));
    expect(tapLauncherArgs(resolveDomainOptions({ ...base, tap: { queues: 1 } }).tap!)).not.toContain('--tap-queues');
    expect(tapLauncherArgs(resolveDomainOptions({ ...base, tap: { vnetHdr: true } }).tap!)).toContain('--tap-vnet-hdr');
    expect(tapLauncherArgs(resolveDomainOptions({ ...base, tap: {} }).tap!)).not.toContain('--tap-vnet-hdr');
  });
});
