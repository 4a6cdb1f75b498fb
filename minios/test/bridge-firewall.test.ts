/**
 * Scenario M5 (the shipped bridge firewall between two VLANs): objective: a
 * minios guest running configs/bridge-firewall.click (`vpio run --minios`,
 * vif 0 on VLAN 10, vif 1 on VLAN 20, both `mac-lock=0` since it forwards
 * other guests' frames unchanged, lossless with 1024 TX slots as the
 * config's header advises) is the only path between two Linux guests of
 * one IPv4 subnet, 10.80.0.1 (VLAN 10, the client side) and 10.80.0.2
 * (VLAN 20, iperf3 servers on ports 5201 and 5202):
 *   M5.1 ping crosses the firewall both ways (ARP crosses unchanged);
 *   M5.2 iperf3 TCP to port 5201 (1 s) completes, every byte through f01's
 *        TCP-5201 rule;
 *   M5.3 a TCP connection to port 5202 times out although a server listens
 *        there: its SYNs end in f01's deny-all rule and never reach it;
 *   M5.4 the firewall's per-rule hits (its console stats) agree: ICMP, TCP
 *        5201 and deny-all > 0, nothing unmatched, every frame copied across;
 *   M5.5 with the firewall destroyed, 10.80.0.1 no longer reaches 10.80.0.2
 *        (the VLANs separate them), while a guest on VLAN 20 still does.
 * The client side is a fresh guest per case with the same MAC and address.
 * Real platform (`vpio up` on a temp dir), real processes, no mocks.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempBase, until } from '@vpio/cli/test-utils';
import { root, vpio, waitFor, type Event } from './helpers.js';

const CONFIG = join(root, 'configs', 'bridge-firewall.click');
const A = { ip: '10.80.0.1', vif: 'mac=02:00:00:80:00:01,vlan=10' } as const;
const B = { ip: '10.80.0.2', vif: 'mac=02:00:00:80:00:02,vlan=20' } as const;
/** The largest TCP payload of one 1500-byte-MTU frame: every segment across the firewall carries at most this. */
const MSS_MAX = 1460;

type Elements = Record<string, Record<string, number | number[]>>;
/** f01: vif 0 → vif 1, f10: vif 1 → vif 0; each [icmp, tcp 5201, deny all]. */
type Hits = { f01: number[]; f10: number[] };

interface Console {
  readonly alive: boolean;
  readonly text: string;
  readonly stderr: string;
  readonly exit: { code: number | null } | null;
}

function lastStats(ev: Event[]): Elements {
  return (ev.filter((e) => e.event === 'stats').at(-1)?.elements ?? {}) as Elements;
}

function hitsOf(el: Elements): Hits {
  return { f01: (el.f01?.hits as number[] | undefined) ?? [0, 0, 0], f10: (el.f10?.hits as number[] | undefined) ?? [0, 0, 0] };
}

/** ping's "N packets transmitted, M received" (the last summary in text). */
function pingSummary(text: string): { sent: number; received: number } | undefined {
  const m = [...text.matchAll(/(\d+) packets transmitted, (\d+) received/g)].at(-1);
  return m ? { sent: Number(m[1]), received: Number(m[2]) } : undefined;
}

describe('M5 the shipped bridge firewall is the only path between two VLANs', () => {
  const t = tempBase('vpio-minios-bfw-');
  const dir = t.dir;

  const consoleOf = async (name: string): Promise<Console> => {
    const r = await vpio(['console', '--dir', dir, name, '--json']);
    if (r.code !== 0) throw new Error(`vpio console ${name}: ${r.stderr}`);
    return JSON.parse(r.stdout) as Console;
  };
  const ended = (name: string, timeoutMs = 30_000): Promise<Console> =>
    until(`${name} to end`, async () => {
      const c = await consoleOf(name);
      return c.alive ? undefined : c;
    }, timeoutMs, 100);
  const linux = async (name: string, side: { ip: string; vif: string }, script: string): Promise<void> => {
    const r = await vpio(['run', '--dir', dir, '--name', name, '--linux', '--ip', `${side.ip}/24`, '--vif', side.vif, '--', '/bin/sh', '-c', script]);
    expect(r.code, r.stderr).toBe(0);
  };
  /** The firewall's rule hits once pred holds for its latest stats line (stats every 200 ms). */
  const hitsWhen = async (pred: (h: Hits) => boolean, timeoutMs = 20_000): Promise<Hits> =>
    hitsOf(lastStats(await waitFor(dir, 'fw', (e) => pred(hitsOf(lastStats(e))), timeoutMs)));

  beforeAll(async () => {
    const up = await vpio(['up', '--dir', dir, '--cores=-1']);
    expect(up.code, up.stderr).toBe(0);
    const fw = await vpio(['run', '--dir', dir, '--name', 'fw', '--minios', CONFIG, '--stats-interval', '200',
      '--vif', 'vlan=10,mac-lock=0,lossless=1,tx-slots=1024', '--vif', 'vlan=20,mac-lock=0,lossless=1,tx-slots=1024']);
    expect(fw.code, fw.stderr).toBe(0);
    const ev = await waitFor(dir, 'fw', (e) => e.some((x) => x.event === 'stats'));
    expect(ev.find((x) => x.event === 'ready'), JSON.stringify(ev.at(-1))).toMatchObject({ devices: [{ devid: 0 }, { devid: 1 }] });
    // B: both servers (--forceflush: their lines reach the console as they happen); once A has asked for
    // B's MAC (A starts in M5.1; B's kernel then knows A's) B pings A, then stays
    await linux('b', B, `iperf3 -s -p 5201 --forceflush & iperf3 -s -p 5202 --forceflush & until ip neigh show ${A.ip} | grep -q lladdr; do sleep 0.1; done; ping -c 3 -i 0.2 -w 30 ${A.ip}; echo "b-ping rc=$?"; wait`);
  }, 60_000);

  afterAll(async () => {
    await vpio(['down', '--dir', dir]);
    t.cleanup();
  }, 60_000);

  it('M5.1 ping crosses the firewall both ways', async () => {
    const before = await hitsWhen(() => true);
    await linux('a1', A, `ping -c 3 -i 0.2 -w 30 ${B.ip}; echo "a-ping rc=$?"; exec sleep 120`);
    const a = await until('a1 to finish pinging', async () => {
      const c = await consoleOf('a1');
      return c.text.includes('a-ping rc=') || !c.alive ? c : undefined;
    }, 40_000);
    expect(a.text, `${a.text}\n${a.stderr}`).toContain('a-ping rc=0');
    // a1 sleeps on while B pings it
    const b = await until('b to finish pinging', async () => {
      const c = await consoleOf('b');
      return c.text.includes('b-ping rc=') ? c : undefined;
    }, 70_000);
    expect(b.text, `${b.text}\n${b.stderr}`).toContain('b-ping rc=0');
    const pa = pingSummary(a.text);
    const pb = pingSummary(b.text);
    expect(pa?.received).toBe(3);
    expect(pb?.received).toBe(3);
    expect((await vpio(['destroy', '--dir', dir, 'a1'])).code).toBe(0);
    // each echo answered crossed both filters by their ICMP rule: A's requests and B's replies, B's requests and A's replies
    const icmp = pa!.received + pb!.received;
    const after = await hitsWhen((h) => h.f01[0]! - before.f01[0]! >= icmp && h.f10[0]! - before.f10[0]! >= icmp);
    expect(after.f01[0]! - before.f01[0]!).toBeGreaterThanOrEqual(icmp);
    expect(after.f10[0]! - before.f10[0]!).toBeGreaterThanOrEqual(icmp);
  }, 120_000);

  it('M5.2 iperf3 TCP to port 5201 completes through the firewall', async () => {
    await until('the iperf3 servers to listen', async () => {
      const text = (await consoleOf('b')).text;
      return text.includes('Server listening on 5201') && text.includes('Server listening on 5202') ? true : undefined;
    });
    const before = await hitsWhen(() => true);
    await linux('a2', A, `exec iperf3 -c ${B.ip} -p 5201 -t 1 --json`);
    const a = await ended('a2', 60_000);
    expect(a.exit?.code, `${a.text}\n${a.stderr}`).toBe(0);
    const json = a.text.slice(a.text.indexOf('{\n'));
    const report = JSON.parse(json.slice(0, json.lastIndexOf('\n}') + 2)) as { end: { sum_sent: { bytes: number; retransmits: number }; sum_received: { bytes: number; bits_per_second: number } } };
    const bytes = report.end.sum_received.bytes;
    expect(bytes).toBeGreaterThan(0);
    console.log(`M5.2 iperf3 TCP 1 s through the bridge firewall: ${(report.end.sum_received.bits_per_second / 1e6).toFixed(0)} Mb/s received, ${report.end.sum_sent.retransmits} retransmits`);
    // every byte B received crossed f01 by its TCP-5201 rule, in frames of at most one MSS; B's ACKs by f10's
    const segments = Math.ceil(bytes / MSS_MAX);
    const after = await hitsWhen((h) => h.f01[1]! - before.f01[1]! >= segments && h.f10[1]! > before.f10[1]!);
    expect(after.f01[1]! - before.f01[1]!).toBeGreaterThanOrEqual(segments);
    expect(after.f10[1]!).toBeGreaterThan(before.f10[1]!);
  }, 90_000);

  it('M5.3 TCP to port 5202 times out although a server listens there: the SYNs hit the deny-all rule', async () => {
    const before = await hitsWhen(() => true);
    await linux('a3', A, `exec iperf3 -c ${B.ip} -p 5202 -t 1 --connect-timeout 1500`);
    const a = await ended('a3', 60_000);
    expect(a.exit?.code, `${a.text}\n${a.stderr}`).not.toBe(0);
    expect(a.stderr).toContain('unable to connect to server: Connection timed out');
    const after = await hitsWhen((h) => h.f01[2]! > before.f01[2]!);
    expect(after.f01[2]! - before.f01[2]!).toBeGreaterThanOrEqual(1);
    // the 5202 server never saw a connection: B's only accepted one is M5.2's on 5201
    expect((await consoleOf('b')).text.match(/Accepted connection from/g) ?? []).toHaveLength(1);
  }, 90_000);

  it('M5.4 the firewall counts per rule what happened: ICMP, TCP 5201 and deny-all hits, nothing unmatched, every frame copied across', async () => {
    const ev = await waitFor(dir, 'fw', (e) => e.some((x) => x.event === 'stats'));
    const el = lastStats(ev);
    const { f01, f10 } = hitsOf(el);
    console.log(`M5.4 rule hits [icmp, tcp 5201, deny all]: f01 (VLAN 10 → 20) ${JSON.stringify(f01)}, f10 (VLAN 20 → 10) ${JSON.stringify(f10)}; ARP ${JSON.stringify([(el.c0?.hits as number[])[0], (el.c1?.hits as number[])[0]])}, non-IP ${el.nonip?.dropped}; sent/dropped out1 ${el.out1?.sent}/${el.out1?.dropped}, out0 ${el.out0?.sent}/${el.out0?.dropped}`);
    expect(f01[0]).toBeGreaterThan(0);
    expect(f01[1]).toBeGreaterThan(0);
    expect(f01[2]).toBeGreaterThan(0);
    expect(f10[0]).toBeGreaterThan(0);
    expect(f10[1]).toBeGreaterThan(0);
    expect(el.f01?.nomatch).toBe(0);
    expect(el.f10?.nomatch).toBe(0);
    // ARP crossed both ways (requests from both sides, replies back)
    expect((el.c0?.hits as number[])[0]).toBeGreaterThan(0);
    expect((el.c1?.hits as number[])[0]).toBeGreaterThan(0);
    // what left each vif came from the other one: copied, never swapped back out of the vif it came from
    for (const out of ['out0', 'out1']) {
      expect(el[out]?.copied, out).toBeGreaterThan(0);
      expect(el[out]?.swapped, out).toBe(0);
    }
    // what reached each ToNetfront is the other side's ARP plus what its filter allowed; all of it sent or counted as dropped
    const allowed = (f: number[]): number => f[0]! + f[1]!;
    expect(el.out1?.in).toBe((el.c0?.hits as number[])[0]! + allowed(f01));
    expect(el.out0?.in).toBe((el.c1?.hits as number[])[0]! + allowed(f10));
    for (const out of ['out0', 'out1']) expect(Number(el[out]?.sent) + Number(el[out]?.dropped), out).toBe(el[out]?.in);
  }, 30_000);

  it('M5.5 without the firewall 10.80.0.1 no longer reaches 10.80.0.2, while a guest on VLAN 20 still does', async () => {
    const d = await vpio(['destroy', '--dir', dir, 'fw']);
    expect(d.code, d.stderr).toBe(0);
    const fw = await waitFor(dir, 'fw', (e) => e.some((x) => x.event === 'closed'));
    expect(fw.find((x) => x.event === 'closed')).toEqual({ event: 'closed', rc: 0 });
    await Promise.all([
      linux('a4', A, `exec ping -c 3 -i 0.2 -w 2 ${B.ip}`),
      linux('c', { ip: '10.80.0.3', vif: 'mac=02:00:00:80:00:03,vlan=20' }, `exec ping -c 3 -i 0.2 -w 30 ${B.ip}`),
    ]);
    const [a, c] = await Promise.all([ended('a4'), ended('c')]);
    expect(a.exit?.code, `${a.text}\n${a.stderr}`).not.toBe(0);
    expect(pingSummary(a.text)?.received, a.text).toBe(0);
    expect(c.exit?.code, `${c.text}\n${c.stderr}`).toBe(0);
    expect(pingSummary(c.text)?.received).toBe(3);
    expect((await consoleOf('b')).alive).toBe(true);
  }, 60_000);
});
