/**
 * 2. Traffic through netback-made vifs. Objective: two real C guests,
 * connected by the real handshake to a real switch, exchange sequenced,
 * FNV-1a-checksummed packets with nothing lost, corrupt or reordered, in
 * event and poll mode; VLANs keep vifs apart.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Guest } from '@vpio/netfront/test-utils';
import { Dom0, MAC, VIF } from './fixtures.js';

let dom0: Dom0;
beforeEach(async () => {
  dom0 = await Dom0.start();
  for (const d of [1, 2]) await dom0.introduce(d);
});
afterEach(async () => {
  await dom0.close();
});

async function exchange(a: Guest, b: Guest, count: number): Promise<void> {
  await Promise.all([a.next('connected'), b.next('connected')]);
  a.send('go');
  b.send('go');
  const [da, db] = await Promise.all([a.next('done', 30_000), b.next('done', 30_000)]);
  for (const d of [da, db]) expect(d).toMatchObject({ sent: count, received: count, corrupt: 0, reordered: 0 });
  for (const g of [a, b]) g.send('close');
  for (const g of [a, b]) expect(await g.exited).toBe(0);
}

describe('2. two guests exchange checksummed traffic through netback-made vifs', () => {
  it('event mode: 20,000 packets each way', async () => {
    const va = await dom0.netback.createVif(1, { ...VIF, mac: MAC(1) });
    const vb = await dom0.netback.createVif(2, { ...VIF, mac: MAC(2) });
    const a = await dom0.spawnGuest(va, ['--peer', MAC(2), '--count', '20000', '--size', '200']);
    const b = await dom0.spawnGuest(vb, ['--peer', MAC(1), '--count', '20000', '--size', '200']);
    await exchange(a, b, 20000);
    const ports = dom0.sw.stats().ports;
    expect(ports).toHaveLength(0); // both detached at Closing
  });

  it('poll mode: 3,000 packets each way of 1514 bytes on 64-slot rings', async () => {
    const opts = { txSlots: 64, rxSlots: 64, bufSizeBytes: 2048 };
    const va = await dom0.netback.createVif(1, { ...opts, mac: MAC(1) });
    const vb = await dom0.netback.createVif(2, { ...opts, mac: MAC(2) });
    const a = await dom0.spawnGuest(va, ['--mode', 'poll', '--peer', MAC(2), '--count', '3000', '--size', '1514']);
    const b = await dom0.spawnGuest(vb, ['--mode', 'poll', '--peer', MAC(1), '--count', '3000', '--size', '1514']);
    await exchange(a, b, 3000);
  });

  it('vifs on different VLANs do not reach each other', async () => {
    const va = await dom0.netback.createVif(1, { ...VIF, mac: MAC(1), vlan: 10 });
    const vb = await dom0.netback.createVif(2, { ...VIF, mac: MAC(2), vlan: 20 });
    const a = await dom0.spawnGuest(va, ['--peer', MAC(2), '--count', '100']);
    const b = await dom0.spawnGuest(vb, ['--no-traffic']);
    await Promise.all([a.next('connected'), b.next('connected')]);
    a.send('go');
    const port = (): number => dom0.netback.vifs(1)[0]!.port!;
    await expect.poll(() => dom0.sw.stats().ports.find((p) => p.id === port())?.inPackets, { timeout: 10_000 }).toBe(100);
    const portB = dom0.netback.vifs(2)[0]!.port!;
    expect(dom0.sw.stats().ports.find((p) => p.id === portB)?.outPackets).toBe(0);
  });
});
