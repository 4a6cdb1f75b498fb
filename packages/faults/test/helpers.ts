/**
 * Fixtures of the fault suite: a real `vpio up` on a temp dir (torn down
 * with everything it started, also when a test fails), guests through the
 * control socket, their JSON console lines, and censuses of what a process
 * holds (/proc: descriptors, memfds, mappings, namespaces).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlClient, type ConsoleResult, type DomainRow, type LsResult, type StatsResult } from '@vpio/cli';
import { alive, until, vpio } from '@vpio/cli/test-utils';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const packages = join(root, '..');
export const NF_GUEST = join(packages, 'netfront', 'build', 'bin', 'nf-guest');
export const HOSTILE = join(root, 'build', 'bin', 'hostile-guest');
export const GUEST_FUZZ = join(root, 'build', 'bin', 'guest-fuzz');
export const RESTART_GUEST = join(root, 'test', 'guests', 'restart-guest.mjs');
/** LeakSanitizer cannot stop the world inside the sandbox (no ptrace). */
export const C_ENV = { ASAN_OPTIONS: 'detect_leaks=0' };

export { VPIO_BIN as VPIO, alive, processTree, until, vpio, type Run } from '@vpio/cli/test-utils';

/** What a process holds: descriptors, memfd descriptors, memfd mappings. */
export interface Census {
  readonly fds: number;
  readonly memfds: number;
  readonly memfdMaps: number;
}

export function census(pid: number): Census {
  let fds = 0;
  let memfds = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    fds++;
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('/memfd:')) memfds++;
    } catch {
      // closed meanwhile
    }
  }
  const memfdMaps = readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').filter((l) => l.includes('/memfd:')).length;
  return { fds, memfds, memfdMaps };
}

/** What each descriptor of `pid` is (readlink), for failure messages. */
export function fdTargets(pid: number): string[] {
  const out: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      out.push(`${fd}=${readlinkSync(`/proc/${pid}/fd/${fd}`)}`);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/** The network namespace of a process ("net:[4026532...]"), undefined when it is gone. */
export function netns(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return undefined;
  }
}

/** Now, in clock ticks since boot (the unit of a process's start time in /proc/PID/stat; USER_HZ is 100 on Linux). */
export function nowTicks(): number {
  return Math.floor(Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 100);
}

/** When `pid` started (ticks since boot), undefined when it is gone. */
export function startTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return undefined;
  }
}

/**
 * Live processes in namespace `ns` (as readlink of ns/net shows it), or
 * holding a descriptor to it, that started before `beforeTicks`: the
 * kernel reuses a freed namespace's inode number, so a process started
 * after the namespace's last member died is in a new namespace, not a
 * leaked one (anything that kept the old one alive started before).
 */
export function holdersOf(ns: string, beforeTicks = Number.MAX_SAFE_INTEGER): number[] {
  return rawHoldersOf(ns).filter((p) => (startTicks(p) ?? Number.MAX_SAFE_INTEGER) < beforeTicks);
}

function rawHoldersOf(ns: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (netns(pid) === ns && alive(pid)) {
      out.push(pid);
      continue;
    }
    try {
      for (const fd of readdirSync(`/proc/${e}/fd`)) {
        try {
          if (readlinkSync(`/proc/${e}/fd/${fd}`) === ns) out.push(pid);
        } catch {
          // closed meanwhile
        }
      }
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

/** Every cgroup directory under /sys/fs/cgroup (any hierarchy, a few levels deep) whose name starts with `prefix`. */
export function cgroupsNamed(prefix: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    let entries: string[] = [];
    try {
      entries = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.startsWith(prefix)) out.push(join(dir, e));
      else if (depth < 3 && !e.startsWith('vpio-')) walk(join(dir, e), depth + 1);
    }
  };
  walk('/sys/fs/cgroup', 0);
  return out;
}

type GuestEvent = { event: string } & Record<string, unknown>;

/** A real platform (`vpio up --cores=-1`) on a fresh temp dir, and a control connection to it. */
export class TestPlatform {
  readonly base = mkdtempSync(join(tmpdir(), 'vpio-faults-'));
  readonly dir = join(this.base, 'run');
  pid = 0;
  #client: ControlClient | undefined;
  /** Every guest launcher pid it started (the teardown checks they are gone). */
  readonly guestPids = new Set<number>();

  /** `vpio up`; returns its stdout. */
  async up(): Promise<string> {
    const r = await vpio(['up', '--dir', this.dir, '--cores=-1']);
    if (r.code !== 0) throw new Error(`vpio up failed (${r.code}): ${r.stderr}`);
    this.pid = Number(/platform up \(pid (\d+)\)/.exec(r.stdout)?.[1]);
    this.#client = await ControlClient.connect(join(this.dir, 'vpio.sock'), this.dir);
    return r.stdout;
  }

  get client(): ControlClient {
    if (!this.#client) throw new Error('the platform is not up');
    return this.#client;
  }

  /** Forgets the control connection (the platform died). */
  dropClient(): void {
    this.#client?.close();
    this.#client = undefined;
  }

  request<T>(cmd: Parameters<ControlClient['request']>[0], args?: unknown): Promise<T> {
    return this.client.request<T>(cmd, args);
  }

  async run(name: string, argv: readonly string[], vifs: readonly string[], env: Record<string, string> = {}, more: Record<string, unknown> = {}): Promise<DomainRow> {
    const row = await this.request<DomainRow>('run', { name, argv, vifs, env, ...more });
    this.guestPids.add(row.pid);
    return row;
  }

  ls(): Promise<LsResult> {
    return this.request<LsResult>('ls');
  }

  stats(): Promise<StatsResult> {
    return this.request<StatsResult>('stats');
  }

  /** The JSON lines a guest printed (its console), the first `error` event thrown. */
  async events(name: string): Promise<GuestEvent[]> {
    const c = await this.request<ConsoleResult>('console', { name });
    const all = c.text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as GuestEvent);
    const err = all.find((e) => e.event === 'error');
    if (err) throw new Error(`${name} failed: ${JSON.stringify(err)}`);
    return all;
  }

  /** Waits for a guest's event of `kind`. */
  event(name: string, kind: string, timeoutMs = 20_000): Promise<GuestEvent> {
    return until(`${name}: ${kind}`, async () => (await this.events(name)).find((e) => e.event === kind), timeoutMs);
  }

  /** `vpio down`, else SIGKILL; then every guest must be gone; the temp dir is removed. */
  async teardown(): Promise<void> {
    this.dropClient();
    if (this.pid && alive(this.pid)) {
      const r = await vpio(['down', '--dir', this.dir]);
      if (r.code !== 0 && alive(this.pid)) process.kill(this.pid, 'SIGKILL');
    }
    for (const p of this.guestPids) if (alive(p)) process.kill(p, 'SIGKILL');
    if (existsSync(this.base)) rmSync(this.base, { recursive: true, force: true });
  }
}
