/**
 * netfront's C core in real guest processes (build/test/nf-guest, ASan +
 * UBSan) against a scripted dom0 (test/scripted-dom0.ts): a real xenstore
 * daemon, real memfd grants, real event channels and a real Switch, with
 * the backend's decisions taken by @vpio/vif's backendStep().
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backendStep, ringRefKey } from '@vpio/vif';
import { ScriptedDom0, type Guest } from './scripted-dom0.js';

let dom0: ScriptedDom0;
beforeEach(async () => {
  dom0 = await ScriptedDom0.start();
});
afterEach(async () => {
  await dom0.close();
});

const MAC = (n: number): string => `02:00:00:00:00:${n.toString(16).padStart(2, '0')}`;

async function traffic(a: Guest, b: Guest, count: number): Promise<void> {
  a.send('go');
  b.send('go');
  const [da, db] = await Promise.all([a.next('done', 30_000), b.next('done', 30_000)]);
  for (const d of [da, db]) {
    expect(d).toMatchObject({ sent: count, received: count, corrupt: 0, reordered: 0 });
  }
}

describe('1. handshake and disconnect: states and xenstore contents in order', () => {
  it('connects as DESIGN.md says: backend InitWait with everything published, frontend channels + Connected in one go, backend Connected', async () => {
    const vif = await dom0.createVif(1, 0, { mac: MAC(1), txSlots: 128, rxSlots: 512, mtu: 9000 });
    const g = await dom0.spawnGuest(vif, ['--no-traffic']);
    expect(await g.next('connected')).toEqual({ event: 'connected', mac: MAC(1), mtu: 9000, txSlots: 128, rxSlots: 512 });
    await dom0.settle(vif);
    expect(vif.log).toEqual(['backend 2', 'frontend 4', 'backend 4']);
    const { frontend, backend } = await dom0.dirs(vif);
    expect(frontend).toMatchObject({
      'feature-netmap': '1',
      'feature-netmap-tx-desc': '128', 'tx-ring-refs': '1', [ringRefKey('tx', 0)]: String(vif.record.tx.refs[0]),
      'feature-netmap-rx-desc': '512', 'rx-ring-refs': '1', [ringRefKey('rx', 0)]: String(vif.record.rx.refs[0]),
      'event-channel-tx': '1', 'event-channel-rx': '2', state: '4',
    });
    expect(frontend.error).toBeUndefined();
    expect(backend).toMatchObject({ state: '4', mac: MAC(1), mtu: '9000' });
    expect(backend.error).toBeUndefined();
    expect(vif.port).toBeDefined();
    expect(vif.decisions.map((d) => d.kind)).toEqual(['transaction', 'connect', 'transaction']);

    // 2. clean disconnect: frontend 5 -> backend 5 -> frontend 6 -> backend 6, port detached
    g.send('close');
    expect(await g.next('closed')).toEqual({ event: 'closed', rc: 0 });
    expect(await g.exited).toBe(0);
    await new Promise((r) => setTimeout(r, 50));
    await dom0.settle(vif);
    expect(vif.log).toEqual(['backend 2', 'frontend 4', 'backend 4', 'frontend 5', 'backend 5', 'frontend 6', 'backend 6']);
    expect(vif.port).toBeUndefined();
    expect(dom0.sw.stats().ports).toHaveLength(0);
    expect(vif.errors).toEqual([]);
  });
});

describe('2. two C guests exchange checksummed traffic through a Switch', () => {
  it('event mode: 20,000 packets each way, none lost, corrupt or reordered', async () => {
    const va = await dom0.createVif(1, 0, { mac: MAC(1) });
    const vb = await dom0.createVif(2, 0, { mac: MAC(2) });
    const a = await dom0.spawnGuest(va, ['--peer', MAC(2), '--count', '20000', '--size', '200']);
    const b = await dom0.spawnGuest(vb, ['--peer', MAC(1), '--count', '20000', '--size', '200']);
    await Promise.all([a.next('connected'), b.next('connected')]);
    await traffic(a, b, 20000);
    const stats = dom0.sw.stats().ports;
    expect(stats.map((p) => p.inPackets).reduce((x, y) => x + y)).toBe(40000);
    for (const g of [a, b]) g.send('close');
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
  });

  it('poll mode: 3,000 packets each way of 1514 bytes', async () => {
    const va = await dom0.createVif(1, 0, { mac: MAC(1), txSlots: 64, rxSlots: 64 });
    const vb = await dom0.createVif(2, 0, { mac: MAC(2), txSlots: 64, rxSlots: 64 });
    const a = await dom0.spawnGuest(va, ['--mode', 'poll', '--peer', MAC(2), '--count', '3000', '--size', '1514']);
    const b = await dom0.spawnGuest(vb, ['--mode', 'poll', '--peer', MAC(1), '--count', '3000', '--size', '1514']);
    await Promise.all([a.next('connected'), b.next('connected')]);
    await traffic(a, b, 3000);
    for (const g of [a, b]) g.send('close');
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
  });
});

describe('3. a guest writing garbage into its directory mid-handshake', () => {
  it("gets the error node backendStep decides, can retry, and the other guests' traffic is unaffected", async () => {
    const va = await dom0.createVif(1, 0, { mac: MAC(1) });
    const vb = await dom0.createVif(2, 0, { mac: MAC(2) });
    const vg = await dom0.createVif(3, 0, { mac: MAC(3) });
    const a = await dom0.spawnGuest(va, ['--peer', MAC(2), '--count', '10000']);
    const b = await dom0.spawnGuest(vb, ['--peer', MAC(1), '--count', '10000']);
    const bad = await dom0.spawnGuest(vg, ['--garbage', '--no-traffic']);
    await Promise.all([a.next('connected'), b.next('connected')]);
    const run = traffic(a, b, 10000);

    const refused = await bad.next('refused');
    // the decision is the pure function's: replay it on the garbage the guest wrote
    const expected = backendStep({
      own: { state: '2' },
      frontend: { state: '4', 'event-channel-tx': 'garbage', 'event-channel-rx': '\x01\x02-1' },
      record: vg.record,
      local: { attached: false },
    });
    expect(expected).toEqual([{ kind: 'error', text: 'event-channel-tx: expected a port in [1, 131071], got "garbage"' }]);
    expect(refused.error).toBe('event-channel-tx: expected a port in [1, 131071], got "garbage"');
    expect(vg.errors[0]).toBe(refused.error);

    // retryable: the same guest then connects properly and the error node goes away
    expect(await bad.next('connected')).toMatchObject({ mac: MAC(3) });
    await dom0.settle(vg);
    expect((await dom0.dirs(vg)).backend.error).toBeUndefined();
    expect(vg.log).toEqual(['backend 2', 'frontend 4', 'backend 4']);

    await run;
    for (const g of [a, b, bad]) g.send('close');
    for (const g of [a, b, bad]) expect(await g.exited).toBe(0);
  });
});

describe('4. multi-queue vifs: k ring pairs, one switch port group', () => {
  it('a 2-queue guest and a 4-queue guest exchange checksummed IPv4/UDP flows on every queue; nothing lost, corrupt or reordered per flow', async () => {
    const va = await dom0.createVif(1, 0, { mac: MAC(1), queues: 2 });
    const vb = await dom0.createVif(2, 0, { mac: MAC(2), queues: 4 });
    const a = await dom0.spawnGuest(va, ['--peer', MAC(2), '--count', '8000', '--size', '300', '--queues', '2', '--flows', '32']);
    const b = await dom0.spawnGuest(vb, ['--peer', MAC(1), '--count', '8000', '--size', '300', '--queues', '8', '--flows', '8']);
    expect(await a.next('connected')).toMatchObject({ mac: MAC(1), queues: 2 });
    expect(await b.next('connected')).toMatchObject({ mac: MAC(2), queues: 4 }); // asked for 8, the vif has 4
    await dom0.settle(va);
    await dom0.settle(vb);
    // xenstore: what the guest wrote for its queues, every queue's refs published, one group of 2 and one of 4
    const fa = (await dom0.dirs(va)).frontend;
    expect(fa).toMatchObject({ 'multi-queue-max-queues': '2', 'multi-queue-num-queues': '2', state: '4' });
    expect(fa['event-channel-tx']).toBeUndefined();
    const { frontend: fb } = await dom0.dirs(vb);
    expect(fb).toMatchObject({ 'multi-queue-max-queues': '4', 'multi-queue-num-queues': '4' });
    expect(va.ports).toHaveLength(2);
    expect(vb.ports).toHaveLength(4);
    const group = (id: number): number | undefined => dom0.sw.stats().ports.find((p) => p.id === id)?.group;
    for (const v of [va, vb]) for (const id of v.ports) expect(group(id)).toBe(v.ports[0]);

    a.send('go');
    b.send('go');
    const [da, db] = await Promise.all([a.next('done', 60_000), b.next('done', 60_000)]);
    for (const d of [da, db]) expect(d).toMatchObject({ sent: 8000, received: 8000, corrupt: 0, reordered: 0, foreign: 0 });
    // every queue sent its share and received some: the switch's flow hash spread the peer's flows over the group
    const qa = da.queues as Array<{ sent: number; received: number }>;
    const qb = db.queues as Array<{ sent: number; received: number }>;
    expect(qa.map((q) => q.sent)).toEqual([4000, 4000]);
    expect(qb.map((q) => q.sent)).toEqual([2000, 2000, 2000, 2000]);
    for (const q of [...qa, ...qb]) expect(q.received, JSON.stringify([qa, qb])).toBeGreaterThan(0);
    expect(qa.reduce((s, q) => s + q.received, 0)).toBe(8000);
    // the switch saw every queue's port send
    const stats = dom0.sw.stats().ports;
    for (const id of [...va.ports, ...vb.ports]) expect(stats.find((p) => p.id === id)?.inPackets).toBeGreaterThan(0);
    for (const g of [a, b]) g.send('close');
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
    await new Promise((r) => setTimeout(r, 50));
    await dom0.settle(va);
    await dom0.settle(vb);
    expect(dom0.sw.stats().ports).toHaveLength(0); // every queue's port detached at Closing
  });

  it('a guest that asks for one queue of a 4-queue vif uses the flat keys, exactly as without queues', async () => {
    const va = await dom0.createVif(1, 0, { mac: MAC(1), queues: 4 });
    const vb = await dom0.createVif(2, 0, { mac: MAC(2) });
    const a = await dom0.spawnGuest(va, ['--peer', MAC(2), '--count', '3000']);
    const b = await dom0.spawnGuest(vb, ['--peer', MAC(1), '--count', '3000', '--queues', '4']);
    expect(await a.next('connected')).not.toHaveProperty('queues');
    expect(await b.next('connected')).toMatchObject({ queues: 1 }); // the backend offers one: multi-queue-max-queues absent
    await dom0.settle(va);
    const { frontend } = await dom0.dirs(va);
    expect(frontend).toMatchObject({ 'event-channel-tx': '1', 'event-channel-rx': '2', 'multi-queue-max-queues': '4' });
    expect(frontend['multi-queue-num-queues']).toBeUndefined();
    expect(va.ports).toHaveLength(1);
    await traffic(a, b, 3000);
    for (const g of [a, b]) g.send('close');
    for (const g of [a, b]) expect(await g.exited).toBe(0);
  });

  it('a multi-queue guest whose second queue offers garbage gets the error node and no port, then connects', async () => {
    const vg = await dom0.createVif(3, 0, { mac: MAC(3), queues: 2 });
    // the guest's own transaction of a bad connect: k = 2 but queue 1's RX channel is queue 0's TX channel
    await dom0.asGuest(3, async (t) => {
      await t.write(`${vg.feDir}/multi-queue-num-queues`, '2');
      await t.write(`${vg.feDir}/queue-0/event-channel-tx`, '1');
      await t.write(`${vg.feDir}/queue-0/event-channel-rx`, '2');
      await t.write(`${vg.feDir}/queue-1/event-channel-tx`, '3');
      await t.write(`${vg.feDir}/queue-1/event-channel-rx`, '1');
      await t.write(`${vg.feDir}/state`, '4');
    });
    await expect.poll(() => vg.errors[0], { timeout: 10_000 }).toBe(`queue-1/event-channel-rx: expected a port other than queue-0/event-channel-tx's, got "1"`);
    await dom0.settle(vg);
    expect((await dom0.dirs(vg)).backend.error).toBe(vg.errors[0]);
    expect(vg.port).toBeUndefined();
    expect(dom0.sw.stats().ports).toHaveLength(0);
    // the real guest then connects both queues; its Connected transaction replaces the bad keys
    const g = await dom0.spawnGuest(vg, ['--no-traffic', '--queues', '2']);
    expect(await g.next('connected')).toMatchObject({ queues: 2 });
    await dom0.settle(vg);
    expect((await dom0.dirs(vg)).backend.error).toBeUndefined();
    expect(vg.ports).toHaveLength(2);
    g.send('close');
    expect(await g.exited).toBe(0);
  });
});

describe('5. a backend that leaves while the guest is connected (nf_backend_check, the watch on the backend directory)', () => {
  const backendEvents = (g: Guest): Array<Record<string, unknown>> => g.events.filter((e) => e.event === 'backend');
  const GONE = 0x100;
  const GARBLED = 0x101;

  for (const [state, name] of [['5', 'Closing (a toolstack detaching the vif)'], ['6', 'Closed']] as const) {
    it(`sees the backend go ${name} through the watch alone and disconnects cleanly; other changes there are not a departure`, async () => {
      const vif = await dom0.createVif(1, 0, { mac: MAC(1) });
      const g = await dom0.spawnGuest(vif, ['--no-traffic', '--watch-backend']);
      await g.next('connected');
      await dom0.settle(vif);
      expect(vif.port).toBeDefined();
      // the first check, right after connecting: Connected
      await expect.poll(() => backendEvents(g).length).toBeGreaterThanOrEqual(1);
      expect(backendEvents(g)[0]).toEqual({ event: 'backend', connected: 1, state: 4 });
      // another key in the backend directory fires the watch: still Connected, the guest stays
      const before = backendEvents(g).length;
      await dom0.xs.write(`${vif.beDir}/hotplug-status`, 'connected');
      await expect.poll(() => backendEvents(g).length).toBeGreaterThan(before);
      expect(backendEvents(g).every((e) => e.connected === 1)).toBe(true);
      g.send('check');
      await expect.poll(() => backendEvents(g).length).toBeGreaterThan(before + 1);
      expect(g.child.exitCode).toBeNull();

      // the backend's state changes, and nothing else: no channel closes, no notification fails
      await dom0.xs.write(`${vif.beDir}/state`, state);
      await expect.poll(() => backendEvents(g).at(-1), { timeout: 10_000 }).toEqual({ event: 'backend', connected: 0, state: Number(state) });
      expect(await g.next('closed')).toEqual({ event: 'closed', rc: 0 });
      expect(await g.exited).toBe(0);
      await new Promise((r) => setTimeout(r, 50));
      await dom0.settle(vif);
      const { frontend, backend } = await dom0.dirs(vif);
      expect(frontend.state).toBe('6');
      expect(backend.state).toBe('6'); // the backend followed the frontend to Closed
      expect(vif.port).toBeUndefined();
      expect(dom0.sw.stats().ports).toHaveLength(0);
    });
  }

  it('sees the vif removed by the toolstack (both directories gone) and leaves no stray node behind', async () => {
    const vif = await dom0.createVif(1, 0, { mac: MAC(1), queues: 2 });
    const g = await dom0.spawnGuest(vif, ['--no-traffic', '--watch-backend', '--queues', '2']);
    expect(await g.next('connected')).toMatchObject({ queues: 2 });
    await expect.poll(() => backendEvents(g)[0]).toEqual({ event: 'backend', connected: 1, state: 4 });
    await dom0.removeVif(vif);
    await expect.poll(() => backendEvents(g).at(-1), { timeout: 10_000 }).toEqual({ event: 'backend', connected: 0, state: GONE });
    // nf_disconnect: the own directory is gone, so no Closing/Closed write brings it back
    expect(await g.next('closed')).toEqual({ event: 'closed', rc: 0 });
    expect(await g.exited).toBe(0);
    const exists = (path: string): Promise<boolean> => dom0.xs.read(path).then(() => true, () => false);
    expect(await exists(vif.feDir)).toBe(false);
    expect(await exists(vif.beDir)).toBe(false);
  });

  it('sees the backend directory removed while its own stays, and still closes its own side', async () => {
    const vif = await dom0.createVif(1, 0, { mac: MAC(1) });
    const g = await dom0.spawnGuest(vif, ['--no-traffic', '--watch-backend']);
    await g.next('connected');
    await expect.poll(() => backendEvents(g)[0]).toEqual({ event: 'backend', connected: 1, state: 4 });
    await dom0.settle(vif);
    await dom0.xs.rm(vif.beDir);
    await expect.poll(() => backendEvents(g).at(-1), { timeout: 10_000 }).toEqual({ event: 'backend', connected: 0, state: GONE });
    expect(await g.next('closed')).toEqual({ event: 'closed', rc: 0 });
    expect(await g.exited).toBe(0);
    expect((await dom0.dirs(vif)).frontend.state).toBe('6');
  });

  it('takes a state that does not parse as a departure, not as Connected', async () => {
    const vif = await dom0.createVif(1, 0, { mac: MAC(1) });
    const g = await dom0.spawnGuest(vif, ['--no-traffic', '--watch-backend']);
    await g.next('connected');
    await expect.poll(() => backendEvents(g)[0]).toEqual({ event: 'backend', connected: 1, state: 4 });
    await dom0.settle(vif);
    await dom0.xs.write(`${vif.beDir}/state`, '4\n');
    await expect.poll(() => backendEvents(g).at(-1), { timeout: 10_000 }).toEqual({ event: 'backend', connected: 0, state: GARBLED });
    // disconnecting, the garbage is this end's error node and the result -EPROTO (71); the guest is gone either way
    expect(await g.next('closed')).toEqual({ event: 'closed', rc: -71 });
    expect(await g.exited).toBe(3);
    expect((await dom0.dirs(vif)).frontend.error).toBe('backend state: expected a xenbus state in [0, 8], got "4?"');
  });
});
