/**
 * Scenario M4 (a hundred tenants): objective: one platform (an in-process
 * Platform from @vpio/cli, event mode, 64-slot rings) runs 100 minios
 * guests as 50 pairs, every pair on its own VLAN and all pairs with the
 * same addresses (10.0.0.1 pings 10.0.0.2): the pairs' address spaces
 * overlap and only the VLAN keeps them apart. The responders start one
 * after the other, the pingers ten at a time (concurrent run() calls), each
 * pinging long enough that all 50 have echoes in flight together. Every
 * pinger gets all its echoes back; the switch's port counters show that
 * every packet a guest sent reached its peer and nobody else (no flooding
 * across VLANs); the attach latency (the platform's own: run()
 * accepted → both ends of the vif Connected) of both kinds and the
 * guests' total proportional memory (PSS) are reported, not asserted; and
 * closing the platform leaves no guest process and no cgroup behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform, VifSpec } from '@vpio/cli';
import {
  alive,
  attachMs,
  cgroupsOf,
  events,
  guestPid,
  mac,
  percentile,
  pingerConfig,
  pssKb,
  responderConfig,
  runGuest,
  fleetPlatform,
  until,
  waitConnected,
  type Started,
} from '../bench/fleet.js';

const PAIRS = 50;
const COUNT = 5;
const INTERVAL_MS = 2000;
const SLOTS = 64;
/**
 * Concurrent run() calls. Every domain creation's xenstore transaction
 * makes /local/domain/N, so concurrent ones conflict on /local/domain and
 * all but one retry: vpiod gives up after the client's 32 attempts
 * (TRANSACTION_END EAGAIN), which 50 at once exceed.
 */
const BATCH = 10;

describe('M4 a hundred minios tenants (50 pairs on 50 VLANs) ping their peers at once', () => {
  const base = mkdtempSync(join(tmpdir(), 'vpio-minios-scale-'));
  let platform: Platform;
  const started: Started[] = [];
  const launchers: number[] = [];
  let pingersStartMs = 0;
  const guests: number[] = [];
  const name = (role: 'resp' | 'ping', i: number): string => `${role}-${i}`;

  beforeAll(async () => {
    platform = fleetPlatform(join(base, 'run'), 2 * PAIRS);
    await platform.start();
    const vif = (role: 1 | 2, i: number): VifSpec => ({ mac: mac(role, i), vlan: 100 + i, txSlots: SLOTS, rxSlots: SLOTS });
    // the responders one after the other, so their pingers' ARP requests find them listening ...
    for (let i = 0; i < PAIRS; i++) started.push(await runGuest(platform, name('resp', i), responderConfig('10.0.0.2'), vif(2, i)));
    // ... then the pingers, BATCH run() calls at a time; each pings for COUNT × INTERVAL_MS,
    // longer than starting them all takes, so all 50 have echoes in flight together
    const t0 = performance.now();
    for (let first = 0; first < PAIRS; first += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, PAIRS - first) }, (_, k) => first + k);
      started.push(...(await Promise.all(batch.map((i) => runGuest(platform, name('ping', i), pingerConfig('10.0.0.1', '10.0.0.2', COUNT, INTERVAL_MS), vif(1, i))))));
    }
    pingersStartMs = performance.now() - t0;
    launchers.push(...started.map((s) => s.row.pid));
  }, 120_000);

  afterAll(async () => {
    await platform?.close();
    rmSync(base, { recursive: true, force: true });
  }, 60_000);

  it('M4.1 all 100 guests connect their vifs; attach latency and memory are reported', async () => {
    await waitConnected(platform, started.map((s) => s.row.name), 60_000);
    const attachOf = (ss: readonly Started[]): number[] => ss.map((s) => attachMs(platform, s.row.name) ?? NaN);
    const [one, burst] = [attachOf(started.slice(0, PAIRS)), attachOf(started.slice(PAIRS))];
    expect([...one, ...burst].every((ms) => Number.isFinite(ms) && ms > 0)).toBe(true);
    for (const pid of launchers) {
      const g = guestPid(pid);
      expect(g, `no vpio-minios below launcher ${pid}`).toBeDefined();
      guests.push(g!);
    }
    const pss = guests.map(pssKb);
    expect(pss.every((kb) => kb > 0)).toBe(true);
    const total = pss.reduce((a, b) => a + b, 0);
    console.log(
      `M4: ${started.length} guests; attach (run() → both ends Connected) one at a time p50 ${percentile(one, 50).toFixed(1)} ms p99 ${percentile(one, 99).toFixed(1)} ms, ` +
        `${BATCH} at a time p50 ${percentile(burst, 50).toFixed(1)} ms p99 ${percentile(burst, 99).toFixed(1)} ms ` +
        `(the ${PAIRS} pingers started within ${(pingersStartMs / 1000).toFixed(1)} s, each pings for ${(COUNT * INTERVAL_MS) / 1000} s); ` +
        `guests' PSS total ${(total / 1024).toFixed(1)} MB (${(total / pss.length).toFixed(0)} kB each, max ${Math.max(...pss)} kB), ${SLOTS}-slot rings`,
    );
  }, 90_000);

  it('M4.2 every one of the 50 pingers gets all its echoes back', async () => {
    const doneAt = new Map<number, number>();
    const results = await until(
      `${PAIRS} ping results`,
      () => {
        const r = Array.from({ length: PAIRS }, (_, i) => events(platform, name('ping', i)).find((e) => e.event === 'ping'));
        for (const [i, e] of r.entries()) if (e && !doneAt.has(i)) doneAt.set(i, performance.now());
        return r.every(Boolean) ? r : undefined;
      },
      90_000,
      100,
    );
    // all 50 pinging together: the last pinger's vif connected before the first pinger finished
    const pingers = started.slice(PAIRS);
    const lastAttached = Math.max(...pingers.map((s) => s.t0 + (attachMs(platform, s.row.name) ?? NaN)));
    const firstDone = Math.min(...doneAt.values());
    const together = (firstDone - lastAttached) / 1000;
    console.log(
      together > 0
        ? `M4: all ${PAIRS} pingers had echoes in flight together for ${together.toFixed(1)} s`
        : `M4: the ${PAIRS} pingers did not all overlap (the machine took longer than the ${(COUNT * INTERVAL_MS) / 1000} s of pinging to start them)`,
    );
    for (const [i, r] of results.entries()) {
      expect(r, name('ping', i)).toMatchObject({ resolved: true, sent: COUNT, received: COUNT, duplicates: 0 });
    }
  }, 120_000);

  it('M4.3 the VLANs keep the pairs apart: each port received exactly what its peer sent', () => {
    const ports = new Map(platform.stats().ports.map((p) => [p.domid, p] as const));
    for (let i = 0; i < PAIRS; i++) {
      const ping = started.find((s) => s.row.name === name('ping', i))!.row;
      const resp = started.find((s) => s.row.name === name('resp', i))!.row;
      const p = ports.get(ping.domid);
      const r = ports.get(resp.domid);
      expect(p && r, `ports of pair ${i}`).toBeTruthy();
      // ARP request + COUNT echoes one way, ARP reply + COUNT replies the other
      expect(p!.inPackets, `pair ${i}: pinger sent`).toBeGreaterThanOrEqual(COUNT + 1);
      expect({ pair: i, toResponder: r!.outPackets, toPinger: p!.outPackets, drops: p!.dropsTotal + r!.dropsTotal }).toEqual({
        pair: i,
        toResponder: p!.inPackets,
        toPinger: r!.inPackets,
        drops: 0,
      });
    }
  });

  it('M4.4 closing the platform stops every guest and removes every cgroup', async () => {
    await platform.close();
    await until('every guest process to be gone', () => ([...launchers, ...guests].some(alive) ? undefined : true), 10_000, 50);
    expect([...launchers, ...guests].filter(alive)).toEqual([]);
    expect(cgroupsOf(process.pid)).toEqual([]);
  }, 60_000);
});
