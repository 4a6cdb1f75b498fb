/**
 * Fixtures of the uplink and VXLAN end-to-end suites: network namespaces
 * (vpio-t-<pid>-<tag>), `vpio up` inside one (nsenter: only the network
 * namespace changes), helpers in other namespaces, and readers of guests'
 * consoles and of vpio-uplink's stats lines. Lab.cleanup() undoes all of it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';
import { until } from '@vpio/cli/test-utils';
import type { ConsoleResult } from '../src/protocol.js';
import { VPIO, root, tempBase } from './helpers.js';

export const MINIOS = join(root, '..', '..', 'minios');
export const FIREWALL = join(MINIOS, 'configs', 'bridge-firewall.click');

export interface Out {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program without blocking the worker; killed after timeoutMs. */
export function run(cmd: string, args: readonly string[], timeoutMs = 30_000): Promise<Out> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, VPIO_DIR: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });

/** Namespaces, platforms and helper processes of one test, all undone by cleanup(). */
export class Lab {
  readonly #namespaces: string[] = [];
  readonly #platforms: string[] = [];
  readonly #children: ChildProcess[] = [];
  readonly #bases: Array<{ cleanup: () => void }> = [];

  ns(tag: string): string {
    const name = `vpio-t-${process.pid}-${tag}`;
    ip('netns', 'add', name);
    this.#namespaces.push(name);
    ip('-n', name, 'link', 'set', 'lo', 'up');
    return name;
  }

  /** `vpio up` inside `ns` (its own directory); resolves with the directory. */
  async up(ns: string): Promise<string> {
    const t = tempBase();
    this.#bases.push(t);
    const r = await run('nsenter', [`--net=/run/netns/${ns}`, process.execPath, VPIO, 'up', '--dir', t.dir, '--cores=-1']);
    expect(r.code, r.stderr).toBe(0);
    this.#platforms.push(t.dir);
    return t.dir;
  }

  /** A long-running helper (iperf3 server) inside `ns`, killed by cleanup(). */
  spawnIn(ns: string, args: string[]): void {
    this.#children.push(spawn('ip', ['netns', 'exec', ns, ...args], { stdio: 'ignore' }));
  }

  async cleanup(): Promise<void> {
    for (const c of this.#children) c.kill('SIGKILL');
    await Promise.all(this.#platforms.map((dir) => run(process.execPath, [VPIO, 'down', '--dir', dir])));
    for (const ns of this.#namespaces) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // already gone
      }
    }
    for (const b of this.#bases) b.cleanup();
  }
}

/** `vpio CMD [SUB] --dir DIR ARGS...` (--dir before anything a guest's argv could hold). */
export const vpio = (dir: string, ...args: string[]): Promise<Out> => {
  const at = args[0] === 'uplink' || args[0] === 'vxlan' || args[0] === 'memif' ? 2 : 1;
  return run(process.execPath, [VPIO, ...args.slice(0, at), '--dir', dir, ...args.slice(at)]);
};

export async function vpioJson<T>(dir: string, ...args: string[]): Promise<T> {
  const r = await vpio(dir, ...args.slice(0, 1), '--json', ...args.slice(1));
  expect(r.code, `vpio ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}

export async function consoleText(dir: string, name: string): Promise<ConsoleResult> {
  return vpioJson<ConsoleResult>(dir, 'console', name);
}

/** Until the guest's console matches `re` (throws with the console when it ended without or timed out). */
export async function waitConsole(dir: string, name: string, re: RegExp, timeoutMs = 20_000): Promise<string> {
  let last: ConsoleResult | undefined;
  try {
    return await until(`${name} to print ${re}`, async () => {
      last = await consoleText(dir, name);
      if (re.test(last.text)) return last.text;
      if (re.test(last.stderr)) return `${last.text}\n${last.stderr}`; // e.g. 'iperf3: error' goes to stderr
      if (!last.alive) throw new Error(`${name} ended without ${re}: ${last.text}\n${last.stderr}`);
      return undefined;
    }, timeoutMs, 200);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- console of ${name}:\n${last?.text}\n${last?.stderr}`);
  }
}

/** The newest `{"event":"stats"}` line of a port's console: its wire counters. */
export async function wireStats(dir: string, name: string): Promise<Record<string, number>> {
  const c = await consoleText(dir, name);
  const line = c.text.split('\n').filter((l) => l.startsWith('{"event":"stats"')).at(-1);
  expect(line, `${name} printed no stats line: ${c.stderr}`).toBeDefined();
  return (JSON.parse(line!) as { wire: Record<string, number> }).wire;
}

/** Waits for two newer stats lines (≥ 1 s apart) and returns the last. */
export async function freshWireStats(dir: string, name: string): Promise<Record<string, number>> {
  await new Promise((r) => setTimeout(r, 2100));
  return wireStats(dir, name);
}

export const ping = (ns: string, addr: string, count = 2): Promise<Out> => run('ip', ['netns', 'exec', ns, 'ping', '-c', String(count), '-W', '1', '-i', '0.3', addr]);


/** `ip -d link show DEV` in `ns`: the XDP program attached to it ("xdp"/"xdpgeneric" mode and its id), or undefined. */
export function xdpOnLink(ns: string, dev: string): { mode: string; id: number } | undefined {
  const text = ip('-n', ns, '-d', 'link', 'show', 'dev', dev);
  const id = /prog\/xdp id (\d+)/.exec(text);
  const mode = /> mtu \d+ (xdp\w*) /.exec(text);
  return id || mode ? { mode: mode?.[1] ?? 'xdp', id: Number(id?.[1] ?? 0) } : undefined;
}

/** Active rx queues of DEV in `ns` (`ethtool -l`: Current hardware settings, RX or Combined, whichever is more). */
export function rxQueues(ns: string, dev: string): number {
  const text = execFileSync('ip', ['netns', 'exec', ns, 'ethtool', '-l', dev], { encoding: 'utf8' });
  const current = text.slice(text.indexOf('Current hardware settings'));
  const n = (key: string): number => Number(new RegExp(`^${key}:\\s*(\\d+)`, 'm').exec(current)?.[1] ?? 0);
  return Math.max(n('RX'), n('Combined'));
}
