/**
 * Smoke test of every setup script (objective: each runs from a fresh build
 * as documented and shows what its README says, then leaves no platform
 * behind): real platforms, real guests, short durations (SECONDS_TO_RUN=1).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = fileURLToPath(new URL('..', import.meta.url));

function run(script: string, seconds = 1): { code: number | null; out: string } {
  const r = spawnSync('bash', [`${here}/${script}`], { encoding: 'utf8', env: { ...process.env, SECONDS_TO_RUN: String(seconds) }, timeout: 120_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** The platform a script started is gone: its directory was removed by the trap. */
function platformDir(out: string): string | undefined {
  return /platform up \(pid \d+\) on (\S+)/.exec(out)?.[1];
}

describe('examples/setups', () => {
  it('ping-pair.sh: both families answered, 20 of 20', () => {
    const r = run('ping-pair.sh');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/"family":4,"resolved":true,"sent":20,"received":20/);
    expect(r.out).toMatch(/"family":6,"resolved":true,"sent":20,"received":20/);
    expect(platformDir(r.out)).toBeDefined();
  }, 120_000);

  it('firewall-chain.sh: rates shown, the firewall allowed and denied', () => {
    const r = run('firewall-chain.sh');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('DROP REASONS');
    const hits = /"fw":\{[^}]*"hits":\[(\d+),(\d+),(\d+),(\d+)\]/.exec(r.out);
    expect(hits, r.out).not.toBeNull();
    expect(Number(hits![2])).toBeGreaterThan(0); // allowed: UDP to 9001
    expect(Number(hits![4])).toBeGreaterThan(0); // denied by the catch-all: UDP to 23
  }, 120_000);

  it('topology.sh: the file checks, starts both guests, and they ping', () => {
    const r = run('topology.sh');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/"family":6,"resolved":true,"sent":20,"received":20/);
  }, 120_000);

  it('linux-guests.sh: ping and a one-second iperf3 between two Linux guests', () => {
    const r = run('linux-guests.sh');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/3 packets transmitted, 3 received/);
    expect(r.out).toMatch(/receiver/);
  }, 120_000);
});
