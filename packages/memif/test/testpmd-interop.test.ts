/**
 * Scenario 1: interop with an unmodified DPDK testpmd.
 *
 * Objective: DPDK 22.11's net_memif in role=client completes the handshake
 * with our server (build/test/memif-echo, ASan + UBSan), and packets flow
 * both ways: testpmd (io forwarding, --tx-first) sends a first burst, the
 * server echoes every packet back, testpmd forwards it again, for a few
 * seconds. The server's counts must match testpmd's own statistics (up to
 * the packets still in a ring when testpmd stops), with no drop, refusal or
 * bad descriptor. A second run uses 1024-byte client buffers and 1500-byte
 * packets, so both directions chain descriptors (NEXT).
 *
 * Needs root (testpmd's EAL) and dpdk-testpmd (Debian's dpdk-dev); skipped,
 * saying which, otherwise. The client needs socket-abstract=no: the server
 * listens on a filesystem path with mode 0600, never an abstract socket
 * (abstract sockets have no permissions).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const echoBin = join(root, 'build', 'test', 'memif-echo');
const isRoot = process.getuid?.() === 0;
const hasTestpmd = spawnSync('sh', ['-c', 'command -v dpdk-testpmd'], { encoding: 'utf8' }).status === 0;
const RING_SLOTS = 1024; // testpmd's default memif ring (rsize=10)

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
    child.stderr.on('data', (d: Buffer) => (out += d.toString('latin1')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out });
    });
  });
}

/** What memif-echo prints: the interface's and server's counters. */
interface EchoCounters {
  rx_pkts: number;
  rx_bytes: number;
  tx_pkts: number;
  echo_dropped: number;
  connected: number;
  refused: Record<string, number>;
  [counter: string]: number | Record<string, number>;
}

/** testpmd's final "Forward statistics for port 0" RX/TX-packets. */
function forwardStats(out: string): { rx: number; tx: number } {
  const block = out.split('Forward statistics for port 0').pop() ?? '';
  const rx = /RX-packets:\s+(\d+)/.exec(block);
  const tx = /TX-packets:\s+(\d+)/.exec(block);
  if (!rx || !tx) throw new Error(`no forward statistics in testpmd's output:\n${out.slice(-2000)}`);
  return { rx: Number(rx[1]), tx: Number(tx[1]) };
}

async function interop(name: string, clientArgs: string, pmdArgs: string[], pktBytes: number) {
  const dir = mkdtempSync(join(tmpdir(), 'vpio-memif-'));
  const sock = join(dir, 'memif.sock');
  const prefix = `vpio-memif-${process.pid}-${name}`;
  try {
    const echo = run(echoBin, [sock, '15'], 30_000);
    await new Promise((r) => setTimeout(r, 300));
    const pmd = await run(
      'timeout',
      [
        '-s', 'INT', '-k', '5', '4', 'dpdk-testpmd',
        '--no-huge', '-m', '512', '--single-file-segments', '--no-pci', '--lcores', '0@0,1@0',
        '--vdev', `net_memif0,role=client,socket=${sock},socket-abstract=no,id=0${clientArgs}`,
        '--file-prefix', prefix, '--',
        '--forward-mode=io', '--tx-first', '--total-num-mbufs=8192', '--stats-period', '1', ...pmdArgs,
      ],
      20_000,
    );
    const srv = await echo;
    const line = /^counters (.*)$/m.exec(srv.out);
    expect(line, `memif-echo printed no counters:\n${srv.out}`).not.toBeNull();
    const c = JSON.parse(line![1]!) as EchoCounters;
    const stats = forwardStats(pmd.out);
    console.log(`[${name}] testpmd: TX ${stats.tx} RX ${stats.rx}; server: ${line![1]}`);

    expect(pmd.out, 'testpmd saw the link come up').toMatch(/Port 0: link state change event|Link up/);
    expect(srv.out).toMatch(/^connected peer="DPDK/m);
    expect(srv.code, srv.out).toBe(0);
    expect(c.connected).toBe(1);
    expect(Object.values(c.refused).every((n) => n === 0), JSON.stringify(c.refused)).toBe(true);
    for (const k of ['rx_bad_head', 'rx_bad_region', 'rx_bad_offset', 'rx_bad_len', 'rx_bad_chain', 'rx_too_big', 'rx_empty',
      'tx_bad_head', 'tx_bad_region', 'tx_bad_offset', 'tx_bad_len', 'tx_too_big']) {
      expect(c[k], k).toBe(0);
    }
    // packets flowed both ways, and the counts agree with testpmd's
    expect(c.rx_pkts).toBeGreaterThan(1000);
    expect(stats.rx).toBeGreaterThan(1000);
    expect(c.rx_bytes).toBe(c.rx_pkts * pktBytes);
    expect(stats.tx - c.rx_pkts).toBeGreaterThanOrEqual(0);
    expect(stats.tx - c.rx_pkts).toBeLessThanOrEqual(RING_SLOTS);
    expect(c.tx_pkts - stats.rx).toBeGreaterThanOrEqual(0);
    expect(c.tx_pkts - stats.rx).toBeLessThanOrEqual(RING_SLOTS);
    expect(c.tx_pkts + c.echo_dropped).toBe(c.rx_pkts);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(join('/var/run/dpdk', prefix), { recursive: true, force: true });
  }
}

describe('scenario 1: unmodified DPDK testpmd (net_memif role=client) against our server', () => {
  if (!isRoot) {
    it.skip('needs root (testpmd EAL): skipped', () => {});
    return;
  }
  // as root the bootstrap installs Debian's dpdk-dev (package.json "vpio.debian"): missing is a failure, not a skip
  it('dpdk-testpmd is installed', () => {
    expect(hasTestpmd, 'no dpdk-testpmd on PATH: apt-get install dpdk-dev').toBe(true);
  });
  if (!hasTestpmd) return;
  it('connects, and 64-byte packets bounce both ways with counts matching testpmd', async () => {
    await interop('io64', '', [], 64);
  });
  it('1500-byte packets over 1024-byte client buffers chain (NEXT) both ways', async () => {
    await interop('chain1500', ',bsize=1024', ['--txpkts=1500'], 1500);
  });
});
