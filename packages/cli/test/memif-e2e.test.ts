/**
 * Scenario 11 (memif ports, end to end): objective: `vpio memif add` makes a
 * switch port whose far end is an unmodified DPDK application. Real parts
 * only: `vpio up` in a network namespace (uplink-lab.ts), two memif ports on
 * access VLANs 10 and 20, two Linux guests (one on each VLAN, same subnet),
 * and dpdk-testpmd (net_memif role=client on both sockets, io forwarding)
 * as the only path between the VLANs.
 *   11.1 the guests ping each other through testpmd; `vpio ls` shows
 *        "memif PATH (connected)"; each port's counters (vpio-uplink's
 *        stats line) equal testpmd's port statistics once traffic stops;
 *        after testpmd leaves, the ports are "listening" again and still run;
 *   11.2 a hostile client (test/c/memif-unsealed.c: an unsealed region) is
 *        refused with the library's reason, counted (refused_region_unsealed)
 *        and logged on the port's console; the port keeps listening and the
 *        platform keeps running.
 * Root only; as root dpdk-testpmd must be installed (Debian: dpdk-dev).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LsResult } from '../src/protocol.js';
import { root } from './helpers.js';
import { Lab, consoleText, vpio, vpioJson, waitConsole, wireStats } from './uplink-lab.js';

const isRoot = process.getuid?.() === 0;
const hasTestpmd = spawnSync('sh', ['-c', 'command -v dpdk-testpmd'], { encoding: 'utf8' }).status === 0;

/** testpmd's final "Forward statistics for port N" RX/TX-packets. */
function forwardStats(out: string, port: number): { rx: number; tx: number } {
  const block = (out.split(`Forward statistics for port ${port}`).pop() ?? '').split('Forward statistics for port')[0] ?? '';
  const rx = /RX-packets:\s+(\d+)/.exec(block);
  const tx = /TX-packets:\s+(\d+)/.exec(block);
  if (!rx || !tx) throw new Error(`no forward statistics for port ${port} in testpmd's output:\n${out.slice(-2000)}`);
  return { rx: Number(rx[1]), tx: Number(tx[1]) };
}

/** Waits until the port's vpio-uplink wrote a line matching re on stderr (its memif events). */
async function waitStderr(dir: string, name: string, re: RegExp, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { stderr } = await consoleText(dir, name);
    if (re.test(stderr)) return stderr;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${name} to write ${re} on stderr:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe.skipIf(!isRoot)('memif ports end to end', () => {
  const labs: Lab[] = [];
  const work = mkdtempSync(join(tmpdir(), 'vpio-mt-'));
  afterAll(async () => {
    for (const l of labs) await l.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  it('dpdk-testpmd is installed', () => {
    expect(hasTestpmd, 'no dpdk-testpmd on PATH: apt-get install dpdk-dev').toBe(true);
  });

  it('11.1 two guests on VLANs 10 and 20 ping through testpmd between two memif ports; counts match testpmd\'s; ls shows connected, then listening', async () => {
    const l = new Lab();
    labs.push(l);
    const dir = await l.up(l.ns('mh'));
    const p0 = join(work, 'p0.sock');
    const p1 = join(work, 'p1.sock');
    // p1 wants a secret (testpmd sends it below); it reaches the port in its environment, never its command line
    const secret = 'e2e-s3cret';
    for (const [name, sock, vlan] of [['p0', p0, '10'], ['p1', p1, '20']] as const) {
      const r = await vpio(dir, 'memif', 'add', name, '--socket', sock, '--vlan', vlan, ...(name === 'p1' ? ['--secret', secret] : []));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`memif ${sock} \\(listening\\) is domain \\d+ "memif-${name}"`));
    }
    expect((await vpio(dir, 'ls')).stdout).toMatch(/WIRE\n(.|\n)*memif \/.*p0\.sock \(listening\)/);
    const p1Pid = (await vpioJson<LsResult>(dir, 'ls')).domains.find((d) => d.name === 'memif-p1')?.pid ?? 0;
    const cmdlines = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    expect(cmdlines).toContain('--wire memif');
    expect(cmdlines).not.toContain(secret);
    expect(p1Pid).toBeGreaterThan(0);

    const prefix = `vpio-mt-${process.pid}`;
    let pmdOut = '';
    const pmd = spawn('timeout', [
      '-s', 'INT', '-k', '5', '20', 'dpdk-testpmd',
      '--no-huge', '-m', '512', '--single-file-segments', '--no-pci', '--lcores', '0@0,1@0', '--file-prefix', prefix,
      '--vdev', `net_memif0,role=client,socket=${p0},socket-abstract=no`,
      '--vdev', `net_memif1,role=client,socket=${p1},socket-abstract=no,secret=${secret}`,
      '--', '--forward-mode=io', '--total-num-mbufs=8192', '--stats-period', '1',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    pmd.stdout.on('data', (d: Buffer) => (pmdOut += d.toString('latin1')));
    pmd.stderr.on('data', (d: Buffer) => (pmdOut += d.toString('latin1')));
    const pmdDone = new Promise<void>((resolve) => pmd.on('close', () => resolve()));
    try {
      await waitStderr(dir, 'memif-p0', /client "[^"]*" connected/, 15_000);
      await waitStderr(dir, 'memif-p1', /client "[^"]*" connected/, 15_000);
      const b = await vpio(dir, 'run', '--name', 'b', '--linux', '--ip', '10.99.30.2/24', '--vif', 'vlan=20,mac=02:00:00:99:1e:02', '--', 'sh', '-c', 'sleep 60');
      expect(b.code, b.stderr).toBe(0);
      const a = await vpio(dir, 'run', '--name', 'a', '--linux', '--ip', '10.99.30.1/24', '--vif', 'vlan=10,mac=02:00:00:99:1e:01', '--', 'sh', '-c',
        'ping -c 5 -i 0.2 -W 2 10.99.30.2; sleep 60');
      expect(a.code, a.stderr).toBe(0);
      expect(await waitConsole(dir, 'a', /packet loss/)).toMatch(/5 packets transmitted, 5 received/);
      expect((await vpio(dir, 'ls')).stdout).toMatch(/memif \/.*p0\.sock \(connected\)/);
      expect((await vpioJson<LsResult>(dir, 'ls')).domains.find((d) => d.name === 'memif-p1')?.wire).toMatchObject({ kind: 'memif', name: 'p1', socket: p1, id: 0 });
      // testpmd leaves; the ports' counters (kept since creation) are final once both saw it go
      pmd.kill('SIGINT');
      await pmdDone;
      await waitStderr(dir, 'memif-p0', /client disconnected; listening/, 5_000);
      await waitStderr(dir, 'memif-p1', /client disconnected; listening/, 5_000);
      await new Promise((r) => setTimeout(r, 1100)); // a stats line after the disconnect
      const s0 = await wireStats(dir, 'memif-p0');
      const s1 = await wireStats(dir, 'memif-p1');
      const t0 = forwardStats(pmdOut, 0);
      const t1 = forwardStats(pmdOut, 1);
      console.log(`[11.1] testpmd port0 RX ${t0.rx} TX ${t0.tx}, port1 RX ${t1.rx} TX ${t1.tx}; p0 ${JSON.stringify(s0)}; p1 ${JSON.stringify(s1)}`);
      expect(t0.rx).toBeGreaterThanOrEqual(6); // ARP + 5 echo requests from a
      expect(t1.rx).toBeGreaterThanOrEqual(6); // ARP + 5 echo replies from b
      // what a port sent is what testpmd received on it, and the other way round
      expect([s0.memif_tx_pkts, s0.memif_rx_pkts, s1.memif_tx_pkts, s1.memif_rx_pkts]).toEqual([t0.rx, t0.tx, t1.rx, t1.tx]);
      // no drop but frames the switch sent while no client was there (a guest's after testpmd left)
      expect([s0.rx_drops, s1.rx_drops, s0.tx_drop_no_room, s1.tx_drop_no_room, s0.refused, s1.refused, s0.connected]).toEqual([0, 0, 0, 0, 0, 0, 0]);
      expect([s0.tx_drops, s1.tx_drops]).toEqual([s0.tx_drop_down, s1.tx_drop_down]);
      // testpmd gone: both ports listen again and still run
      const ls = await vpioJson<LsResult>(dir, 'ls');
      expect(ls.domains.filter((d) => d.name.startsWith('memif-')).map((d) => [d.name, d.state, d.wire?.text])).toEqual([
        ['memif-p0', 'running', `memif ${p0} (listening)`], ['memif-p1', 'running', `memif ${p1} (listening)`],
      ]);
    } finally {
      pmd.kill('SIGKILL');
      rmSync(join('/var/run/dpdk', prefix), { recursive: true, force: true });
    }
    const rm = await vpio(dir, 'memif', 'rm', 'p0');
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.stdout).toMatch(/memif p0 removed/);
  }, 40_000);

  it('11.2 an unsealed region is refused with the reason on the port\'s console and in its counters; the port and the platform carry on', async () => {
    const l = new Lab();
    labs.push(l);
    const dir = await l.up(l.ns('mx'));
    const sock = join(work, 'x.sock');
    const r = await vpio(dir, 'memif', 'add', 'x', '--socket', sock);
    expect(r.code, r.stderr).toBe(0);
    const hostile = join(work, 'memif-unsealed');
    const memif = join(root, '..', 'memif');
    execFileSync('cc', ['-O2', '-D_GNU_SOURCE', '-Wall', '-Wextra', '-Werror', `-I${join(memif, 'include')}`, `-I${join(memif, 'test', 'c')}`, `-I${join(root, '..', 'ring', 'include')}`,
      '-o', hostile, join(root, 'test', 'c', 'memif-unsealed.c'), join(memif, 'test', 'c', 'memif_client.c')]);
    const out = execFileSync(hostile, [sock], { encoding: 'utf8' });
    expect(out).toMatch(/^disconnect=region 0 is not sealed against shrinking/);
    await waitStderr(dir, 'memif-x', /refused a client: region 0 is not sealed against shrinking/, 5_000);
    await new Promise((r2) => setTimeout(r2, 1100));
    const s = await wireStats(dir, 'memif-x');
    expect([s.refused_region_unsealed, s.connected, (s.fds_closed ?? 0) >= 1]).toEqual([1, 0, true]);
    const c = await consoleText(dir, 'memif-x');
    expect(c.alive).toBe(true);
    // the same socket still serves: a second try is refused the same way
    expect(execFileSync(hostile, [sock], { encoding: 'utf8' })).toMatch(/^disconnect=region 0/);
    const ls = await vpioJson<LsResult>(dir, 'ls');
    expect(ls.domains.map((d) => [d.name, d.state, d.wire?.text])).toEqual([['memif-x', 'running', `memif ${sock} (listening)`]]);
    // bad requests: one line each
    const bad = await vpio(dir, 'memif', 'add', 'y', '--socket', 'rel.sock');
    expect([bad.code, bad.stderr.trim()]).toEqual([2, expect.stringMatching(/--socket/)]);
    const taken = await vpio(dir, 'memif', 'add', 'y', '--socket', sock);
    expect([taken.code, taken.stderr.trim()]).toEqual([1, expect.stringMatching(/memif port "x" listens on/)]);
  }, 40_000);
});
