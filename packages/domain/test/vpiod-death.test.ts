/**
 * A SIGKILLed vpiod takes its domains with it: the launcher's monitor has
 * a parent-death signal, so no guest outlives the daemon that owns its
 * grants and channels. (Before: the monitor was reparented to the host's
 * init and the guest kept running.)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { root, waitFor } from './helpers.js';

const base = mkdtempSync(join(tmpdir(), 'vpio-vpiod-death-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** Pids whose command line contains `marker`. */
function pidsWith(marker: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0').includes(marker)) out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

describe('vpiod death', () => {
  it('kills every domain process when vpiod is SIGKILLed', async () => {
    const marker = `${4000 + (process.pid % 1000)}.${Date.now() % 1000}`; // a unique `sleep` argument
    const entry = pathToFileURL(join(root, 'dist', 'index.js')).href;
    const script = `
      const { Vpiod } = await import(${JSON.stringify(entry)});
      const vpiod = new Vpiod({ dir: ${JSON.stringify(join(base, 'run'))}, maxDomains: 2 });
      await vpiod.start();
      const d = await vpiod.createDomain({ name: 'orphan', argv: ['/bin/sleep', ${JSON.stringify(marker)}] });
      console.log('monitor=' + d.pid);
      console.log('cgroups=' + JSON.stringify((vpiod.sandbox?.cgroupBases ?? []).map((b) => b.dir + '/' + d.cgroup)));
      setInterval(() => undefined, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c: string) => { out += c; });
    try {
      await waitFor(() => /monitor=\d+/.test(out) && pidsWith(marker).length > 0, 10_000, 'the domain to start');
      const monitor = Number(/monitor=(\d+)/.exec(out)![1]);
      expect(pidsWith(marker).length).toBeGreaterThan(0);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      await waitFor(() => pidsWith(marker).length === 0, 5000, `the guest (sleep ${marker}) to die with vpiod`);
      await waitFor(() => { try { process.kill(monitor, 0); return false; } catch { return true; } }, 5000, 'the monitor to die');
    } finally {
      child.kill('SIGKILL');
      for (const p of pidsWith(marker)) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
      // a SIGKILLed vpiod cannot remove its domain's cgroups: the test does, once they are empty
      const dirs = JSON.parse(/cgroups=(.*)/.exec(out)?.[1] ?? '[]') as string[];
      await waitFor(() => {
        for (const dir of dirs) { try { rmdirSync(dir); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return false; } }
        return true;
      }, 5000, `the cgroups ${dirs.join(', ')} to be removable`);
    }
  }, 30_000);
});
