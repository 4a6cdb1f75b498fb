// Smoke test of the demo: the built program runs, verifies every packet and
// says so. Needs dist/main.js (turbo builds before test) and the release
// vring-pair binary of @vpio/ring.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

describe('ring-pair demo', () => {
  it('streams packets for a second and reports a verified, ok summary as JSON', () => {
    expect(existsSync(MAIN), `${MAIN} is missing: build the example first (npm run build)`).toBe(true);
    const r = spawnSync(process.execPath, [MAIN, '--seconds', '1', '--json'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1); // --json prints only the summary
    const s = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(s.ok).toBe(true);
    expect(s.packets as number).toBeGreaterThan(0);
    expect(s.packets).toBe(s.sent);
    expect({ lost: s.lost, dup: s.dupOrReordered, corrupt: s.corrupt, lostWakeups: s.lostWakeups }).toEqual({
      lost: 0,
      dup: 0,
      corrupt: 0,
      lostWakeups: 0,
    });
  });

  it('rejects an unknown option with exit 2 and names it', () => {
    const r = spawnSync(process.execPath, [MAIN, '--bogus'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--bogus/);
  });
});
