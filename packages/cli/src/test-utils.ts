/**
 * @vpio/cli/test-utils: what every suite that drives a real platform through
 * the `vpio` command needs (this package's, minios's, linux-netfront's, the
 * fault suite's): the built command, a runner, a private platform
 * directory, and /proc probes for what is left afterwards. Not part of the
 * CLI's API; tests only.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The built `vpio` command (dist/bin/vpio.js of @vpio/cli), found by package name so a bundled copy of this module still finds it. */
export const VPIO_BIN = join(dirname(createRequire(import.meta.url).resolve('@vpio/cli/package.json')), 'dist', 'bin', 'vpio.js');

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `vpio args` (as `uid` when given; killed after timeoutMs, default 30 s), VPIO_DIR cleared. */
export function vpio(args: readonly string[], opts: { readonly uid?: number; readonly timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [VPIO_BIN, ...args], { uid: opts.uid, gid: opts.uid, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, VPIO_DIR: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A fresh base directory, 0755 so tenants (other uids) can reach files in it; the platform's DIR is base/run. */
export function tempBase(prefix = 'vpio-test-'): { base: string; dir: string; cleanup: () => void } {
  const base = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(base, 0o755);
  return { base, dir: join(base, 'run'), cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

/** Running; a zombie counts as gone (it holds no memory, descriptor or namespace, and a pid-1 reaper may never reap it). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Resolves with probe()'s first defined value, polling every intervalMs
 * (default 25); throws after timeoutMs naming `what`. A probe that runs the
 * `vpio` command starts a Node process each time: benchmarks poll slowly.
 */
export async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** `pid` and all its descendants, as they are now (from /proc/PID/task/TID/children). */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number): void => {
    out.push(p);
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      let kids = '';
      try {
        kids = readFileSync(`/proc/${p}/task/${t}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const k of kids.split(' ').filter(Boolean)) walk(Number(k));
    }
  };
  walk(pid);
  return out;
}

/** The network namespace a process is in (`net:[inode]`), or undefined when it is gone. */
export function netNamespaceOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return undefined;
  }
}
