/**
 * Scenario 3 (startup): vpiod checks the sandbox for real and locks itself
 * down. Objective: with every step available it starts (non-dumpable, fd
 * limit raised, 0700 dir, 0600 socket); run as an unprivileged user, where
 * the cgroup step really is missing, the vpiod command refuses to start
 * naming the step, and starts with --insecure; an fd limit it cannot reach
 * is a clear error.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Vpiod } from '../src/index.js';
import { loadNative } from '../src/native.js';
import { root, startVpiod } from './helpers.js';

const VPIOD = join(root, 'dist', 'bin', 'vpiod.js');

function run(args: string[], uid?: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [VPIOD, ...args], { uid, gid: uid, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (stdout.includes('ready')) child.kill('SIGTERM');
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('vpiod startup', () => {
  it('starts with every sandbox step present, non-dumpable, fd limit raised, dir 0700 and socket 0600', async () => {
    const { vpiod, dir } = await startVpiod({ maxDomains: 20 });
    expect(vpiod.sandbox?.missing).toEqual([]);
    expect(vpiod.skippedSteps).toEqual([]);
    expect(loadNative().getDumpable()).toBe(0);
    const nofile = loadNative().getNofile() as { soft: number };
    expect(nofile.soft).toBeGreaterThanOrEqual(vpiod.fdsNeeded());
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(vpiod.xenstorePath).mode & 0o777).toBe(0o600);
  });

  it('fails with FD_LIMIT when the descriptors for maxDomains cannot be had', async () => {
    const base = mkdtempSync(join(tmpdir(), 'vpio-domain-'));
    const v = new Vpiod({ dir: join(base, 'run'), maxDomains: 32751 });
    await expect(v.start()).rejects.toThrow(/vpiod needs \d+ descriptors for --max-domains 32751/);
    rmSync(base, { recursive: true, force: true });
  });

  it('the vpiod command refuses to start naming the missing step (cgroup, as an unprivileged user)', async () => {
    const base = mkdtempSync(join(tmpdir(), 'vpio-domain-'));
    chmodSync(base, 0o777);
    const r = await run(['--dir', join(base, 'run')], 65534);
    rmSync(base, { recursive: true, force: true });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/vpiod: vpiod refuses to start: sandbox step missing: .*cgroup \(Permission denied\).*pass --insecure/);
  });

  it('the vpiod command starts with --insecure and says what it runs without', async () => {
    const base = mkdtempSync(join(tmpdir(), 'vpio-domain-'));
    chmodSync(base, 0o777);
    const r = await run(['--dir', join(base, 'run'), '--insecure'], 65534);
    rmSync(base, { recursive: true, force: true });
    expect(r.stdout).toMatch(/vpiod: ready, xenstore on .*\(INSECURE: without .*cgroup/);
    expect(r.code).toBe(0);
  });

  it('prints its usage with --help', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('usage: vpiod --dir DIR');
  });
});
