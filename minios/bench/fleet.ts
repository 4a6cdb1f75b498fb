/**
 * Many minios guests on one in-process Platform (@vpio/cli): what the scale
 * test (test/scale.test.ts) and the benchmark (bench/minios-bench.ts) share.
 * Guest configs, the attach/boot timestamps, the guests' processes and
 * their proportional memory (PSS), and the checks that teardown left no
 * process and no cgroup behind.
 */
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Platform, type DomainRow, type VifSpec } from '@vpio/cli';

/** minios's folder: the nearest package.json above this module (bench/ in the sources, dist/bench/ once bundled). */
function packageRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'configs'))) return dir;
    if (dir === dirname(dir)) throw new Error(`no minios package above ${fileURLToPath(import.meta.url)}`);
  }
}

export const MINIOS_ROOT = packageRoot();
export const MINIOS_BIN = join(MINIOS_ROOT, 'build', 'vpio-minios');

/** Locally administered MAC of guest `n` (0..65535) of role `role` (0..255). */
export function mac(role: number, n: number): string {
  const h = (b: number): string => b.toString(16).padStart(2, '0');
  return `02:5c:${h(role)}:00:${h(n >> 8)}:${h(n & 0xff)}`;
}

/** Answers ARP for IP and IPv4 echo (replies leave by buffer swap); drops the rest. */
export function responderConfig(ip: string): string {
  return [
    'src :: FromNetfront(0); out :: ToNetfront(0);',
    'cls :: Classifier(12/0806 20/0001, 12/0800 23/01, -);',
    `src -> cls; cls[0] -> ARPResponder(${ip}) -> out; cls[1] -> ICMPPingResponder -> out; cls[2] -> Sink;`,
  ].join('\n');
}

/** Pings DST from SRC COUNT times, INTERVAL ms apart; answers ARP for SRC. Prints {"event":"ping",...} when done. */
export function pingerConfig(src: string, dst: string, count: number, intervalMs: number): string {
  return [
    'src :: FromNetfront(0); out :: ToNetfront(0);',
    'cls :: Classifier(12/0806 20/0001, 12/0806 20/0002, 12/0800 23/01 34/00, -);',
    `ping :: Pinger(SRC_IP ${src}, DST_IP ${dst}, MAC auto, INTERVAL ${intervalMs}, COUNT ${count});`,
    `src -> cls; cls[0] -> ARPResponder(${src}) -> out; cls[1] -> ping; cls[2] -> ping; cls[3] -> Sink; ping -> out;`,
  ].join('\n');
}

/** UDP frames of LEN bytes (without FCS) to DST_MAC, as fast as the TX ring takes them (RATE 0) or at `rate` pps. */
export function pktgenConfig(dstMac: string, len: number, rate = 0): string {
  return [
    `gen :: Pktgen(SRC_MAC auto, DST_MAC ${dstMac}, SRC_IP 10.0.0.1, DST_IP 10.0.0.3, LEN ${len}, RATE ${rate}, COUNT 0, BURST 256, DPORT 9001);`,
    'gen -> ToNetfront(0);',
    'FromNetfront(0) -> Sink;',
  ].join('\n');
}

/** Counts and drops everything (the element is named `rx`). */
export const SINK_CONFIG = 'FromNetfront(0) -> rx :: Counter -> Sink;';

/** A one-vif firewall: IPFilter (allow UDP to 9000-9099, deny the rest), then EtherRewrite to the sink's MAC. */
export function firewallConfig(sinkMac: string): string {
  return [
    'src :: FromNetfront(0);',
    'fw :: IPFilter(deny src 10.9.0.0/16 && udp, allow udp && dst port 9000-9099, allow icmp, deny all);',
    `src -> fw -> passed :: Counter -> EtherRewrite(SRC auto, DST ${sinkMac}) -> ToNetfront(0);`,
  ].join('\n');
}

export type GuestEvent = Record<string, unknown> & { event: string };

/** The JSON lines with an `event` a guest printed so far (its console on the platform). */
export function events(platform: Platform, name: string): GuestEvent[] {
  const out: GuestEvent[] = [];
  for (const line of platform.console(name).text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const v = JSON.parse(line) as GuestEvent;
      if (typeof v.event === 'string') out.push(v);
    } catch {
      // a line cut by the console buffer
    }
  }
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it returns a value (not undefined) or `timeoutMs` passes (then throws `what`). */
export async function until<T>(what: string, check: () => T | undefined, timeoutMs: number, everyMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * Most grants a guest may have vpiod hold. vpiod sizes its descriptor limit
 * for the worst case, 256 + maxDomains × (160 + maxGrantsPerDomain): with the
 * default 64 a hard RLIMIT_NOFILE of 20000 (a container without
 * CAP_SYS_RESOURCE) allows 88 domains; with 32 it allows 101. A minios guest
 * with one vif holds far fewer.
 */
export const GRANTS_PER_GUEST = 32;

/** A Platform for many minios guests: event mode, switch worker unpinned, room for `maxDomains`. */
export function fleetPlatform(dir: string, maxDomains: number): Platform {
  return new Platform({ dir, cores: [-1], mode: 'event', maxDomains, maxGrantsPerDomain: GRANTS_PER_GUEST, statsIntervalMs: 1000 });
}

/**
 * Attach latency of a guest's first vif (ms): the platform's own figure,
 * from accepting run() to both ends Connected (`vpio ls --json` attachMs).
 */
export function attachMs(platform: Platform, name: string): number | undefined {
  return platform.ls().domains.find((d) => d.name === name)?.vifs[0]?.attachMs;
}

export interface Started {
  readonly row: DomainRow;
  /** performance.now() just before run() was called. */
  readonly t0: number;
  /** How long run() took (domain created, vifs made, launcher spawned), ms. */
  readonly runMs: number;
}

/** Runs one minios guest with `-e config` and one vif. */
export async function runGuest(platform: Platform, name: string, config: string, vif: VifSpec): Promise<Started> {
  const t0 = performance.now();
  const row = await platform.run({ name, argv: [MINIOS_BIN, '-e', config], vifs: [vif] });
  return { row, t0, runMs: performance.now() - t0 };
}

/** Waits until every named guest's vifs are Connected on both sides (throws naming the laggards and their stderr). */
export async function waitConnected(platform: Platform, names: readonly string[], timeoutMs: number): Promise<void> {
  const want = new Set(names);
  await until(
    `${names.length} guests to connect`,
    () => {
      const ds = platform.ls().domains.filter((d) => want.has(d.name));
      const ok = ds.length === want.size && ds.every((d) => d.vifs.every((v) => v.backendStateName === 'Connected' && v.frontendStateName === 'Connected'));
      return ok ? true : undefined;
    },
    timeoutMs,
    50,
  ).catch((e: Error) => {
    const ds = platform.ls().domains.filter((d) => want.has(d.name));
    const lag = ds.filter((d) => d.vifs.some((v) => v.backendStateName !== 'Connected')).map((d) => d.name);
    const dead = names.filter((n) => !ds.some((d) => d.name === n));
    const tail = (n: string): string => {
      try {
        const c = platform.console(n);
        return (c.stderr || c.text).trim().split('\n').slice(-2).join(' | ');
      } catch {
        return '';
      }
    };
    throw new Error(`${e.message}: not connected: ${lag.slice(0, 5).join(', ')}; exited: ${dead.slice(0, 5).map((n) => `${n} (${tail(n)})`).join(', ')}`);
  });
}

/** The vpio-minios process below a launcher pid (the guest runs in its own pid namespace). */
export function guestPid(pid: number): number | undefined {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  for (const task of tasks) {
    let children: number[] = [];
    try {
      children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
    } catch {
      continue;
    }
    for (const c of children) {
      try {
        if (readlinkSync(`/proc/${c}/exe`) === MINIOS_BIN) return c;
      } catch {
        // gone
      }
      const deeper = guestPid(c);
      if (deeper) return deeper;
    }
  }
  return undefined;
}

/** Proportional set size of a process (kB), from /proc/PID/smaps_rollup. */
export function pssKb(pid: number): number {
  return Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? NaN);
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The per-domain cgroups a vpiod in process `pid` made (vpio-<pid>-...), under every hierarchy (v1 or v2). */
export function cgroupsOf(pid: number): string[] {
  const out: string[] = [];
  const bases = existsSync('/sys/fs/cgroup/cgroup.controllers')
    ? ['/sys/fs/cgroup']
    : readdirSync('/sys/fs/cgroup', { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join('/sys/fs/cgroup', e.name));
  for (const base of bases) {
    for (const e of readdirSync(base, { withFileTypes: true })) if (e.isDirectory() && e.name.startsWith(`vpio-${pid}-`)) out.push(join(base, e.name));
  }
  return out;
}

/** The p-th percentile (0..100) of `xs` (nearest rank). */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/**
 * Boot times: run() called → the guest's `ready` line (its vifs are
 * connected and its elements started) seen on its console. Polls the
 * consoles of the guests still booting every `everyMs`.
 */
export class BootWatch {
  readonly #pending = new Map<string, number>();
  readonly #ms = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;

  constructor(private readonly platform: Platform, everyMs = 2) {
    this.#timer = setInterval(() => this.#poll(), everyMs);
  }

  /** Watches `name`, whose run() was called at `t0` (performance.now()). */
  add(name: string, t0: number): void {
    this.#pending.set(name, t0);
  }

  /** Boot time of `name` in ms, once seen. */
  ms(name: string): number | undefined {
    return this.#ms.get(name);
  }

  /** Resolves when every named guest said ready (throws after timeoutMs). */
  async all(names: readonly string[], timeoutMs: number): Promise<number[]> {
    await until(`${names.length} guests to say ready`, () => (names.every((n) => this.#ms.has(n)) ? true : undefined), timeoutMs, 20);
    return names.map((n) => this.#ms.get(n)!);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #poll(): void {
    const now = performance.now();
    for (const [name, t0] of this.#pending) {
      let text: string;
      try {
        text = this.platform.console(name).text;
      } catch {
        continue; // not attached yet
      }
      if (text.includes('"event":"ready"')) {
        this.#ms.set(name, now - t0);
        this.#pending.delete(name);
      }
    }
  }
}
