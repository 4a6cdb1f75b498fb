/**
 * 5. Multi-queue vifs. Objective: a vif created with `queues: N` publishes
 * N ring sets (multi-queue-max-queues, queue-<i>/ refs) in its one InitWait
 * transaction; a guest connecting k of them gets k switch ports in one
 * group (the same PortStats.group), traffic crosses every queue both ways,
 * the vif's rate limits are the sum of its ports', whatever the guest
 * writes wrong about its queues is an error node and no port, and nothing
 * of any queue is left after the vif goes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PortStats } from '@vpio/switch';
import { backendStep, queueDir } from '@vpio/vif';
import { queuePolicy } from '../src/vif-backend.js';
import { Dom0, MAC, VIF, recordVif, until } from './fixtures.js';

let dom0: Dom0;
beforeEach(async () => {
  dom0 = await Dom0.start();
  for (const d of [1, 2, 3]) await dom0.introduce(d);
});
afterEach(async () => {
  await dom0.close();
});

const port = (id: number): PortStats | undefined => dom0.sw.stats().ports.find((p) => p.id === id);

describe('5.1 createVif with queues', () => {
  it('grants three regions per queue and publishes every queue in the InitWait transaction (queue 0 flat too)', async () => {
    const vif = await dom0.netback.createVif(1, { ...VIF, mac: MAC(1), queues: 4 });
    expect(vif).toMatchObject({ queues: 4, backendState: 2, port: undefined, ports: [] });
    expect(vif.queueGrantRefs).toHaveLength(4);
    expect(vif.queueGrantRefs[0]).toEqual(vif.grantRefs);
    const refs = vif.queueGrantRefs.flatMap((q) => [q.tx, q.rx, q.pool]);
    expect(new Set(refs).size).toBe(12);
    for (const ref of refs) expect(dom0.grants.get(ref)).toMatchObject({ grantee: 1, access: 'rw', state: 'active' });
    const fe = (await dom0.dirOf(vif.frontendPath))!;
    expect(fe).toMatchObject({
      'multi-queue-max-queues': '4', 'tx-ring-refs': '1', 'tx-ring-ref0': String(vif.grantRefs.tx), 'rx-ring-ref0': String(vif.grantRefs.rx),
    });
    for (const [q, g] of vif.queueGrantRefs.entries()) {
      expect(await dom0.dirOf(`${vif.frontendPath}/${queueDir(q)}`)).toEqual({
        'tx-ring-refs': '1', 'tx-ring-ref0': String(g.tx), 'rx-ring-refs': '1', 'rx-ring-ref0': String(g.rx),
      });
    }
  });

  it('a one-queue vif publishes no multi-queue key', async () => {
    const vif = await dom0.netback.createVif(1, { ...VIF, mac: MAC(1) });
    expect(vif.queues).toBe(1);
    const fe = (await dom0.dirOf(vif.frontendPath))!;
    expect(Object.keys(fe).filter((k) => k.includes('queue'))).toEqual([]);
  });

  it('refuses queues outside 1..8 at the boundary, making nothing', async () => {
    for (const queues of [0, 9, 1.5, -1, '2' as unknown as number]) {
      await expect(dom0.netback.createVif(1, { ...VIF, mac: MAC(1), queues })).rejects.toMatchObject({ code: 'ERR_ARGUMENT', parameter: 'options.queues' });
    }
    expect(dom0.grants.usage.grants).toBe(0);
    expect(dom0.netback.vifs(1)).toEqual([]);
  });
});

describe('5.2 traffic through every queue', () => {
  it('a 2-queue and a 4-queue vif: one group each, checksummed flows both ways on every queue, nothing lost', async () => {
    const va = await dom0.netback.createVif(1, { ...VIF, mac: MAC(1), queues: 2 });
    const vb = await dom0.netback.createVif(2, { ...VIF, mac: MAC(2), queues: 4 });
    const a = await dom0.spawnGuest(va, ['--peer', MAC(2), '--count', '8000', '--size', '200', '--queues', '2', '--flows', '32']);
    const b = await dom0.spawnGuest(vb, ['--peer', MAC(1), '--count', '8000', '--size', '200', '--queues', '4', '--flows', '8']);
    expect(await a.next('connected')).toMatchObject({ queues: 2 });
    expect(await b.next('connected')).toMatchObject({ queues: 4 });
    await until('both vifs attached', () => dom0.netback.vifs().every((v) => v.ports.length === v.queues));
    const ia = dom0.netback.vifs(1)[0]!;
    const ib = dom0.netback.vifs(2)[0]!;
    expect(ia.port).toBe(ia.ports[0]);
    expect(ib.ports).toHaveLength(4);
    // group ids: every queue's port names the group of its vif's first port
    for (const v of [ia, ib]) for (const id of v.ports) expect(port(id)?.group).toBe(v.ports[0]);
    expect(port(ia.ports[0]!)?.group).not.toBe(port(ib.ports[0]!)?.group);

    a.send('go');
    b.send('go');
    const [da, db] = await Promise.all([a.next('done', 60_000), b.next('done', 60_000)]);
    for (const d of [da, db]) expect(d).toMatchObject({ sent: 8000, received: 8000, corrupt: 0, reordered: 0, foreign: 0 });
    expect((da.queues as Array<{ sent: number }>).map((q) => q.sent)).toEqual([4000, 4000]);
    expect((db.queues as Array<{ sent: number }>).map((q) => q.sent)).toEqual([2000, 2000, 2000, 2000]);
    // every queue's port carried traffic in (from its guest) and out (steered to it by the flow hash)
    for (const id of [...ia.ports, ...ib.ports]) {
      expect(port(id)?.inPackets).toBeGreaterThan(0);
      expect(port(id)?.outPackets).toBeGreaterThan(0);
    }
    const sum = (ids: readonly number[], k: 'inPackets' | 'outPackets'): number => ids.reduce((s, id) => s + (port(id)?.[k] ?? 0), 0);
    expect(sum(ia.ports, 'inPackets')).toBe(8000);
    expect(sum(ib.ports, 'outPackets')).toBe(8000);
    for (const g of [a, b]) g.send('close');
    for (const g of [a, b]) expect(await g.exited).toBe(0);
    await until('all ports detached', () => dom0.sw.stats().ports.length === 0);
    expect(dom0.channels.boundPorts).toBe(0);
    expect(dom0.netback.vifs().map((v) => v.ports)).toEqual([[], []]);
  });

  it('a guest asking for 2 of 4 queues gets 2 ports; one asking for none of them (no --queues) gets one port on the flat keys', async () => {
    const va = await dom0.netback.createVif(1, { ...VIF, mac: MAC(1), queues: 4 });
    const vb = await dom0.netback.createVif(2, { ...VIF, mac: MAC(2), queues: 4 });
    const a = await dom0.spawnGuest(va, ['--peer', MAC(2), '--count', '2000', '--queues', '2']);
    const b = await dom0.spawnGuest(vb, ['--peer', MAC(1), '--count', '2000']);
    await Promise.all([a.next('connected'), b.next('connected')]);
    await until('both attached', () => dom0.netback.vifs().every((v) => v.port !== undefined));
    expect(dom0.netback.vifs(1)[0]!.ports).toHaveLength(2);
    expect(dom0.netback.vifs(2)[0]!.ports).toHaveLength(1);
    expect(await dom0.dirOf(vb.frontendPath)).toMatchObject({ 'event-channel-tx': '1', 'event-channel-rx': '2' });
    a.send('go');
    b.send('go');
    const [da, db] = await Promise.all([a.next('done', 30_000), b.next('done', 30_000)]);
    for (const d of [da, db]) expect(d).toMatchObject({ sent: 2000, received: 2000, corrupt: 0, reordered: 0 });
    for (const g of [a, b]) g.send('close');
    for (const g of [a, b]) expect(await g.exited).toBe(0);
  });
});

describe('5.3 what a guest writes wrong about its queues', () => {
  const cases: Array<[string, Record<string, string>]> = [
    ['more queues than offered', { 'multi-queue-num-queues': '3', 'queue-0/event-channel-tx': '1', 'queue-0/event-channel-rx': '2', 'queue-1/event-channel-tx': '3', 'queue-1/event-channel-rx': '4', 'queue-2/event-channel-tx': '5', 'queue-2/event-channel-rx': '6' }],
    ['zero queues', { 'multi-queue-num-queues': '0', 'event-channel-tx': '1', 'event-channel-rx': '2' }],
    ['a queue without its channels', { 'multi-queue-num-queues': '2', 'queue-0/event-channel-tx': '1', 'queue-0/event-channel-rx': '2', 'queue-1/event-channel-tx': '3' }],
    ['a port used by two queues', { 'multi-queue-num-queues': '2', 'queue-0/event-channel-tx': '1', 'queue-0/event-channel-rx': '2', 'queue-1/event-channel-tx': '2', 'queue-1/event-channel-rx': '3' }],
    ['garbage for a queue\'s channel', { 'multi-queue-num-queues': '2', 'queue-0/event-channel-tx': '1', 'queue-0/event-channel-rx': '2', 'queue-1/event-channel-tx': 'x', 'queue-1/event-channel-rx': '3' }],
  ];
  for (const [what, writes] of cases) {
    it(`${what}: the error node backendStep decides, no port, no channel bound; a proper guest then connects`, async () => {
      const vif = await dom0.netback.createVif(3, { ...VIF, mac: MAC(3), queues: 2 });
      const log = recordVif(dom0.netback, 3);
      const expected = backendStep({ own: { state: '2' }, frontend: { ...writes, state: '4' }, record: { tx: { numSlots: 256, refs: [8] }, rx: { numSlots: 256, refs: [9] }, extraQueues: [{ tx: { numSlots: 256, refs: [10] }, rx: { numSlots: 256, refs: [11] } }] }, local: { attached: false } });
      expect(expected).toHaveLength(1);
      expect(expected[0]!.kind).toBe('error');
      const text = expected[0]!.kind === 'error' ? expected[0]!.text : '';
      await dom0.asGuest(3, async (t) => {
        for (const [k, v] of Object.entries(writes)) await t.write(`${vif.frontendPath}/${k}`, v);
        await t.write(`${vif.frontendPath}/state`, '4');
      });
      await until('the error node', () => log.includes(`error: ${text}`));
      expect((await dom0.dirOf(vif.backendPath))?.error).toBe(text);
      expect(dom0.netback.vifs(3)[0]).toMatchObject({ port: undefined, ports: [], backendState: 2 });
      expect(dom0.sw.stats().ports).toEqual([]);
      expect(dom0.channels.boundPorts).toBe(0);
      // retryable: the real guest's Connected transaction replaces the bad keys
      const g = await dom0.spawnGuest(vif, ['--no-traffic', '--queues', '2']);
      expect(await g.next('connected')).toMatchObject({ queues: 2 });
      await until('two ports', () => dom0.netback.vifs(3)[0]!.ports.length === 2);
      expect((await dom0.dirOf(vif.backendPath))?.error).toBeUndefined();
      g.send('close');
      expect(await g.exited).toBe(0);
    });
  }
});

describe('5.4 policy: the vif\'s limits are the sum of its queues\' ports', () => {
  it('queuePolicy divides rate, burst and flood limits by k, rounding up, at least 1; lossless, MAC lock, MAC cap and trunk stay', () => {
    const p = { macLock: true, lossless: true, trunk: undefined, ratePps: 1000, burstPackets: 10, rateBps: 8_000_001, burstBytes: 3, floodPps: 1, floodBurst: undefined, maxMacs: 4 };
    expect(queuePolicy(p, 1)).toBe(p);
    expect(queuePolicy(p, 4)).toEqual({ ...p, ratePps: 250, burstPackets: 3, rateBps: 2_000_001, burstBytes: 1, floodPps: 1 });
  });

  it('a 2-queue vif with a 10-packet burst forwards 10 of the 100 its two queues send (5 each) and counts 90 rate_limit', async () => {
    const rated = await dom0.netback.createVif(1, { ...VIF, mac: MAC(1), queues: 2, policy: { ratePps: 1000, burstPackets: 10 } });
    const sink = await dom0.netback.createVif(2, { ...VIF, mac: MAC(2) });
    expect(rated.policy).toMatchObject({ ratePps: 1000, burstPackets: 10 }); // the vif's, not a port's
    const a = await dom0.spawnGuest(rated, ['--peer', MAC(2), '--count', '100', '--queues', '2']);
    const s = await dom0.spawnGuest(sink, ['--no-traffic']);
    await Promise.all([a.next('connected'), s.next('connected')]);
    await until('attached', () => dom0.netback.vifs(1)[0]!.ports.length === 2 && dom0.netback.vifs(2)[0]!.port !== undefined);
    a.send('go');
    const ids = dom0.netback.vifs(1)[0]!.ports;
    await expect.poll(() => ids.map((id) => port(id)?.inPackets), { timeout: 10_000 }).toEqual([50, 50]);
    expect(ids.map((id) => port(id)!.drops.rate_limit)).toEqual([45, 45]);
    expect(port(dom0.netback.vifs(2)[0]!.port!)!.outPackets).toBe(10);
  });
});

describe('5.5 teardown', () => {
  it('a 4-queue guest killed mid-traffic leaves no port, channel, grant or node of any queue', async () => {
    const va = await dom0.netback.createVif(1, { ...VIF, mac: MAC(1), queues: 4 });
    const vb = await dom0.netback.createVif(2, { ...VIF, mac: MAC(2) });
    const log = recordVif(dom0.netback, 1);
    const a = await dom0.spawnGuest(va, ['--peer', MAC(2), '--count', '10000000', '--queues', '4']);
    const b = await dom0.spawnGuest(vb, ['--peer', MAC(1), '--count', '10000000']);
    await Promise.all([a.next('connected'), b.next('connected')]);
    await until('five ports', () => dom0.sw.stats().ports.length === 5);
    a.send('go');
    b.send('go');
    const ids = dom0.netback.vifs(1)[0]!.ports;
    await until('every queue sending', () => ids.every((id) => (port(id)?.inPackets ?? 0) > 100));
    await dom0.killDomain(1);
    await until('vif 1/0 destroyed', () => log.some((l) => l.startsWith('destroyed')));
    expect(dom0.sw.stats().ports.map((p) => p.id)).toEqual([dom0.netback.vifs(2)[0]!.port]);
    expect(dom0.channels.boundPorts).toBe(2);
    for (const q of va.queueGrantRefs) for (const ref of [q.tx, q.rx, q.pool]) expect(() => dom0.grants.get(ref)).toThrow(/no grant ref/);
    expect(await dom0.dirOf(va.frontendPath)).toBeUndefined();
    expect(await dom0.dirOf(va.backendPath)).toBeUndefined();
  });
});
