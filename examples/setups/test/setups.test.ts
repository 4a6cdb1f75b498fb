/**
 * Smoke test of every setup script (objective: each runs from a fresh build
 * as documented and shows what its README says, then leaves no platform
 * behind): real platforms, real guests, short durations (SECONDS_TO_RUN=1).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = fileURLToPath(new URL('..', import.meta.url));

/** Runs a setup script without blocking the worker (a blocked event loop times out vitest's RPC on a loaded machine). */
function run(script: string, seconds = 1): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [`${here}/${script}`], { env: { ...process.env, SECONDS_TO_RUN: String(seconds) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const timer = setTimeout(() => child.kill('SIGTERM'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** The platform a script started is gone: its directory was removed by the trap. */
function platformDir(out: string): string | undefined {
  return /platform up \(pid \d+\) on (\S+)/.exec(out)?.[1];
}

describe('examples/setups', () => {
  it('ping-pair.sh: both families answered, 20 of 20', async () => {
    const r = await run('ping-pair.sh');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/"family":4,"resolved":true,"sent":20,"received":20/);
    expect(r.out).toMatch(/"family":6,"resolved":true,"sent":20,"received":20/);
    expect(platformDir(r.out)).toBeDefined();
  }, 120_000);

  it('firewall-chain.sh: rates shown, the firewall allowed and denied', async () => {
    const r = await run('firewall-chain.sh');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('DROP REASONS');
    const hits = /"fw":\{[^}]*"hits":\[(\d+),(\d+),(\d+),(\d+)\]/.exec(r.out);
    expect(hits, r.out).not.toBeNull();
    expect(Number(hits![2])).toBeGreaterThan(0); // allowed: UDP to 9001
    expect(Number(hits![4])).toBeGreaterThan(0); // denied by the catch-all: UDP to 23
  }, 120_000);

  it('topology.sh: the file checks, starts both guests, and they ping', async () => {
    const r = await run('topology.sh');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/"family":6,"resolved":true,"sent":20,"received":20/);
  }, 120_000);

  it('linux-guests.sh: ping and a one-second iperf3 between two Linux guests', async () => {
    const r = await run('linux-guests.sh');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/3 packets transmitted, 3 received/);
    expect(r.out).toMatch(/receiver/);
  }, 120_000);
});
