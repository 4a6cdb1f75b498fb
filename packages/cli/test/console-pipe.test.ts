/**
 * `vpio console` on a pipe prints the whole console. A pipe takes 64 KiB at
 * once; the command used to process.exit() while node still held the rest,
 * so `vpio console NAME --json | wc -c` said 65536. A real `vpio up`, a
 * domain that writes ~230 KB (under the 256 KiB console buffer) and exits,
 * and `vpio console` with stdout a pipe whose reader starts late (as
 * `| wc -c` may: the command has long returned from main by then), with and
 * without --json; and with a reader that goes away early.
 */
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlClient } from '../src/control-client.js';
import type { ConsoleResult } from '../src/protocol.js';
import { alive, tempBase, vpio, VPIO, type Run } from './helpers.js';

const LINES = 40_000;
const EXPECTED = execFileSync('seq', ['1', String(LINES)], { encoding: 'utf8' });

/**
 * `vpio args | reader` through bash: stdout is a real pipe (node's own spawn
 * would give a socketpair, which holds more). The default reader reads
 * nothing for half a second, then all. The code is vpio's (pipefail).
 */
function vpioPiped(args: readonly string[], reader = '{ sleep 0.5; cat; }'): Promise<Run> {
  return new Promise((resolve, reject) => {
    const script = `set -o pipefail; "$0" "$@" | ${reader}`;
    const child = spawn('bash', ['-c', script, process.execPath, VPIO, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, VPIO_DIR: '' } });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr });
    });
  });
}

describe('vpio console on a pipe', () => {
  const t = tempBase();
  let pid = 0;

  beforeAll(async () => {
    const up = await vpio(['up', '--dir', t.dir, '--cores=-1']);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    pid = Number(/pid (\d+)/.exec(up.stdout)?.[1]);
  });

  afterAll(async () => {
    await vpio(['down', '--dir', t.dir]);
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    t.cleanup();
  });

  it('prints all of a console larger than a pipe holds, then exits 0', async () => {
    expect(EXPECTED.length).toBeGreaterThan(3 * 65536);
    const run = await vpio(['run', '--dir', t.dir, '--name', 'big', '/usr/bin/seq', '1', String(LINES)]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    // wait until the domain ended and the platform holds all it wrote
    const deadline = Date.now() + 20_000;
    for (;;) {
      const client = await ControlClient.connect(join(t.dir, 'vpio.sock'), t.dir);
      const c = await client.request<ConsoleResult>('console', { name: 'big' }).finally(() => client.close());
      if (!c.alive) break;
      if (Date.now() > deadline) throw new Error('the domain "big" did not end');
      await new Promise((res) => setTimeout(res, 100));
    }
    const r = await vpioPiped(['console', '--dir', t.dir, 'big', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(EXPECTED.length);
    const c = JSON.parse(r.stdout) as ConsoleResult; // a cut-off JSON line does not parse
    expect(c).toMatchObject({ alive: false, exit: { code: 0 }, dropped: 0, start: 0, end: EXPECTED.length });
    expect(c.text).toBe(EXPECTED);
    const text = await vpioPiped(['console', '--dir', t.dir, 'big']);
    expect(text.code).toBe(0);
    expect(text.stdout.startsWith(EXPECTED)).toBe(true);
    expect(text.stdout.slice(EXPECTED.length)).toMatch(/^\[vpio: domain \d+ "big" exited, code 0, signal null\]\n$/);
    // a reader that stops early (| head) ends the command quietly instead of keeping it waiting
    const head = await vpioPiped(['console', '--dir', t.dir, 'big', '--json'], 'head -c 10');
    expect(head).toMatchObject({ code: 0, stderr: '', stdout: r.stdout.slice(0, 10) });
  }, 60_000);
});
