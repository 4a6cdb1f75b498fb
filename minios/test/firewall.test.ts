/**
 * Scenario M2 (the shipped firewall on the real platform): objective: a
 * pktgen guest sends three counted UDP flows to a minios guest running the
 * shipped configs/firewall.click, which forwards what it allows to a sink
 * guest (configs/sink.click) on the same switch. Lossless vifs, so the
 * switch holds rather than drops. The firewall's rule hits are exactly the
 * configured split (500 spoofed from 10.9.0.0/16 denied by rule 0, 3000 to
 * port 9001 allowed by rule 1, 1000 to port 23 denied by the catch-all), and
 * every allowed packet is accounted for: received by the sink or counted as
 * dropped by the firewall's ToNetfront.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, root, vpio, waitFor, type Event } from './helpers.js';

const MAC = { firewall: '02:00:00:00:00:01', sink: '02:00:00:00:00:02', pktgen: '02:00:00:00:00:03' } as const;
const FLOWS = { allowed: 3000, spoofed: 500, telnet: 1000 } as const;

const pktgenConfig = [
  'out :: ToNetfront(0);',
  `ok :: Pktgen(SRC_MAC auto, DST_MAC ${MAC.firewall}, SRC_IP 10.0.0.5, DST_IP 10.0.0.2, LEN 60, RATE 20000, COUNT ${FLOWS.allowed}, BURST 32, DPORT 9001);`,
  `spoof :: Pktgen(SRC_MAC auto, DST_MAC ${MAC.firewall}, SRC_IP 10.9.1.1, DST_IP 10.0.0.2, LEN 60, RATE 5000, COUNT ${FLOWS.spoofed}, BURST 32, DPORT 9001);`,
  `telnet :: Pktgen(SRC_MAC auto, DST_MAC ${MAC.firewall}, SRC_IP 10.0.0.5, DST_IP 10.0.0.2, LEN 60, RATE 10000, COUNT ${FLOWS.telnet}, BURST 32, DPORT 23);`,
  'ok -> out; spoof -> out; telnet -> out;',
  'FromNetfront(0) -> Sink;',
].join('\n');

type Elements = Record<string, Record<string, number | number[]>>;

function lastStats(ev: Event[]): Elements {
  return ((ev.filter((e) => e.event === 'stats').at(-1)?.elements ?? {}) as Elements);
}

describe('M2 the shipped firewall drops exactly the configured packets', () => {
  const base = mkdtempSync(join(tmpdir(), 'vpio-minios-fw-'));
  chmodSync(base, 0o755);
  const dir = join(base, 'run');

  beforeAll(async () => {
    const up = await vpio(['up', '--dir', dir, '--cores=-1']);
    expect(up.code, up.stderr).toBe(0);
    const guests: Array<[string, string, string[]]> = [
      ['sink', MAC.sink, [join(root, 'configs', 'sink.click')]],
      ['fw', MAC.firewall, [join(root, 'configs', 'firewall.click')]],
      ['gen', MAC.pktgen, ['-e', pktgenConfig]],
    ];
    for (const [name, mac, args] of guests) {
      const r = await vpio(['run', '--dir', dir, '--name', name, '--vif', `mac=${mac},lossless=1`, BIN, ...args, '--stats-interval', '200']);
      expect(r.code, r.stderr).toBe(0);
    }
  }, 60_000);

  afterAll(async () => {
    await vpio(['down', '--dir', dir]);
    rmSync(base, { recursive: true, force: true });
  }, 60_000);

  it('M2.1 rule hits are 500 / 3000 / 0 / 1000 and every allowed packet reaches the sink or is counted', async () => {
    const gen = await waitFor(dir, 'gen', (e) => e.filter((x) => x.event === 'pktgen-done').length === 3, 40_000);
    expect(gen.filter((x) => x.event === 'pktgen-done'), JSON.stringify(gen.at(-1))).toHaveLength(3);
    const total = FLOWS.allowed + FLOWS.spoofed + FLOWS.telnet;
    const sum = (h: unknown): number => (Array.isArray(h) ? (h as number[]).reduce((a, b) => a + b, 0) : 0);
    const fwEv = await waitFor(dir, 'fw', (e) => sum(lastStats(e).fw?.hits) === total, 20_000);
    const fw = lastStats(fwEv);
    // rules: deny src 10.9.0.0/16 && udp, allow udp && dst port 9000-9099, allow icmp, deny all
    expect(fw.fw?.hits).toEqual([FLOWS.spoofed, FLOWS.allowed, 0, FLOWS.telnet]);
    expect(fw.fw?.nomatch).toBe(0);
    expect(fw.passed?.count).toBe(FLOWS.allowed);
    const fwDropped = Number(fw.out?.dropped ?? 0);
    const sinkEv = await waitFor(dir, 'sink', (e) => Number(lastStats(e).rx?.count ?? 0) === FLOWS.allowed - fwDropped, 20_000);
    expect(Number(lastStats(sinkEv).rx?.count) + fwDropped).toBe(FLOWS.allowed);
    // the switch agrees: what the sink's port delivered is what the sink counted, nothing dropped on the way
    const stats = JSON.parse((await vpio(['stats', '--dir', dir, '--json'])).stdout) as { ports: Array<{ name?: string; outPackets: number; dropsTotal: number }> };
    const sinkPort = stats.ports.find((p) => p.name === 'sink');
    expect(sinkPort?.outPackets).toBe(FLOWS.allowed - fwDropped);
    for (const p of stats.ports) expect(p.dropsTotal, p.name).toBe(0);
    // the forwarded packets left the firewall by buffer swap, not by copy
    expect(fw.out?.copied).toBe(0);
  }, 90_000);
});
