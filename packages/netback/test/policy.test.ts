/**
 * 4. Vif policies. Objective: createVif's `policy` is validated at the
 * boundary (nothing is made when it is bad), reported in VifInfo, and
 * reaches the switch port: real C guests send through a trunk vif and
 * through rate- and flood-limited vifs, and the switch's per-port counters
 * show what the policy did. The fixture's switch runs a manual clock that
 * never advances, so a token bucket holds exactly its burst: the counts
 * are exact, no timing involved.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PortStats } from '@vpio/switch';
import { Dom0, MAC, VIF } from './fixtures.js';

let dom0: Dom0;
beforeEach(async () => {
  dom0 = await Dom0.start({ lossless: false });
  for (const d of [1, 2, 3, 4]) await dom0.introduce(d);
});
afterEach(async () => {
  await dom0.close();
});

/** The switch counters of domain `domid`'s vif 0 (undefined until it is attached). */
function portOf(domid: number): PortStats | undefined {
  const id = dom0.netback.vifs(domid)[0]?.port;
  return id === undefined ? undefined : dom0.sw.stats().ports.find((p) => p.id === id);
}

describe('4. vif policies', () => {
  it('4.1 rejects a bad policy naming the field, and makes nothing', async () => {
    const bad: Array<[unknown, string]> = [
      [{ ratePps: 0 }, 'options.policy.ratePps: expected an integer in [1, 10000000000], got 0'],
      [{ burstPackets: 5 }, 'options.policy.burstPackets: expected absent without options.policy.ratePps'],
      [{ floodBurst: 5 }, 'options.policy.floodBurst: expected absent without options.policy.floodPps'],
      [{ burstBytes: 5 }, 'options.policy.burstBytes: expected absent without options.policy.rateBps'],
      [{ trunk: { vids: [10, 4095] } }, 'options.policy.trunk.vids[1]: expected an integer in [1, 4094], got 4095'],
      [{ trunk: { vids: [10, 10] } }, 'options.policy.trunk.vids: expected each VLAN id once, got 10'],
      [{ trunk: { vids: [] } }, 'options.policy.trunk.vids: expected at least one VLAN id (or a nativeVid)'],
      [{ trunk: [10] }, 'options.policy.trunk: expected an object { vids, nativeVid? }'],
      [{ macLock: 'no' }, 'options.policy.macLock: expected a boolean, got "no"'],
      [{ rateLimit: 5 }, 'options.policy.rateLimit: expected one of the keys macLock, lossless, trunk'],
      [{ maxMacs: 1 << 25 }, 'options.policy.maxMacs: expected an integer in [1, 16777216]'],
      ['fast', 'options.policy: expected an object, got "fast"'],
    ];
    for (const [policy, message] of bad) {
      await expect(dom0.netback.createVif(1, { ...VIF, mac: MAC(1), policy } as never), JSON.stringify(policy)).rejects.toThrow(message);
    }
    await expect(dom0.netback.createVif(1, { ...VIF, mac: MAC(1), vlan: 10, policy: { trunk: { vids: [20] } } }))
      .rejects.toThrow('options.vlan: expected absent on a trunk vif');
    expect(dom0.netback.vifs()).toEqual([]);
    expect(await dom0.dirOf('/local/domain/0/backend/vpio-vif/1')).toBeUndefined();
  });

  it('4.2 VifInfo reports the policy with its defaults (MAC lock on, lossless from the Netback option)', async () => {
    const plain = await dom0.netback.createVif(1, { ...VIF, mac: MAC(1), vlan: 10 });
    expect(plain.policy).toEqual({
      macLock: true, lossless: false, trunk: undefined, ratePps: undefined, burstPackets: undefined, rateBps: undefined,
      burstBytes: undefined, floodPps: undefined, floodBurst: undefined, maxMacs: undefined,
    });
    const full = await dom0.netback.createVif(2, {
      ...VIF, mac: MAC(2),
      policy: { macLock: false, lossless: true, trunk: { vids: [20, 10], nativeVid: 30 }, ratePps: 1000, burstPackets: 10, rateBps: 8_000_000, burstBytes: 100_000, floodPps: 50, floodBurst: 5, maxMacs: 4 },
    });
    expect(full.vlan).toBeUndefined();
    expect(full.policy).toEqual({
      macLock: false, lossless: true, trunk: { vids: [20, 10], nativeVid: 30 }, ratePps: 1000, burstPackets: 10, rateBps: 8_000_000,
      burstBytes: 100_000, floodPps: 50, floodBurst: 5, maxMacs: 4,
    });
    expect(dom0.netback.vifs(2)[0]!.policy).toEqual(full.policy);
  });

  it('4.3 a trunk vif carries two VLANs and nothing else; its untagged frames (no native VLAN) are dropped as vlan', async () => {
    const trunk = await dom0.netback.createVif(1, { ...VIF, mac: MAC(1), policy: { trunk: { vids: [10, 20] } } });
    const on10 = await dom0.netback.createVif(2, { ...VIF, mac: MAC(2), vlan: 10 });
    const on20 = await dom0.netback.createVif(3, { ...VIF, mac: MAC(3), vlan: 20 });
    const on30 = await dom0.netback.createVif(4, { ...VIF, mac: MAC(4), vlan: 30 });
    const t = await dom0.spawnGuest(trunk, ['--peer', MAC(2), '--count', '10']);
    const a = await dom0.spawnGuest(on10, ['--peer', MAC(1), '--count', '30']);
    const b = await dom0.spawnGuest(on20, ['--peer', MAC(1), '--count', '50']);
    const c = await dom0.spawnGuest(on30, ['--peer', MAC(1), '--count', '70']);
    await Promise.all([t, a, b, c].map((g) => g.next('connected')));
    for (const g of [t, a, b, c]) g.send('go');
    await expect.poll(() => [1, 2, 3, 4].map((d) => portOf(d)?.inPackets), { timeout: 10_000 }).toEqual([10, 30, 50, 70]);
    // VLAN 10 and 20 reach the trunk (tagged), VLAN 30 does not
    expect(portOf(1)!.outPackets).toBe(80);
    expect(portOf(1)!.drops.vlan).toBe(10);
    expect(portOf(2)!.outPackets).toBe(0);
    expect(portOf(4)!.fwdPackets).toBe(0);
  });

  it('4.4 rate- and flood-limited vifs pass their burst and count the rest as rate_limit / flood_limit', async () => {
    const rated = await dom0.netback.createVif(1, { ...VIF, mac: MAC(1), policy: { ratePps: 1000, burstPackets: 10 } });
    const flooding = await dom0.netback.createVif(2, { ...VIF, mac: MAC(2), policy: { floodPps: 100, floodBurst: 5 } });
    const sink = await dom0.netback.createVif(3, { ...VIF, mac: MAC(3) });
    // the sink's MAC is a static entry (MAC lock): a's frames to it are unicast; b sends to a MAC
    // no port has, so each of its frames is a flood (to the sink and to a)
    const a = await dom0.spawnGuest(rated, ['--peer', MAC(3), '--count', '100']);
    const b = await dom0.spawnGuest(flooding, ['--peer', MAC(9), '--count', '100']);
    const s = await dom0.spawnGuest(sink, ['--no-traffic']);
    await Promise.all([a, b, s].map((g) => g.next('connected')));
    a.send('go');
    b.send('go');
    await expect.poll(() => [portOf(1)?.inPackets, portOf(2)?.inPackets], { timeout: 10_000 }).toEqual([100, 100]);
    expect(portOf(1)!.drops.rate_limit).toBe(90);
    expect(portOf(2)!.drops.flood_limit).toBe(95);
    expect(portOf(2)!.drops.rate_limit).toBe(0);
    expect(portOf(3)!.outPackets).toBe(15);
  });
});
