/**
 * 1. The handshake on real parts: netback against netfront's C test guest,
 * a real xenstore daemon, real grants and a real switch. Objective: the
 * states and xenstore contents appear in DESIGN.md's order, only the
 * toolstack makes vifs, and a guest writing garbage gets an error node and
 * hurts nobody.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backendStep, ringRefKey } from '@vpio/vif';
import { Netback, NetbackError } from '../src/index.js';
import { Dom0, MAC, VIF, recordVif, until } from './fixtures.js';

let dom0: Dom0;
beforeEach(async () => {
  dom0 = await Dom0.start();
});
afterEach(async () => {
  await dom0.close();
});

describe('1.1 createVif publishes everything in one transaction', () => {
  it('writes both directories, the ring sizes and refs it granted, and backend InitWait, before any guest runs', async () => {
    await dom0.introduce(1);
    const log = recordVif(dom0.netback, 1);
    const vif = await dom0.netback.createVif(1, { mac: MAC(1), mtu: 9000, txSlots: 128, rxSlots: 512, bufSizeBytes: 9216 });
    expect(vif).toMatchObject({ domid: 1, devid: 0, backendPath: '/local/domain/0/backend/vpio-vif/1/0', frontendPath: '/local/domain/1/device/vpio-vif/0', backendState: 2 });
    expect(log).toEqual(['backend 2']);
    const fe = await dom0.dirOf(vif.frontendPath);
    expect(fe).toEqual({
      backend: vif.backendPath, 'backend-id': '0', handle: '0', state: '1',
      'feature-netmap': '1', 'feature-netmap-offload': '1',
      'feature-netmap-tx-desc': '128', 'tx-ring-refs': '1', [ringRefKey('tx', 0)]: String(vif.grantRefs.tx),
      'feature-netmap-rx-desc': '512', 'rx-ring-refs': '1', [ringRefKey('rx', 0)]: String(vif.grantRefs.rx),
    });
    expect(await dom0.dirOf(vif.backendPath)).toEqual({
      frontend: vif.frontendPath, 'frontend-id': '1', handle: '0', mac: MAC(1), mtu: '9000', state: '2',
    });
    // the grants are whole regions to exactly this domain
    for (const ref of Object.values(vif.grantRefs)) expect(dom0.grants.get(ref)).toMatchObject({ grantee: 1, access: 'rw', state: 'active' });
  });

  it('refuses bad arguments at the boundary, domains that do not exist, and more vifs than the per-domain limit', async () => {
    await dom0.introduce(1);
    const nb = dom0.netback;
    await expect(nb.createVif(1, { ...VIF, mac: '01:00:00:00:00:01' })).rejects.toMatchObject({ code: 'ERR_ARGUMENT', parameter: 'options.mac' });
    await expect(nb.createVif(1, { ...VIF, mac: MAC(1), txSlots: 100 })).rejects.toMatchObject({ code: 'ERR_ARGUMENT', parameter: 'options.txSlots' });
    await expect(nb.createVif(1, { ...VIF, mac: MAC(1), rxSlots: 8192 })).rejects.toMatchObject({ code: 'ERR_ARGUMENT', parameter: 'options.rxSlots' });
    await expect(nb.createVif(1, { ...VIF, mac: MAC(1), mtu: 9000 })).rejects.toMatchObject({ code: 'ERR_ARGUMENT', parameter: 'options.bufSizeBytes' });
    await expect(nb.createVif(0, { ...VIF, mac: MAC(1) })).rejects.toMatchObject({ code: 'ERR_ARGUMENT', parameter: 'domid' });
    await expect(nb.createVif(7, { ...VIF, mac: MAC(7) })).rejects.toBeInstanceOf(NetbackError);
    await expect(nb.createVif(7, { ...VIF, mac: MAC(7) })).rejects.toMatchObject({ code: 'NETBACK_NO_DOMAIN' });

    const small = await Netback.start({ xenstore: dom0.xs, grants: dom0.grants, channels: dom0.channels, switch: dom0.sw }, { maxVifsPerDomain: 2 });
    try {
      const made = await Promise.all([1, 2].map((n) => small.createVif(1, { ...VIF, txSlots: 64, rxSlots: 64, mac: MAC(n) })));
      expect(made.map((v) => v.devid)).toEqual([0, 1]);
      await expect(small.createVif(1, { ...VIF, mac: MAC(3) })).rejects.toMatchObject({ code: 'NETBACK_VIF_LIMIT' });
      expect(dom0.grants.usage.grants).toBe(6);
    } finally {
      await small.close();
    }
    // nothing left of refused or closed vifs
    expect(dom0.grants.usage.grants).toBe(0);
    expect(await dom0.dirOf('/local/domain/0/backend/vpio-vif')).toEqual({});
  });
});

describe('1.2 a guest connects and disconnects', () => {
  it('goes InitWait → frontend Connected (channels in one go) → backend Connected with the port attached, then Closing/Closed in order', async () => {
    await dom0.introduce(1);
    const log = recordVif(dom0.netback, 1);
    const vif = await dom0.netback.createVif(1, { mac: MAC(1), mtu: 1400, txSlots: 128, rxSlots: 512, bufSizeBytes: 2048 });
    const g = await dom0.spawnGuest(vif, ['--no-traffic']);
    expect(await g.next('connected')).toEqual({ event: 'connected', mac: MAC(1), mtu: 1400, txSlots: 128, rxSlots: 512 });
    await until('backend Connected', () => log.includes('backend 4'));
    expect(log).toEqual(['backend 2', 'frontend 4', 'backend 4']);
    const fe = await dom0.dirOf(vif.frontendPath);
    expect(fe).toMatchObject({ 'event-channel-tx': '1', 'event-channel-rx': '2', state: '4' });
    expect(fe?.error).toBeUndefined();
    expect((await dom0.dirOf(vif.backendPath))?.state).toBe('4');
    const [info] = dom0.netback.vifs(1);
    expect(info?.port).toBeDefined();
    expect(dom0.sw.stats().ports).toHaveLength(1);
    expect(dom0.channels.boundPorts).toBe(2);

    g.send('close');
    expect(await g.next('closed')).toEqual({ event: 'closed', rc: 0 });
    expect(await g.exited).toBe(0);
    await until('backend Closed', () => log.includes('backend 6'));
    expect(log).toEqual(['backend 2', 'frontend 4', 'backend 4', 'frontend 5', 'backend 5', 'frontend 6', 'backend 6']);
    // detached at Closing: port and channels gone; the vif (grants, nodes) stays for a restart
    expect(dom0.sw.stats().ports).toHaveLength(0);
    expect(dom0.channels.boundPorts).toBe(0);
    expect(dom0.netback.vifs(1)[0]).toMatchObject({ port: undefined, backendState: 6 });
  });

  it('negotiates chains + the offload word per vif: only a frontend that asks gets an offload port', async () => {
    await dom0.introduce(1);
    const a = await dom0.netback.createVif(1, { ...VIF, mac: MAC(1) });
    const b = await dom0.netback.createVif(1, { ...VIF, mac: MAC(2) });
    const ga = await dom0.spawnGuest(a, ['--no-traffic', '--offload']);
    const gb = await dom0.spawnGuest(b, ['--no-traffic']);
    expect(await ga.next('connected')).toMatchObject({ event: 'connected', offload: 1 });
    expect(await gb.next('connected')).toEqual({ event: 'connected', mac: MAC(2), mtu: 1500, txSlots: VIF.txSlots, rxSlots: VIF.rxSlots });
    await until('both attached', () => dom0.netback.vifs(1).every((v) => v.port !== undefined));
    expect((await dom0.dirOf(a.frontendPath))?.['request-netmap-offload']).toBe('1');
    expect((await dom0.dirOf(b.frontendPath))?.['request-netmap-offload']).toBeUndefined();
    expect(dom0.netback.vifs(1).map((v) => [v.devid, v.offload])).toEqual([[0, true], [1, false]]);
    for (const g of [ga, gb]) {
      g.send('close');
      expect(await g.next('closed')).toEqual({ event: 'closed', rc: 0 });
    }
    expect(dom0.netback.vifs(1).map((v) => v.offload)).toEqual([false, false]); // detached
  });

  it('serves several vifs of one domain, each with its own regions and directory', async () => {
    await dom0.introduce(1);
    const a = await dom0.netback.createVif(1, { ...VIF, mac: MAC(1) });
    const b = await dom0.netback.createVif(1, { ...VIF, mac: MAC(2) });
    expect([a.devid, b.devid]).toEqual([0, 1]);
    expect(new Set([...Object.values(a.grantRefs), ...Object.values(b.grantRefs)]).size).toBe(6);
    const ga = await dom0.spawnGuest(a, ['--no-traffic']);
    const gb = await dom0.spawnGuest(b, ['--no-traffic']);
    expect(await ga.next('connected')).toMatchObject({ mac: MAC(1) });
    expect(await gb.next('connected')).toMatchObject({ mac: MAC(2) });
    await until('two ports', () => dom0.sw.stats().ports.length === 2);
    for (const g of [ga, gb]) g.send('close');
    for (const g of [ga, gb]) expect(await g.exited).toBe(0);
  });
});

describe('1.3 a guest writing garbage into its directory mid-handshake', () => {
  it("gets the error node backendStep decides, retries and connects, and the other guests' traffic is unaffected", async () => {
    for (const d of [1, 2, 3]) await dom0.introduce(d);
    const va = await dom0.netback.createVif(1, { ...VIF, mac: MAC(1) });
    const vb = await dom0.netback.createVif(2, { ...VIF, mac: MAC(2) });
    const log = recordVif(dom0.netback, 3);
    const vg = await dom0.netback.createVif(3, { ...VIF, mac: MAC(3) });
    const a = await dom0.spawnGuest(va, ['--peer', MAC(2), '--count', '5000']);
    const b = await dom0.spawnGuest(vb, ['--peer', MAC(1), '--count', '5000']);
    const bad = await dom0.spawnGuest(vg, ['--garbage', '--no-traffic']);
    await Promise.all([a.next('connected'), b.next('connected')]);
    a.send('go');
    b.send('go');

    const refused = await bad.next('refused');
    const expected = backendStep({
      own: { state: '2' },
      frontend: { state: '4', 'event-channel-tx': 'garbage', 'event-channel-rx': '\x01\x02-1' },
      record: { tx: { numSlots: vg.txSlots, refs: [vg.grantRefs.tx] }, rx: { numSlots: vg.rxSlots, refs: [vg.grantRefs.rx] } },
      local: { attached: false },
    });
    expect(expected).toEqual([{ kind: 'error', text: 'event-channel-tx: expected a port in [1, 131071], got "garbage"' }]);
    expect(refused.error).toBe('event-channel-tx: expected a port in [1, 131071], got "garbage"');

    expect(await bad.next('connected')).toMatchObject({ mac: MAC(3) });
    await until('backend Connected', () => log.includes('backend 4'));
    expect(log).toEqual(['backend 2', 'frontend 4', `error: ${refused.error as string}`, 'backend 4']);
    expect((await dom0.dirOf(vg.backendPath))?.error).toBeUndefined();

    const [da, db] = await Promise.all([a.next('done', 30_000), b.next('done', 30_000)]);
    for (const d of [da, db]) expect(d).toMatchObject({ sent: 5000, received: 5000, corrupt: 0, reordered: 0 });
    for (const g of [a, b, bad]) g.send('close');
    for (const g of [a, b, bad]) expect(await g.exited).toBe(0);
  });

  it('refuses channels the guest never offered to dom0 with an error node, binds nothing, and accepts a later proper connect', async () => {
    await dom0.introduce(1);
    const log = recordVif(dom0.netback, 1);
    const vif = await dom0.netback.createVif(1, { ...VIF, mac: MAC(1) });
    await dom0.asGuest(1, async (t) => {
      await t.write(`${vif.frontendPath}/event-channel-tx`, '7');
      await t.write(`${vif.frontendPath}/event-channel-rx`, '8');
      await t.write(`${vif.frontendPath}/state`, '4');
    });
    await until('an error node', () => log.some((l) => l.startsWith('error')));
    const text = 'event-channel-tx: cannot bind port 7 of domain 1: port 7 was not offered to domain 0 by domain 1';
    expect(log).toEqual(['backend 2', 'frontend 4', `error: ${text}`]);
    expect(await dom0.dirOf(vif.backendPath)).toMatchObject({ state: '2', error: text });
    expect(dom0.sw.stats().ports).toHaveLength(0);
    expect(dom0.channels.boundPorts).toBe(0);

    // the guest restarts its handshake properly: its accepted Connected removes the error node
    await dom0.asGuest(1, (t) => t.write(`${vif.frontendPath}/state`, '1'));
    const g = await dom0.spawnGuest(vif, ['--no-traffic']);
    await g.next('connected');
    await until('backend Connected', () => log.includes('backend 4'));
    expect((await dom0.dirOf(vif.backendPath))?.error).toBeUndefined();
    g.send('close');
    expect(await g.exited).toBe(0);
  });
});
