/**
 * Fixtures of the Linux-guest tests: the built `vpio` command (@vpio/cli's
 * dist bin) on a platform in a fresh temp dir, and readers for its JSON.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempBase as sharedTempBase, until as sharedUntil, vpio } from '@vpio/cli/test-utils';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const XFER = join(root, 'build', 'test', 'lnf-xfer');

export { VPIO_BIN as VPIO, alive as aliveNotZombie, netNamespaceOf, vpio, type Run } from '@vpio/cli/test-utils';

/** A fresh base directory, world-traversable so tenants can read files in it; DIR (the platform's) is base/run. */
export const tempBase = (): ReturnType<typeof sharedTempBase> => sharedTempBase('vpio-lnf-');

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

/** Polls f until it yields a value (default limit 30 s). */
export function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 30_000, intervalMs?: number): Promise<T> {
  return sharedUntil(what, f, timeoutMs, intervalMs);
}

/** Waits for the domain's guest to end (looking every intervalMs: each look runs `vpio console`); returns its console. */
export function ended(dir: string, name: string, timeoutMs = 60_000, intervalMs?: number): Promise<ConsoleJson> {
  return until(`${name} to end`, async () => {
    const c = await consoleOf(dir, name);
    return c.alive ? undefined : c;
  }, timeoutMs, intervalMs);
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

