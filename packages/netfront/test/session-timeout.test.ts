/**
 * The HELLO wait: nf_session_open on a control socket that never answers
 * gives up (C, test-nf-session: fd 3 a silent socketpair, the default 10 s
 * and $VPIO_HELLO_TIMEOUT_MS) instead of blocking for ever, and a guest
 * built on it (nf-guest --broker) then exits non-zero naming the step and
 * -ETIMEDOUT.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defineTapSuite, runTapProgram } from '@vpio/devkit/c-tests';

const root = fileURLToPath(new URL('..', import.meta.url));
const ETIMEDOUT = 110;

// the old call never returned: 30 s is the bound this suite allows it
defineTapSuite('test-nf-session (nf_session_open and a silent control socket; ASan + UBSan)', await runTapProgram(join(root, 'build', 'test', 'test-nf-session'), { cwd: root, timeoutMs: 30_000 }), { minCases: 2 });

describe('nf-guest --broker with a control socket that never says HELLO', () => {
  it('exits 3 after $VPIO_HELLO_TIMEOUT_MS, reporting session-open and -ETIMEDOUT', () => {
    const t0 = Date.now();
    // fd 3 is a socket whose other end (this process) never writes
    const r = spawnSync(join(root, 'build', 'test', 'nf-guest'), ['--broker'], {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      env: { ...process.env, VPIO_CTRL_FD: '', VPIO_HELLO_TIMEOUT_MS: '500', ASAN_OPTIONS: 'detect_leaks=0' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    const ms = Date.now() - t0;
    expect(r.signal).toBeNull();
    expect(r.status).toBe(3);
    expect(JSON.parse(String(r.stdout).trim())).toEqual({ event: 'error', step: 'session-open', rc: -ETIMEDOUT });
    expect(ms).toBeGreaterThanOrEqual(450);
    expect(ms).toBeLessThan(10_000);
  });
});
