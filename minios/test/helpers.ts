/**
 * What the platform tests share: the built `vpio` command and guest binary,
 * reading a guest's JSON console lines, finding the guest process below its
 * launcher, and its proportional memory.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { vpio } from '@vpio/cli/test-utils';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const BIN = join(root, 'build', 'vpio-minios');

export { VPIO_BIN as VPIO, vpio, type Run } from '@vpio/cli/test-utils';

export type Event = Record<string, unknown> & { event: string };

export async function consoleEvents(dir: string, name: string): Promise<Event[]> {
  const r = await vpio(['console', '--dir', dir, name]);
  return r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Event);
}

export async function waitFor(dir: string, name: string, pred: (e: Event[]) => boolean, timeoutMs = 20_000): Promise<Event[]> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ev = await consoleEvents(dir, name);
    if (pred(ev) || Date.now() > end) return ev;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The vpio-minios process below a launcher pid (the guest runs in its own pid namespace). */
export function guestPid(pid: number): number | undefined {
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    for (const c of readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number)) {
      try {
        if (readlinkSync(`/proc/${c}/exe`) === BIN) return c;
      } catch { /* gone */ }
      const deeper = guestPid(c);
      if (deeper) return deeper;
    }
  }
  return undefined;
}

export function pssKb(pid: number): number {
  return Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1]);
}

