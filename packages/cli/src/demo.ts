/**
 * `vpio demo`: the whole platform in one command. Brings a Platform up in a
 * private directory, starts five minios guests —
 *
 *   pktgen ──▶ firewall ──▶ sink        (64-byte UDP, the firewall drops a configured share)
 *   ping-a ◀─▶ ping-b                   (ICMP echo, RTT measured by ping-a)
 *
 * shows live per-guest rates for `seconds` (a redrawn table on a terminal,
 * one line per second otherwise), then a summary (Mpps through the
 * firewall, drops by reason, ping RTT p50/p99), tears everything down and
 * checks that nothing is left: no guest process, no descriptor or memfd
 * region of this process beyond what it had before, no directory or socket.
 *
 * Everything shown is measured: the rates come from the switch's per-port
 * counters, the firewall's verdicts and the RTTs from the guests' own
 * console lines (JSON).
 */
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VpioError } from '@vpio/errors';
import { Platform } from './platform.js';
import type { DomainRow, StatsResult } from './protocol.js';

export interface DemoOptions {
  /** How long traffic runs before the summary (default 10). */
  readonly seconds?: number;
  /** Switch worker cores (default [1] on a machine with 2+ cores, else unpinned). */
  readonly cores?: readonly number[];
  /** The minios binary and the directory of its shipped configs. */
  readonly minios: { readonly binary: string; readonly configs: string };
  /** Live output (default: process.stdout); nothing is written when `json` is set. */
  readonly out?: NodeJS.WritableStream & { isTTY?: boolean };
  readonly json?: boolean;
  /** Run without the sandbox steps vpiod cannot take (not root). */
  readonly insecure?: boolean;
}

export interface DemoGuestFigures {
  readonly name: string;
  readonly inPackets: number;
  readonly outPackets: number;
  readonly drops: Readonly<Record<string, number>>;
}

export interface DemoSummary {
  readonly seconds: number;
  readonly firewall: {
    /** Packets the firewall forwarded per second, averaged over the run (from its switch port). */
    readonly forwardedMpps: number;
    /** Packets the pktgen sent per second (offered load). */
    readonly offeredMpps: number;
    readonly allowed: number;
    readonly denied: number;
  };
  readonly sink: { readonly received: number };
  /** Drops by reason: the switch's per-reason counters summed over every port, plus the firewall's denials. */
  readonly drops: Readonly<Record<string, number>>;
  readonly ping: { readonly sent: number; readonly received: number; readonly rttP50Us: number | null; readonly rttP99Us: number | null };
  readonly guests: readonly DemoGuestFigures[];
  /** What teardown left behind (empty: nothing). */
  readonly leftovers: readonly string[];
}

const MAC = {
  pktgen: '02:76:70:de:00:01',
  firewall: '02:76:70:de:00:02',
  sink: '02:76:70:de:00:03',
  pingA: '02:76:70:de:00:04',
  pingB: '02:76:70:de:00:05',
} as const;

/** One guest of the demo: its name, minios config text, and vif. */
interface DemoGuest {
  readonly name: string;
  readonly config: string;
  readonly mac: string;
}

function guests(seconds: number): DemoGuest[] {
  // 20 pings a second, done about a second before the summary
  const pings = Math.max(5, Math.min(4096, (seconds - 1) * 20));
  return (['sink', 'firewall', 'ping-b', 'ping-a', 'pktgen'] as const).map((name) => ({
    name,
    mac: { sink: MAC.sink, firewall: MAC.firewall, 'ping-b': MAC.pingB, 'ping-a': MAC.pingA, pktgen: MAC.pktgen }[name],
    config: demoConfig(name, pings),
  }));
}

/**
 * The guests' minios configs (minios/README.md has the grammar). pktgen runs
 * two flows into one vif: UDP to port 9001 as fast as the ring takes it
 * (allowed) and UDP to port 23 at a fixed rate (denied by the firewall).
 */
function demoConfig(which: 'sink' | 'firewall' | 'pktgen' | 'ping-a' | 'ping-b', pings: number): string {
  switch (which) {
    case 'sink':
      return 'FromNetfront(0) -> rx :: Counter -> Sink;';
    case 'firewall':
      return [
        'src :: FromNetfront(0);',
        'fw :: IPFilter(allow udp && dst port 9001, deny all);',
        `src -> fw -> EtherRewrite(SRC auto, DST ${MAC.sink}) -> ToNetfront(0);`,
      ].join('\n');
    case 'pktgen':
      return [
        'out :: ToNetfront(0);',
        `ok :: Pktgen(SRC_MAC auto, DST_MAC ${MAC.firewall}, SRC_IP 10.0.0.1, DST_IP 10.0.0.3, LEN 60, RATE 0, COUNT 0, BURST 256, DPORT 9001);`,
        `bad :: Pktgen(SRC_MAC auto, DST_MAC ${MAC.firewall}, SRC_IP 10.0.0.1, DST_IP 10.0.0.3, LEN 60, RATE 100000, COUNT 0, BURST 64, DPORT 23);`,
        'ok -> out; bad -> out;',
        'FromNetfront(0) -> Sink;',
      ].join('\n');
    case 'ping-a':
      return [
        'src :: FromNetfront(0); out :: ToNetfront(0);',
        'cls :: Classifier(12/0806 20/0001, 12/0806 20/0002, 12/0800 23/01 34/00, -);',
        `ping :: Pinger(SRC_IP 10.0.1.1, DST_IP 10.0.1.2, MAC auto, INTERVAL 50, COUNT ${pings});`,
        'src -> cls; cls[0] -> ARPResponder(10.0.1.1) -> out; cls[1] -> ping; cls[2] -> ping; cls[3] -> Sink; ping -> out;',
      ].join('\n');
    case 'ping-b':
      return [
        'src :: FromNetfront(0); out :: ToNetfront(0);',
        'cls :: Classifier(12/0806 20/0001, 12/0800 23/01, -);',
        'src -> cls; cls[0] -> ARPResponder(10.0.1.2) -> out; cls[1] -> ICMPPingResponder -> out; cls[2] -> Sink;',
      ].join('\n');
  }
}

/** Descriptors of this process that are memfd regions, sockets, everything. */
function fdCensus(): { total: number; memfd: number; sockets: number } {
  let total = 0;
  let memfd = 0;
  let sockets = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // the directory's own descriptor, gone already
    }
    total++;
    if (target.startsWith('/memfd:')) memfd++;
    if (target.startsWith('socket:')) sockets++;
  }
  return { total, memfd, sockets };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The JSON lines a guest printed that carry `event`. */
function consoleEvents(platform: Platform, name: string): Array<Record<string, unknown>> {
  const text = platform.console(name).text;
  const out: Array<Record<string, unknown>> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const v = JSON.parse(line) as Record<string, unknown>;
      if (typeof v.event === 'string') out.push(v);
    } catch {
      // a line cut by the console buffer: skip it
    }
  }
  return out;
}

const fmtRate = (pps: number): string => (pps >= 1e6 ? `${(pps / 1e6).toFixed(2)} Mpps` : pps >= 1e3 ? `${(pps / 1e3).toFixed(1)} kpps` : `${pps.toFixed(0)} pps`);

function liveTable(stats: StatsResult, names: ReadonlyMap<number, string>, t: number, total: number): string[] {
  const rows = stats.ports
    .map((p) => ({ name: names.get(p.port) ?? `port ${p.port}`, p }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const lines = [`vpio demo  ${t}/${total} s   (switch port rates over the last second)`, ''];
  lines.push(`${'guest'.padEnd(10)} ${'sent'.padStart(12)} ${'received'.padStart(12)} ${'drops/s'.padStart(12)}  drops (total, by reason)`);
  for (const { name, p } of rows) {
    const reasons = Object.entries(p.drops).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
    lines.push(`${name.padEnd(10)} ${fmtRate(p.rates.inPps).padStart(12)} ${fmtRate(p.rates.outPps).padStart(12)} ${fmtRate(p.rates.dropsPerSec).padStart(12)}  ${reasons || '-'}`);
  }
  return lines;
}

export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const seconds = options.seconds ?? 10;
  const out = options.out ?? process.stdout;
  const say = (s: string): void => {
    if (!options.json) out.write(`${s}\n`);
  };
  const before = fdCensus();
  const dir = mkdtempSync(join(tmpdir(), 'vpio-demo-'));
  const cores = options.cores ?? [1];
  const platform = new Platform({ dir: join(dir, 'run'), cores, mode: 'event', insecure: options.insecure, statsIntervalMs: 1000 });
  const rows: DomainRow[] = [];
  let summary: Omit<DemoSummary, 'leftovers'> | undefined;
  try {
    say(`starting the platform in ${dir} (switch worker on core${cores.length > 1 ? 's' : ''} ${cores.join(', ')}) ...`);
    await platform.start();
    for (const g of guests(seconds)) {
      rows.push(
        await platform.run({
          name: g.name,
          argv: [options.minios.binary, '-e', g.config, '--stats-interval', '1000'],
          vifs: [{ mac: g.mac }],
        }),
      );
      say(`  ${g.name.padEnd(9)} domain ${rows.at(-1)!.domid}, vif ${g.mac}`);
    }
    await waitConnected(platform, rows.map((r) => r.name), 10_000);
    const names = new Map<number, string>();
    for (const d of platform.ls().domains) for (const v of d.vifs) if (v.port !== undefined) names.set(v.port, d.name);

    const first = platform.stats();
    const t0 = Date.now();
    let drawn = 0;
    for (let t = 1; t <= seconds; t++) {
      await new Promise((r) => setTimeout(r, t0 + t * 1000 - Date.now()));
      const s = platform.stats();
      const lines = liveTable(s, names, t, seconds);
      if (!options.json) {
        if (out.isTTY && drawn) out.write(`\x1b[${drawn}A\x1b[J`);
        if (out.isTTY) {
          out.write(`${lines.join('\n')}\n`);
          drawn = lines.length;
        } else {
          const byName = (n: string): string => fmtRate(s.ports.find((p) => names.get(p.port) === n)?.rates.outPps ?? 0);
          out.write(`t=${t}s firewall→sink ${byName('sink')}, pktgen offered ${fmtRate(s.ports.find((p) => names.get(p.port) === 'pktgen')?.rates.inPps ?? 0)}\n`);
        }
      }
    }
    const last = platform.stats();
    const elapsed = (last.atMs - first.atMs) / 1000;
    summary = summarise(platform, first, last, names, elapsed);
  } finally {
    await platform.close().catch(() => undefined);
  }
  const leftovers: string[] = [];
  for (const r of rows) if (alive(r.pid)) leftovers.push(`guest ${r.name} (pid ${r.pid}) still runs`);
  const after = fdCensus();
  if (after.memfd > before.memfd) leftovers.push(`${after.memfd - before.memfd} memfd region(s) still open`);
  if (after.sockets > before.sockets) leftovers.push(`${after.sockets - before.sockets} socket(s) still open`);
  if (after.total > before.total) leftovers.push(`${after.total - before.total} descriptor(s) still open`);
  // vpiod keeps its (empty) directory, as it would keep /run/vpio: what must be gone is every socket in it
  const runDir = join(dir, 'run');
  for (const e of existsSync(runDir) ? readdirSync(runDir, { withFileTypes: true }) : []) {
    if (e.isSocket()) leftovers.push(`socket ${join(runDir, e.name)} still exists`);
  }
  rmSync(dir, { recursive: true, force: true });
  if (!summary) throw new VpioError('DEMO_FAILED', 'the demo did not finish');
  const full: DemoSummary = { ...summary, leftovers };
  if (options.json) out.write(`${JSON.stringify(full)}\n`);
  else printSummary(say, full);
  return full;
}

async function waitConnected(platform: Platform, names: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ds = platform.ls().domains.filter((d) => names.includes(d.name));
    const pending = ds.filter((d) => d.vifs.some((v) => v.backendStateName !== 'Connected'));
    if (ds.length === names.length && pending.length === 0) return;
    const dead = names.filter((n) => !ds.some((d) => d.name === n));
    if (dead.length || Date.now() > deadline) {
      const why = [...dead, ...pending.map((d) => d.name)].map((n) => {
        let tail = '';
        try {
          const c = platform.console(n);
          tail = (c.stderr || c.text).trim().split('\n').slice(-3).join(' | ');
        } catch {
          // no console
        }
        return `${n}${tail ? `: ${tail}` : ''}`;
      });
      throw new VpioError('DEMO_FAILED', `guests did not connect (${dead.length ? 'exited' : 'timed out'}): ${why.join('; ')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function summarise(platform: Platform, first: StatsResult, last: StatsResult, names: ReadonlyMap<number, string>, elapsed: number): Omit<DemoSummary, 'leftovers'> {
  const port = (s: StatsResult, n: string): StatsResult['ports'][number] | undefined => s.ports.find((p) => names.get(p.port) === n);
  const delta = (n: string, k: 'inPackets' | 'outPackets'): number => (port(last, n)?.[k] ?? 0) - (port(first, n)?.[k] ?? 0);
  const drops: Record<string, number> = {};
  for (const p of last.ports) for (const [k, v] of Object.entries(p.drops)) if (v > 0) drops[`switch: ${k}`] = (drops[`switch: ${k}`] ?? 0) + v;
  const fwStats = consoleEvents(platform, 'firewall').filter((e) => e.event === 'stats').at(-1);
  const verdicts = firewallVerdicts(fwStats);
  if (verdicts.denied > 0) drops['firewall: denied by rule'] = verdicts.denied;
  const ping = pingFigures(consoleEvents(platform, 'ping-a'));
  const sinkIn = port(last, 'sink')?.outPackets ?? 0;
  return {
    seconds: elapsed,
    firewall: {
      forwardedMpps: delta('firewall', 'inPackets') / elapsed / 1e6,
      offeredMpps: delta('pktgen', 'inPackets') / elapsed / 1e6,
      allowed: verdicts.allowed,
      denied: verdicts.denied,
    },
    sink: { received: sinkIn },
    drops,
    ping,
    guests: last.ports.map((p) => ({ name: names.get(p.port) ?? `port ${p.port}`, inPackets: p.inPackets, outPackets: p.outPackets, drops: { ...p.drops } })),
  };
}

/** The firewall's allow/deny counts: IPFilter "fw" hits per rule (rule 0 allows, rule 1 denies) from its last stats line. */
function firewallVerdicts(stats: Record<string, unknown> | undefined): { allowed: number; denied: number } {
  const fw = ((stats?.elements ?? {}) as Record<string, { hits?: unknown }>).fw;
  const hits = Array.isArray(fw?.hits) ? (fw.hits as unknown[]).map(Number) : [];
  return { allowed: hits[0] ?? 0, denied: hits[1] ?? 0 };
}

/** The pinger's result line ({"event":"ping",...}: sent, received, p50Us, p99Us), or its live counters. */
function pingFigures(events: Array<Record<string, unknown>>): DemoSummary['ping'] {
  const done = events.filter((e) => e.event === 'ping').at(-1);
  if (done) {
    return { sent: Number(done.sent ?? 0), received: Number(done.received ?? 0), rttP50Us: Number(done.p50Us), rttP99Us: Number(done.p99Us) };
  }
  const live = ((events.filter((e) => e.event === 'stats').at(-1)?.elements ?? {}) as Record<string, Record<string, unknown>>).ping;
  return { sent: Number(live?.sent ?? 0), received: Number(live?.received ?? 0), rttP50Us: null, rttP99Us: null };
}

function printSummary(say: (s: string) => void, s: DemoSummary): void {
  say('');
  say(`summary over ${s.seconds.toFixed(1)} s`);
  say(`  through the firewall   ${s.firewall.forwardedMpps.toFixed(3)} Mpps (offered by pktgen: ${s.firewall.offeredMpps.toFixed(3)} Mpps)`);
  say(`  firewall verdicts      ${s.firewall.allowed} allowed, ${s.firewall.denied} denied`);
  say(`  sink received          ${s.sink.received} packets`);
  const drops = Object.entries(s.drops);
  say(`  drops by reason        ${drops.length ? drops.map(([k, v]) => `${k} ${v}`).join(', ') : 'none'}`);
  say(`  ping ping-a → ping-b   ${s.ping.received}/${s.ping.sent} replies, RTT p50 ${s.ping.rttP50Us ?? '-'} µs, p99 ${s.ping.rttP99Us ?? '-'} µs`);
  say(`  left behind            ${s.leftovers.length ? s.leftovers.join('; ') : 'nothing (no process, descriptor, region or socket)'}`);
}
