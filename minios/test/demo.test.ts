/**
 * Scenario M3 (the demo): objective: `vpio demo --json` (what `npm run demo`
 * runs) brings a private platform up with five minios guests, moves real
 * traffic pktgen → firewall → sink with the firewall denying the port-23
 * flow, pings ping-a → ping-b, and tears everything down: its summary
 * reports every figure from real counters, and nothing is left behind (the
 * demo checks its own descriptors, memfd regions, guest pids and sockets;
 * this test checks the pids and the cgroups from outside as well).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const VPIO = join(root, '..', 'packages', 'cli', 'dist', 'bin', 'vpio.js');

interface Summary {
  seconds: number;
  firewall: { forwardedMpps: number; offeredMpps: number; allowed: number; denied: number };
  sink: { received: number };
  drops: Record<string, number>;
  ping: { sent: number; received: number; rttP50Us: number | null; rttP99Us: number | null };
  guests: Array<{ name: string; inPackets: number; outPackets: number; drops: Record<string, number> }>;
  leftovers: string[];
}

function demo(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string; pid: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [VPIO, 'demo', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, pid: child.pid ?? 0 });
    });
  });
}

/** The per-domain cgroups a vpiod in process `pid` made (vpio-<pid>-<tag>-d<domid>), under every hierarchy (v1 or v2). */
function cgroupsOf(pid: number): string[] {
  const out: string[] = [];
  const bases = existsSync('/sys/fs/cgroup/cgroup.controllers')
    ? ['/sys/fs/cgroup']
    : readdirSync('/sys/fs/cgroup', { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join('/sys/fs/cgroup', e.name));
  for (const base of bases) {
    for (const e of readdirSync(base, { withFileTypes: true })) if (e.isDirectory() && e.name.startsWith(`vpio-${pid}-`)) out.push(join(base, e.name));
  }
  return out;
}

describe('vpio demo', () => {
  it('M3.1 runs pktgen → firewall → sink and a ping pair, reports real figures, and leaves nothing behind', async () => {
    const r = await demo(['--seconds', '3', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Summary;
    expect(s.leftovers).toEqual([]);
    // traffic went through the firewall to the sink, and the firewall denied the port-23 flow
    expect(s.firewall.allowed).toBeGreaterThan(0);
    expect(s.firewall.denied).toBeGreaterThan(0);
    expect(s.drops['firewall: denied by rule']).toBe(s.firewall.denied);
    expect(s.sink.received).toBeGreaterThan(0);
    expect(s.firewall.forwardedMpps).toBeGreaterThan(0);
    // the sink's port only received (a static MAC entry: no flooding to the ping pair)
    const sink = s.guests.find((g) => g.name === 'sink')!;
    expect(sink.inPackets).toBe(0);
    expect(sink.outPackets).toBe(s.sink.received);
    // every ping answered is a real round trip with a measured RTT
    expect(s.ping.sent).toBeGreaterThan(0);
    expect(s.ping.received).toBeGreaterThan(0);
    expect(s.ping.received).toBeLessThanOrEqual(s.ping.sent);
    expect(s.ping.rttP50Us).toBeGreaterThan(0);
    expect(s.ping.rttP99Us).toBeGreaterThanOrEqual(s.ping.rttP50Us!);
    // from outside: none of the five domains' cgroups is left
    expect(r.pid).toBeGreaterThan(0);
    expect(cgroupsOf(r.pid)).toEqual([]);
  }, 90_000);

  it('M3.2 --help documents the flags, a bad flag is refused', async () => {
    const h = await demo(['--help']);
    expect(h.code).toBe(0);
    for (const flag of ['--seconds', '--cores', '--json', '--insecure']) expect(h.stdout).toContain(flag);
    const bad = await demo(['--seconds', '1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--seconds');
  });
});
