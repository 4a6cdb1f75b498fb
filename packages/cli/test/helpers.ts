import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const VPIO = join(root, 'dist', 'bin', 'vpio.js');

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built `vpio` (optionally as another uid). */
export function vpio(args: readonly string[], opts: { uid?: number; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [VPIO, ...args], { uid: opts.uid, gid: opts.uid, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, VPIO_DIR: '' } });
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

/** A fresh base directory (0755 so `nobody` can reach into it when a test opens it up); DIR is base/run. */
export function tempBase(): { base: string; dir: string; cleanup: () => void } {
  const base = mkdtempSync(join(tmpdir(), 'vpio-cli-'));
  chmodSync(base, 0o755);
  return { base, dir: join(base, 'run'), cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

/** Running (a zombie counts as gone: the detached platform's reaper may be a pid 1 that never reaps). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
