/**
 * Fixtures of the Linux-guest tests: the built `vpio` command (@vpio/cli's
 * dist bin) on a platform in a fresh temp dir, and readers for its JSON.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const VPIO = join(dirname(createRequire(import.meta.url).resolve('@vpio/cli/package.json')), 'dist', 'bin', 'vpio.js');
export const XFER = join(root, 'build', 'test', 'lnf-xfer');

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function vpio(args: readonly string[], timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [VPIO, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, VPIO_DIR: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A fresh base directory, world-traversable so tenants can read files in it; DIR (the platform's) is base/run. */
export function tempBase(): { base: string; dir: string; cleanup: () => void } {
  const base = mkdtempSync(join(tmpdir(), 'vpio-lnf-'));
  chmodSync(base, 0o755);
  return { base, dir: join(base, 'run'), cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

export interface ConsoleJson {
  readonly alive: boolean;
  readonly text: string;
  readonly stderr: string;
  readonly exit: { code: number | null; signal: string | null; reason: string } | null;
}

export async function consoleOf(dir: string, name: string): Promise<ConsoleJson> {
  const r = await vpio(['console', '--dir', dir, name, '--json']);
  if (r.code !== 0) throw new Error(`vpio console ${name}: ${r.stderr}`);
  return JSON.parse(r.stdout) as ConsoleJson;
}

export async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits for the domain's guest to end; returns its console. */
export function ended(dir: string, name: string, timeoutMs = 60_000): Promise<ConsoleJson> {
  return until(`${name} to end`, async () => {
    const c = await consoleOf(dir, name);
    return c.alive ? undefined : c;
  }, timeoutMs);
}

/** Waits until the domain's vif 0 is Connected on both sides. */
export function connected(dir: string, name: string): Promise<true> {
  return until(`${name}'s vif 0 to connect`, async () => {
    const ls = JSON.parse((await vpio(['ls', '--dir', dir, '--json'])).stdout) as { domains: { name: string; vifs: { frontendStateName: string; backendStateName: string }[] }[] };
    const v = ls.domains.find((d) => d.name === name)?.vifs[0];
    return v?.frontendStateName === 'Connected' && v.backendStateName === 'Connected' ? true : undefined;
  });
}

/** The counters line vpio-linux-netfront printed at exit. */
export function netfrontCounters(text: string): Record<string, number | string> | undefined {
  const line = text.split('\n').find((l) => l.startsWith('{"event":"linux-netfront"') && l.includes('"why":"exit"'));
  return line ? (JSON.parse(line) as Record<string, number | string>) : undefined;
}

/** Network namespaces of live processes (inode numbers). */
/** `pids` and every process below them (by parent pid), as they are now. */
export function descendants(pids: readonly number[]): number[] {
  const children = new Map<number, number[]>();
  for (const e of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(e)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const todo = [...pids];
  while (todo.length) {
    const p = todo.pop()!;
    out.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  return out;
}

/** A process exists and is not a zombie. */
export function aliveNotZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The network namespace a process is in, or undefined when it is gone. */
export function netNamespaceOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return undefined;
  }
}

export function netNamespaces(): Set<string> {
  const out = new Set<string>();
  for (const e of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(e)) continue;
    try {
      out.add(readlinkSync(`/proc/${e}/ns/net`));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

