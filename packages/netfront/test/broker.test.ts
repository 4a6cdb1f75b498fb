/**
 * The broker-backed guest side outside a platform: the Node binding
 * (Netfront) validates before reaching C, and both the binding and the C
 * test guest's --broker mode fail cleanly, naming the errno, when there is
 * no vpiod control socket. Traffic through the real brokers (vpio up/run)
 * is @vpio/cli's test/e2e-traffic.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Netfront } from '../src/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('Netfront (Node binding) without a platform', () => {
  it('rejects bad options with ERR_ARGUMENT before touching the control socket', async () => {
    await expect(Netfront.open({ devid: -1 })).rejects.toMatchObject({ code: 'ERR_ARGUMENT', parameter: 'devid' });
    await expect(Netfront.open({ mode: 'busy' as 'poll' })).rejects.toMatchObject({ code: 'ERR_ARGUMENT', parameter: 'mode' });
    await expect(Netfront.open({ timeoutMs: 1.5 })).rejects.toMatchObject({ code: 'ERR_ARGUMENT', parameter: 'timeoutMs' });
  });

  it('fails with NETFRONT_ERRNO (EINVAL) when $VPIO_CTRL_FD is not a descriptor number', () => {
    // a child: the HELLO wait must never read this process's fds
    const script = `import('${join(root, 'dist', 'index.js')}').then((m) => m.Netfront.open()).then(
      () => console.log('opened'), (e) => console.log(JSON.stringify({ code: e.code, errno: e.cause?.errno, message: e.message })))`;
    const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, VPIO_CTRL_FD: 'not-a-number' }, encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ code: 'NETFRONT_ERRNO', errno: 22 });
  });
});

describe('nf-guest --broker without a platform', () => {
  it('reports the failed session step and exits 3', () => {
    const r = spawnSync(join(root, 'build', 'test', 'nf-guest'), ['--broker'], { env: { ...process.env, VPIO_CTRL_FD: 'x' }, encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(3);
    expect(JSON.parse(r.stdout.trim())).toEqual({ event: 'error', step: 'session-open', rc: -22 });
  });
});
