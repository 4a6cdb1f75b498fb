/**
 * Scenario 9 (continued): the packet uplink under load.
 *   9.1b a TCP transfer (iperf3 -t 1, both directions) between a Linux guest
 *        and a plain namespace through a packet uplink;
 *   9.4b over-long frames (4000 bytes, MTU 9000 veths) on the uplink's veth
 *        are counted as drops and honest traffic still passes.
 * Both found bugs in vpio-uplink's AF_PACKET receive path (fixed with this
 * test): a block begun in one burst and finished in the next was never
 * handed back to the kernel while another was handed back twice (iperf3
 * stalled after a few hundred KB), and a burst whose frames were all
 * dropped kept its blocks (the ring froze after the over-long frames and
 * the pump spun on POLLIN).
 * A local veth sender's TCP checksums are partial (TP_STATUS_CSUMNOTREADY);
 * vpio-uplink counts them (rx_csum_not_ready) but forwards them as they are,
 * so the outside's veth has tx offload off here (a NIC hands over complete
 * checksums).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { root } from './helpers.js';
import { Lab, freshWireStats, ip, ping, run, vpio, waitConsole, wireStats } from './uplink-lab.js';

describe.skipIf(process.getuid?.() !== 0)('packet uplink under load', () => {
  const l = new Lab();
  afterAll(() => l.cleanup());

  it('9.1b iperf3 both ways through the packet uplink; 9.4b over-long frames are dropped and counted, ping still passes', async () => {
    const h = l.ns('ph');
    const o = l.ns('po');
    ip('-n', h, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'out0', 'netns', o);
    for (const [ns, dev] of [[h, 'up0'], [o, 'out0']] as const) ip('-n', ns, 'link', 'set', dev, 'mtu', '9000', 'up');
    ip('-n', o, 'addr', 'add', '10.99.1.1/24', 'dev', 'out0');
    // a NIC hands over complete checksums; a local veth sender leaves TCP's partial
    // (TP_STATUS_CSUMNOTREADY, which vpio-uplink counts but forwards as is)
    execFileSync('ip', ['netns', 'exec', o, 'ethtool', '-K', 'out0', 'tx', 'off'], { stdio: 'ignore' });
    const dir = await l.up(h);
    expect((await vpio(dir, 'uplink', 'add', 'up0', '--mode', 'packet')).code).toBe(0);
    l.spawnIn(o, ['iperf3', '-s', '-B', '10.99.1.1']);
    const g = await vpio(dir, 'run', '--name', 'g', '--linux', '--ip', '10.99.1.2/24', '--vif', 'mtu=1500', '--', 'sh', '-c',
      'ping -c 2 -W 2 10.99.1.1 && iperf3 -c 10.99.1.1 -t 1 && iperf3 -c 10.99.1.1 -t 1 -R && echo XFER-DONE; sleep 60');
    expect(g.code, g.stderr).toBe(0);
    const text = await waitConsole(dir, 'g', /XFER-DONE|iperf3: error/, 25_000);
    expect(text).toContain('XFER-DONE');

    const work = mkdtempSync(join(tmpdir(), 'vpio-garbage-'));
    try {
      const garbage = join(work, 'wire-garbage');
      execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', garbage, join(root, 'test', 'c', 'wire-garbage.c')]);
      const before = await wireStats(dir, 'uplink-up0');
      const sent = await run('ip', ['netns', 'exec', o, garbage, 'packet', 'out0']);
      expect(sent.stdout.trim(), sent.stderr).toBe('sent=20');
      const after = await freshWireStats(dir, 'uplink-up0');
      const dropped = (w: Record<string, number>): number => w.rx_drops! + (w.rx_kernel_drops ?? 0);
      expect(dropped(after) - dropped(before), JSON.stringify(after)).toBeGreaterThanOrEqual(20);
      expect((await ping(o, '10.99.1.2')).code).toBe(0);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 60_000);
});
