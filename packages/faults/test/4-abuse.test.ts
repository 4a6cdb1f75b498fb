/**
 * Scenario 4 (abuse, bounded in time). Objective: hostile tenants fuzzing
 * their rings, their control socket and the xenstore at the same time
 * crash nothing, and two honest tenants exchanging checksummed traffic
 * meanwhile get all of it intact; every packet an honest tenant sent is
 * either received or counted as a drop with a reason at the switch.
 * A real `vpio up`, all tenants on the same (untagged) segment:
 *   - ring fuzzer (hostile-guest ring): maps its vif, then writes boundary
 *     and random values into its ring indices, the backend's tail and
 *     line 0, slots, lengths, offload words, kick flags and buffers
 *     (frames to the honest MACs, spoofing them, broadcasts, VLAN tags),
 *     hands well-formed slots over so packets race the rewrites, kicks;
 *   - xenstore fuzzer (hostile-guest xs): every message type, bad and
 *     foreign paths (the honest tenants' vif directories), huge values,
 *     permission grabs, watch floods, abandoned transactions, its own vif
 *     directory in garbage, and last a malformed frame;
 *   - control-socket fuzzers (@vpio/domain's guest-fuzz, 10,000
 *     structure-aware messages each, naming an honest tenant as peer),
 *     started one after the other for as long as the honest traffic runs;
 *   - two honest nf-guests, lossless vifs, 20,000 frames each way.
 * Pass: the honest tenants' counts are exact (nothing corrupt, reordered
 * or missing), the switch's per-port counters account for every frame
 * sent (received or dropped with a reason: unexplained losses 0), the
 * platform answers `vpio ls` throughout and after, and each fuzzer reports
 * what it tried.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { C_ENV, GUEST_FUZZ, HOSTILE, NF_GUEST, TestPlatform, alive, until, vpio } from './helpers.js';

const COUNT = 20_000;
const MAX_SECONDS = 60; // the hostile guests' own bound; they are destroyed (SIGTERM) long before
const SEED = process.env.VPIO_FAULTS_SEED ?? '20250109';
const MAC = { a: '02:00:00:00:fd:01', b: '02:00:00:00:fd:02', ring: '02:00:00:00:fd:11', xs: '02:00:00:00:fd:12' };

describe('scenario 4: abuse', () => {
  const t = new TestPlatform();
  afterAll(() => t.teardown());

  it('4.1 ring, control-socket and xenstore fuzzers at once: nothing crashes, honest traffic is intact and fully accounted for', async () => {
    await t.up();
    const honestArgs = (peer: string): string[] => [NF_GUEST, '--broker', '--linger', '--peer', peer, '--count', String(COUNT)];
    // the hostile ones first, each busy before the honest traffic starts
    const ring = await t.run('ring', [HOSTILE, 'ring', String(MAX_SECONDS), SEED, '--peer', MAC.a, '--peer', MAC.b], [`mac=${MAC.ring}`], C_ENV);
    await t.event('ring', 'connected');
    const a = await t.run('a', honestArgs(MAC.b), [`mac=${MAC.a},lossless=1`], C_ENV);
    const b = await t.run('b', honestArgs(MAC.a), [`mac=${MAC.b},lossless=1`], C_ENV);
    const xs = await t.run('xs', [HOSTILE, 'xs', String(MAX_SECONDS), SEED, '--other', String(a.domid), '--other', String(b.domid)], [`mac=${MAC.xs}`], C_ENV);
    await t.event('xs', 'started');

    // control-socket fuzzers, one after the other, until the honest tenants are done
    const ctl: Record<string, string>[] = [];
    let n = 0;
    const honestDone = async (): Promise<boolean> => {
      const [ea, eb] = [await t.events('a'), await t.events('b')];
      return ea.some((e) => e.event === 'done') && eb.some((e) => e.event === 'done');
    };
    do {
      const name = `ctl${++n}`;
      await t.run(name, [GUEST_FUZZ, '10000', String(Number(SEED) + n), String(a.domid)], []);
      const facts = await until(`${name} finished`, async () => {
        const c = await t.request<{ text: string; alive: boolean }>('console', { name });
        return c.alive ? undefined : Object.fromEntries(c.text.split('\n').filter((l) => /^[a-z_0-9]+=/.test(l)).map((l) => l.split('=', 2) as [string, string]));
      }, 30_000);
      ctl.push(facts);
      expect(facts.final_ping, `${name}: vpiod still answered its PING`).toBe('OK');
      expect(facts.pings_ok).toBe(facts.pings);
      // the platform answers throughout
      expect((await t.ls()).domains.some((d) => d.name === 'a'), JSON.stringify(await t.request('console', { name: 'a' }))).toBe(true);
    } while (!(await honestDone()) && n < 20);

    const done = { a: (await t.event('a', 'done'))!, b: (await t.event('b', 'done'))! };
    // the hostile tenants are stopped (SIGTERM) only now: they ran during all of the honest traffic
    for (const name of ['ring', 'xs']) expect((await vpio(['destroy', '--dir', t.dir, name])).code).toBe(0);
    const ringDone = await t.event('ring', 'done');
    const xsDone = await t.event('xs', 'done');
    expect(alive(ring.pid) || alive(xs.pid)).toBe(false);

    // honest traffic intact
    for (const [name, d] of Object.entries(done)) {
      expect(d, name).toMatchObject({ sent: COUNT, received: COUNT, corrupt: 0, reordered: 0 });
    }
    // accounting at the switch (the honest ports stay: --linger): every frame an honest tenant
    // sent was received by the other or dropped with a reason on one of the two ports
    const stats = await t.stats();
    const port = (domid: number) => stats.ports.find((p) => p.domid === domid)!;
    const [pa, pb] = [port(a.domid), port(b.domid)];
    expect(pa.inPackets).toBeGreaterThanOrEqual(COUNT);
    expect(pb.inPackets).toBeGreaterThanOrEqual(COUNT);
    expect(pa.outPackets).toBeGreaterThanOrEqual(COUNT);
    expect(pb.outPackets).toBeGreaterThanOrEqual(COUNT);
    const dropsAB = pa.dropsTotal + pb.dropsTotal;
    const unexplained = Math.max(0, Number(done.a.sent) - Number(done.b.received) - dropsAB) + Math.max(0, Number(done.b.sent) - Number(done.a.received) - dropsAB);
    expect(unexplained).toBe(0);
    for (const p of stats.ports) for (const [reason, count] of Object.entries(p.drops)) expect(reason, `port ${p.port}: ${count} drops`).toMatch(/^[a-z_]+$/);

    // nothing crashed: the platform still serves, honest tenants close cleanly
    for (const name of ['a', 'b']) expect((await vpio(['destroy', '--dir', t.dir, name])).code).toBe(0);
    for (const name of ['a', 'b']) expect(await t.event(name, 'closed')).toEqual({ event: 'closed', rc: 0 });
    expect((await vpio(['ls', '--dir', t.dir])).code).toBe(0);
    expect((await t.ls()).domains).toEqual([]);

    const ctlInputs = ctl.reduce((s, f) => s + Number(f.sent) + Number(f.send_err), 0);
    const inputs = { ring: Number(ringDone.inputs), xenstore: Number(xsDone.inputs), control: ctlInputs };
    expect(inputs.ring).toBeGreaterThan(0);
    expect(inputs.xenstore).toBeGreaterThan(0);
    expect(ctlInputs).toBe(ctl.length * 10_000);
    // the xenstore fuzzer's connection lived until its last, malformed frame
    expect(xsDone.deadBeforeRaw).toBe(0);
    console.log(`scenario 4: hostile inputs ${JSON.stringify(inputs)} = ${inputs.ring + inputs.xenstore + inputs.control}; ` +
      `control fuzzers ${ctl.length}; xenstore replies ok ${String(xsDone.ok)}, errnos ${JSON.stringify(xsDone.errnos)}, watch events ${String(xsDone.events)}; ` +
      `ring slots handed over ${String(ringDone.handedOver)}; honest a ${JSON.stringify(done.a)}; drops on the honest ports ${JSON.stringify([pa.drops, pb.drops])}; ` +
      `packets lost without a counted reason: ${unexplained}`);
  }, 90_000);
});
