/**
 * 3. Teardown and reconnect. Objective: a vif leaves nothing behind (switch
 * port, dom0 channel ends, grants, xenstore nodes, descriptors) when its
 * domain dies, when the toolstack removes it, and when netback closes; a
 * frontend that restarts reconnects to the same (never recycled) regions;
 * nobody else notices.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Dom0, MAC, VIF, fdCount, recordVif, until } from './fixtures.js';

let dom0: Dom0;
beforeEach(async () => {
  dom0 = await Dom0.start();
});
afterEach(async () => {
  await dom0.close();
});

/** A restarted frontend says Initialising (written as the guest). */
const restart = (domid: number, path: string): Promise<void> => dom0.asGuest(domid, (t) => t.write(`${path}/state`, '1'));

describe('3.1 a guest killed mid-traffic (@releaseDomain)', () => {
  it("is cleaned up — port, channels, grants, nodes — while the other guests' traffic completes intact", async () => {
    for (const d of [1, 2, 3, 4]) await dom0.introduce(d);
    const va = await dom0.netback.createVif(1, { ...VIF, mac: MAC(1) });
    const vb = await dom0.netback.createVif(2, { ...VIF, mac: MAC(2) });
    // the victim and its peer on their own VLAN: the peer's packets to a vanished MAC flood there only
    const vc = await dom0.netback.createVif(3, { ...VIF, mac: MAC(3), vlan: 2 });
    const vd = await dom0.netback.createVif(4, { ...VIF, mac: MAC(4), vlan: 2 });
    const log = recordVif(dom0.netback, 3);
    const a = await dom0.spawnGuest(va, ['--peer', MAC(2), '--count', '20000', '--size', '200']);
    const b = await dom0.spawnGuest(vb, ['--peer', MAC(1), '--count', '20000', '--size', '200']);
    const c = await dom0.spawnGuest(vc, ['--peer', MAC(4), '--count', '10000000']);
    const d = await dom0.spawnGuest(vd, ['--peer', MAC(3), '--count', '10000000']);
    await Promise.all([a, b, c, d].map((g) => g.next('connected')));
    await until('four ports', () => dom0.sw.stats().ports.length === 4);
    for (const g of [a, b, c, d]) g.send('go');
    const portC = dom0.netback.vifs(3)[0]!.port!;
    await until('the victim sending', () => (dom0.sw.stats().ports.find((p) => p.id === portC)?.inPackets ?? 0) > 1000);

    await dom0.killDomain(3);
    await until('vif 3/0 destroyed', () => log.some((l) => l.startsWith('destroyed')));
    expect(log.at(-1)).toBe('destroyed: domain 3 released');
    expect(dom0.netback.vifs(3)).toEqual([]);
    expect(dom0.sw.stats().ports.map((p) => p.id)).not.toContain(portC);
    expect(dom0.sw.stats().ports).toHaveLength(3);
    expect(dom0.channels.boundPorts).toBe(6);
    for (const ref of Object.values(vc.grantRefs)) expect(() => dom0.grants.get(ref)).toThrow(/no grant ref/);
    expect(await dom0.dirOf(vc.backendPath)).toBeUndefined();
    expect(await dom0.dirOf('/local/domain/0/backend/vpio-vif/3')).toBeUndefined();
    expect(await dom0.dirOf(vc.frontendPath)).toBeUndefined();

    const [da, db] = await Promise.all([a.next('done', 30_000), b.next('done', 30_000)]);
    for (const x of [da, db]) expect(x).toMatchObject({ sent: 20000, received: 20000, corrupt: 0, reordered: 0 });
    for (const g of [a, b]) g.send('close');
    for (const g of [a, b]) expect(await g.exited).toBe(0);
  });
});

describe('3.2 the toolstack removes the backend node', () => {
  it('detaches and removes everything of that vif only', async () => {
    for (const d of [1, 2]) await dom0.introduce(d);
    const va = await dom0.netback.createVif(1, { ...VIF, mac: MAC(1) });
    const vb = await dom0.netback.createVif(2, { ...VIF, mac: MAC(2) });
    const log = recordVif(dom0.netback, 1);
    const a = await dom0.spawnGuest(va, ['--no-traffic']);
    const b = await dom0.spawnGuest(vb, ['--no-traffic']);
    await Promise.all([a.next('connected'), b.next('connected')]);
    await until('two ports', () => dom0.sw.stats().ports.length === 2);

    await dom0.xs.rm(va.backendPath);
    await until('vif 1/0 destroyed', () => log.some((l) => l.startsWith('destroyed')));
    expect(log.at(-1)).toBe('destroyed: backend node removed');
    expect(dom0.sw.stats().ports).toHaveLength(1);
    expect(dom0.channels.boundPorts).toBe(2);
    expect(dom0.grants.usage.grants).toBe(3);
    expect(await dom0.dirOf(va.frontendPath)).toBeUndefined();
    expect(await dom0.dirOf('/local/domain/0/backend/vpio-vif/1')).toBeUndefined();
    expect(dom0.netback.vifs().map((v) => v.domid)).toEqual([2]);
  });
});

describe('3.3 a frontend that restarts reconnects', () => {
  it('after a clean close and after a crash, to the same regions, with traffic flowing again', async () => {
    for (const d of [1, 2]) await dom0.introduce(d);
    const log = recordVif(dom0.netback, 1);
    const va = await dom0.netback.createVif(1, { ...VIF, mac: MAC(1) });
    const vb = await dom0.netback.createVif(2, { ...VIF, mac: MAC(2) });
    const b = await dom0.spawnGuest(vb, ['--peer', MAC(1), '--count', '2000']);
    await b.next('connected');

    // first life: connects, closes cleanly (Closed)
    const a1 = await dom0.spawnGuest(va, ['--no-traffic']);
    await a1.next('connected');
    a1.send('close');
    expect(await a1.exited).toBe(0);
    await until('backend Closed', () => log.includes('backend 6'));

    // second life: the restarted frontend says Initialising; netback publishes the same regions again
    await restart(1, va.frontendPath);
    await until('InitWait again', () => log.filter((l) => l === 'backend 2').length === 2);
    const a2 = await dom0.spawnGuest(va, ['--no-traffic']);
    await a2.next('connected');
    await until('backend Connected again', () => log.filter((l) => l === 'backend 4').length === 2);
    a2.child.kill('SIGKILL'); // crash: no Closing, the domain lives on
    await a2.exited;

    // third life after the crash: Initialising while Connected → detach, publish again
    await restart(1, va.frontendPath);
    await until('InitWait a third time', () => log.filter((l) => l === 'backend 2').length === 3);
    expect(dom0.sw.stats().ports).toHaveLength(1); // only b's
    const a3 = await dom0.spawnGuest(va, ['--peer', MAC(2), '--count', '2000']);
    await a3.next('connected');
    expect(log).toEqual([
      'backend 2', 'frontend 4', 'backend 4', 'frontend 5', 'backend 5', 'frontend 6', 'backend 6',
      'frontend 1', 'backend 2', 'frontend 4', 'backend 4',
      'frontend 1', 'backend 2', 'frontend 4', 'backend 4',
    ]);
    expect(dom0.netback.vifs(1)[0]!.grantRefs).toEqual(va.grantRefs); // reused, never another domain's
    a3.send('go');
    b.send('go');
    const [d3, db] = await Promise.all([a3.next('done', 30_000), b.next('done', 30_000)]);
    for (const x of [d3, db]) expect(x).toMatchObject({ sent: 2000, received: 2000, corrupt: 0, reordered: 0 });
    for (const g of [a3, b]) g.send('close');
    for (const g of [a3, b]) expect(await g.exited).toBe(0);
  });
});

describe('3.4 nothing leaks', () => {
  it('returns to the same descriptor count, no grants, no ports, no bound channels and no vif nodes after vifs live and die every way', async () => {
    for (const d of [1, 2, 3]) await dom0.introduce(d);
    const before = fdCount();
    for (let round = 0; round < 2; round++) {
      const va = await dom0.netback.createVif(1, { ...VIF, mac: MAC(1) });
      const vb = await dom0.netback.createVif(2, { ...VIF, mac: MAC(2) });
      const vc = await dom0.netback.createVif(3, { ...VIF, mac: MAC(3), vlan: 3 });
      const a = await dom0.spawnGuest(va, ['--peer', MAC(2), '--count', '1000']);
      const b = await dom0.spawnGuest(vb, ['--peer', MAC(1), '--count', '1000']);
      const c = await dom0.spawnGuest(vc, ['--no-traffic']);
      await Promise.all([a, b, c].map((g) => g.next('connected')));
      for (const g of [a, b]) g.send('go');
      await Promise.all([a.next('done'), b.next('done')]);
      for (const g of [a, b]) g.send('close');
      await Promise.all([a.exited, b.exited]);
      await dom0.netback.destroyVif(1, 0); // toolstack
      await dom0.xs.rm(vb.backendPath); // backend node removal
      await dom0.killDomain(3); // death
      await until('no vifs', () => dom0.netback.vifs().length === 0);
      await dom0.introduce(3);
    }
    expect(dom0.grants.usage).toEqual({ grants: 0, bytes: 0 });
    expect(dom0.sw.stats().ports).toEqual([]);
    expect(dom0.channels.boundPorts).toBe(0);
    expect(await dom0.dirOf('/local/domain/0/backend/vpio-vif')).toEqual({});
    await until(`descriptors back to ${before}`, () => fdCount() === before, 5000).catch(() => undefined);
    expect(fdCount()).toBe(before);
  });
});
