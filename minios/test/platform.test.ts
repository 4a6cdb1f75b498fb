/**
 * Scenario M1 (minios on the real platform): objective: two minios guests
 * started by `vpio run` (one with --minios CONFIG, one naming the binary) on a `vpio up` platform (temp dir, 1024-slot rings)
 * connect their vifs, resolve each other with ARP and neighbour discovery,
 * and ping each other over IPv4 and IPv6 through the switch; the responder's
 * replies leave by buffer swap; each guest's proportional memory (PSS) stays
 * under 8 MB; `vpio destroy` makes a guest print its final stats and
 * disconnect cleanly. Real processes throughout (the built `vpio` command).
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BIN, guestPid, pssKb, root, vpio, waitFor } from './helpers.js';

describe('M1 two minios guests ping each other through the platform', () => {
  const base = mkdtempSync(join(tmpdir(), 'vpio-minios-'));
  chmodSync(base, 0o755);
  const dir = join(base, 'run');
  const launchers: Record<string, number> = {};

  beforeAll(async () => {
    const up = await vpio(['up', '--dir', dir, '--cores=-1']);
    expect(up.code, up.stderr).toBe(0);
    for (const [name, mac, cfg] of [['resp', '02:00:00:00:00:02', 'ping-responder.click'], ['ping', '02:00:00:00:00:01', 'pinger.click']] as const) {
      // the responder by `vpio run --minios` (the form both modes take), the pinger by its binary
      const guest = name === 'resp' ? ['--minios', join(root, 'configs', cfg)] : [BIN, join(root, 'configs', cfg)];
      const r = await vpio(['run', '--dir', dir, '--name', name, '--vif', `mac=${mac},tx-slots=1024,rx-slots=1024`, '--json', ...guest]);
      expect(r.code, r.stderr).toBe(0);
      launchers[name] = (JSON.parse(r.stdout) as { pid: number }).pid;
    }
  }, 60_000);

  afterAll(async () => {
    await vpio(['down', '--dir', dir]);
    rmSync(base, { recursive: true, force: true });
  }, 60_000);

  it('M1.1 both connect with 1024-slot rings and say ready', async () => {
    for (const name of ['resp', 'ping']) {
      const ev = await waitFor(dir, name, (e) => e.some((x) => x.event === 'ready'));
      const ready = ev.find((x) => x.event === 'ready');
      expect(ready, JSON.stringify(ev)).toMatchObject({ devices: [{ devid: 0, txSlots: 1024, rxSlots: 1024 }] });
    }
  }, 30_000);

  it('M1.2 the pinger resolves and gets every echo back over IPv4 and IPv6', async () => {
    const ev = await waitFor(dir, 'ping', (e) => e.filter((x) => x.event === 'ping').length === 2, 30_000);
    const pings = ev.filter((x) => x.event === 'ping');
    expect(pings).toHaveLength(2);
    for (const family of [4, 6]) {
      expect(pings.find((p) => p.family === family)).toMatchObject({ resolved: true, sent: 20, received: 20, duplicates: 0 });
    }
  }, 40_000);

  it('M1.3 each guest stays under 8 MB PSS with 1024-slot rings', () => {
    for (const name of ['resp', 'ping']) {
      const pid = guestPid(launchers[name] ?? 0);
      expect(pid, `no vpio-minios below ${launchers[name]}`).toBeDefined();
      const kb = pssKb(pid ?? 0);
      console.log(`minios ${name}: PSS ${kb} kB`);
      expect(kb).toBeGreaterThan(0);
      expect(kb).toBeLessThanOrEqual(8 * 1024);
    }
  });

  it('M1.4 destroy: the responder prints final stats (replies by buffer swap) and disconnects cleanly', async () => {
    const d = await vpio(['destroy', '--dir', dir, 'resp']);
    expect(d.code, d.stderr).toBe(0);
    const ev = await waitFor(dir, 'resp', (e) => e.some((x) => x.event === 'closed'));
    const final = ev.find((x) => x.event === 'final') as { elements: Record<string, Record<string, number>> } | undefined;
    expect(final).toBeDefined();
    const out = final?.elements.out;
    expect(out?.swapped).toBeGreaterThanOrEqual(40); // 20 + 20 echo replies, plus ARP/NA
    expect(out?.copied).toBe(0);
    expect(ev.find((x) => x.event === 'closed')).toEqual({ event: 'closed', rc: 0 });
  }, 30_000);
});
