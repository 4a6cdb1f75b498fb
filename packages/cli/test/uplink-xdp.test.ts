/**
 * Scenario 9 (continued): the AF_XDP uplink, end to end. Objective:
 * `vpio uplink add IFNAME --mode xdp` puts the port on an AF_XDP socket that
 * vpio-launch's monitor binds (vpio's XDP program attached to IFNAME while
 * the port lives), `--mode auto` does so whenever vpio-xdp-probe says the
 * interface can carry one, and falls back to AF_PACKET saying why when it
 * cannot. Real parts only: `vpio up` inside a network namespace this suite
 * makes, veth pairs to plain namespaces, Linux guests (g, 10.99.1.2, runs
 * for the whole suite; c, 10.99.1.3, the traffic of 9.5), ping and iperf3.
 *   9.5 a Linux guest reaches a plain namespace through `--mode xdp` on a
 *       veth: ping both ways, iperf3 -t 2 both directions; `vpio ls` shows
 *       "uplink up0 (xdp copy native)" (veth: native XDP, no zero-copy);
 *       `ip -d link show up0` shows vpio's XDP program while the uplink
 *       exists and none after `vpio uplink rm up0`;
 *   9.6 `--mode auto` (the default) on a one-queue veth picks xdp;
 *   9.7 on a veth with 2 active rx queues, `--mode xdp` is refused with the
 *       probe's reason and starts nothing; `--mode auto` runs the port on
 *       AF_PACKET, the reason in its wire info, and traffic passes.
 * The outside's veths have tx offload off, as in uplink-packet.test.ts: a
 * local veth sender leaves TCP checksums partial (a NIC completes them).
 * Root only. Namespaces vpio-t-<pid>-<tag>, removed afterwards also on
 * failure; addresses 10.99.x.x inside them only.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '@vpio/cli/test-utils';
import type { DomainRow, LsResult } from '../src/protocol.js';
import { Lab, ip, ping, rxQueues, vpio, vpioJson, waitConsole, wireStats, xdpOnLink } from './uplink-lab.js';

describe.skipIf(process.getuid?.() !== 0)('AF_XDP uplink end to end', () => {
  const l = new Lab();
  let h: string;
  let o: string;
  let dir: string;
  afterAll(() => l.cleanup());

  beforeAll(async () => {
    h = l.ns('xh');
    o = l.ns('xo');
    ip('-n', h, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'out0', 'netns', o);
    for (const [ns, dev] of [[h, 'up0'], [o, 'out0']] as const) ip('-n', ns, 'link', 'set', dev, 'up');
    ip('-n', o, 'addr', 'add', '10.99.1.1/24', 'dev', 'out0');
    execFileSync('ip', ['netns', 'exec', o, 'ethtool', '-K', 'out0', 'tx', 'off'], { stdio: 'ignore' });
    expect(rxQueues(h, 'up0')).toBe(1);
    dir = await l.up(h);
    const g = await vpio(dir, 'run', '--name', 'g', '--linux', '--ip', '10.99.1.2/24', '--', 'sleep', '600');
    expect(g.code, g.stderr).toBe(0);
  }, 30_000);

  const domainNames = async (): Promise<string[]> => (await vpioJson<LsResult>(dir, 'ls')).domains.map((d) => d.name);

  it('9.5 --mode xdp: ping both ways and iperf3 -t 2 both directions through the AF_XDP uplink; ls shows xdp; the XDP program is on up0 until uplink rm', async () => {
    expect(xdpOnLink(h, 'up0')).toBeUndefined();
    const add = await vpio(dir, 'uplink', 'add', 'up0', '--mode', 'xdp');
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/uplink up0 \(xdp( \w+ \w+)?\) is domain \d+ "uplink-up0"/);
    expect(add.stdout).toMatch(/backend Connected, frontend Connected/);
    expect(xdpOnLink(h, 'up0'), ip('-n', h, '-d', 'link', 'show', 'dev', 'up0')).toBeDefined();

    // one server per direction: an iperf3 server re-listens after each test, and a client right
    // behind the first can find the port closed (CI saw 'Connection refused' on the -R run)
    l.spawnIn(o, ['iperf3', '-s', '-B', '10.99.1.1', '-p', '5201']);
    l.spawnIn(o, ['iperf3', '-s', '-B', '10.99.1.1', '-p', '5202']);
    const c = await vpio(dir, 'run', '--name', 'c', '--linux', '--ip', '10.99.1.3/24', '--vif', 'mtu=1500', '--', 'sh', '-c',
      'ping -c 3 -W 2 10.99.1.1 && iperf3 -c 10.99.1.1 -p 5201 -t 2 && iperf3 -c 10.99.1.1 -p 5202 -t 2 -R && echo XFER-DONE; sleep 300');
    expect(c.code, c.stderr).toBe(0);
    const text = await waitConsole(dir, 'c', /XFER-DONE|iperf3: error|packet loss/, 30_000);
    expect(text).toMatch(/3 packets transmitted, 3 received/);
    const done = await waitConsole(dir, 'c', /XFER-DONE|iperf3: error/, 30_000);
    expect(done).toContain('XFER-DONE');
    // both transfers moved data (iperf3's receiver lines)
    expect(done.match(/ receiver$/gm)?.length ?? 0, done).toBeGreaterThanOrEqual(2);
    expect((await ping(o, '10.99.1.2')).code).toBe(0);
    expect((await ping(o, '10.99.1.3')).code).toBe(0);

    // the tenant's stats line: the AF_XDP wire, copy mode, native attach, queue 0 (veth has no zero-copy)
    const w = await wireStats(dir, 'uplink-up0');
    expect(w).toMatchObject({ kind: 'xdp', zerocopy: 0, attach_native: 1, queue: 0 });
    expect(w.rx_frames, JSON.stringify(w)).toBeGreaterThan(0);
    expect(w.tx_frames, JSON.stringify(w)).toBeGreaterThan(0);
    const ls = await vpioJson<LsResult>(dir, 'ls');
    expect(ls.domains.find((d) => d.name === 'uplink-up0')?.wire).toEqual({
      kind: 'uplink', ifname: 'up0', mode: 'xdp', bind: 'copy', attach: 'native', text: 'uplink up0 (xdp copy native)',
    });
    expect((await vpio(dir, 'ls')).stdout).toMatch(/WIRE\n(.|\n)*uplink up0 \(xdp copy native\)/);
    expect(xdpOnLink(h, 'up0')).toMatchObject({ mode: 'xdp' });

    const rm = await vpio(dir, 'uplink', 'rm', 'up0');
    expect(rm.code, rm.stderr).toBe(0);
    expect(await domainNames()).toEqual(['g', 'c']);
    // the monitor detaches the program when the domain ends
    await until('the XDP program to leave up0', () => (xdpOnLink(h, 'up0') === undefined ? true : undefined), 3000, 50)
      .catch(() => expect.fail(`after uplink rm: ${ip('-n', h, '-d', 'link', 'show', 'dev', 'up0')}`));
    const after = await ping(o, '10.99.1.2');
    expect(after.code, after.stdout).not.toBe(0);
  }, 90_000);

  it('9.6 --mode auto (the default) on a one-queue veth picks xdp', async () => {
    const add = await vpio(dir, 'uplink', 'add', 'up0', '--json');
    expect(add.code, add.stderr).toBe(0);
    const row = JSON.parse(add.stdout) as DomainRow;
    expect(row.wire).toMatchObject({ kind: 'uplink', ifname: 'up0', mode: 'xdp' });
    expect(row.wire).not.toHaveProperty('fallback');
    expect(xdpOnLink(h, 'up0')).toBeDefined();
    expect((await ping(o, '10.99.1.2')).code).toBe(0);
    const up = await until('the stats line to say how the socket is bound', async () => {
      const w = (await vpioJson<LsResult>(dir, 'ls')).domains.find((d) => d.name === 'uplink-up0')?.wire;
      return w?.text !== 'uplink up0 (xdp)' ? w : undefined;
    }, 5000, 200);
    expect(up?.text).toBe('uplink up0 (xdp copy native)');
    expect((await vpio(dir, 'uplink', 'rm', 'up0')).code).toBe(0);
    await until('the XDP program to leave up0', () => (xdpOnLink(h, 'up0') === undefined ? true : undefined), 3000, 50);
  }, 60_000);

  it('9.7 a veth with 2 active rx queues: --mode xdp is refused with the probe\'s reason, starting nothing; auto runs it on AF_PACKET and says why', async () => {
    const o2 = l.ns('xq');
    ip('-n', h, 'link', 'add', 'up1', 'numtxqueues', '2', 'numrxqueues', '2', 'type', 'veth', 'peer', 'name', 'out1', 'numtxqueues', '2', 'numrxqueues', '2', 'netns', o2);
    if (rxQueues(h, 'up1') !== 2) execFileSync('ip', ['netns', 'exec', h, 'ethtool', '-L', 'up1', 'rx', '2', 'tx', '2']);
    expect(rxQueues(h, 'up1')).toBe(2);
    for (const [ns, dev] of [[h, 'up1'], [o2, 'out1']] as const) ip('-n', ns, 'link', 'set', dev, 'up');
    ip('-n', o2, 'addr', 'add', '10.99.1.9/24', 'dev', 'out1');
    const before = await domainNames();

    const xdp = await vpio(dir, 'uplink', 'add', 'up1', '--mode', 'xdp');
    expect([xdp.code, xdp.stderr.trim()]).toEqual([1, expect.stringMatching(/^vpio uplink: uplink up1 --mode xdp: up1 has 2 rx queues; the AF_XDP wire serves one queue: ethtool -L up1 rx 1 \(or combined 1\), or --mode packet$/)]);
    expect(await domainNames()).toEqual(before);
    expect(xdpOnLink(h, 'up1')).toBeUndefined();

    const auto = await vpio(dir, 'uplink', 'add', 'up1', '--json');
    expect(auto.code, auto.stderr).toBe(0);
    const row = JSON.parse(auto.stdout) as DomainRow;
    expect(row.wire).toEqual({
      kind: 'uplink', ifname: 'up1', mode: 'packet', text: 'uplink up1 (packet)',
      fallback: expect.stringMatching(/^up1 has 2 rx queues; the AF_XDP wire serves one queue/),
    });
    expect(xdpOnLink(h, 'up1')).toBeUndefined();
    expect((await vpio(dir, 'ls')).stdout).toMatch(/uplink up1 \(packet\)/);
    expect((await ping(o2, '10.99.1.2')).code).toBe(0);
    expect((await vpio(dir, 'uplink', 'rm', 'up1')).code).toBe(0);
  }, 60_000);
});
