// Linux guests over vpio against Linux's own veth + bridge, in the same run:
// iperf3 TCP (1 and 4 streams) and UDP (1472-byte payload, unlimited rate)
// between two `vpio run --linux` guests, next to the unmodified baseline
// script run_iperf3_bridge.sh (found with findBaselines()), and a
// request/response latency (ping -c N -i 0.01: RTT p50/p99) over vpio and
// over a veth + bridge pair of namespaces this bench makes for the purpose.
// Multi-queue: the same two guests again with `--queues N` (default 2), TCP
// 1 and 4 streams, reported against the 1-queue figures of the same run;
// `--rounds R` alternates 1-queue and N-queue platforms R times (the
// machine is shared: ratios within one round are what to read).
//
//   npm run bench -w @vpio/linux-netfront [-- --json] [--seconds S] [--pings N] [--queues N] [--rounds R]
//
// Needs root (the sandbox, namespaces) and iperf3 (package.json "vpio.debian").
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { cpuInfo, findBaselines, formatTable, parseArgs, record, runCommand, type BenchRecord } from '@vpio/devkit/bench';
import { connected, ended, netfrontCounters, tempBase, vpio } from '../test/helpers.js';

const args = parseArgs(process.argv.slice(2), { seconds: 5 });
function intOption(name: string, dflt: number, min: number, max: number): number {
  const at = args.rest.indexOf(name);
  if (at < 0) return dflt;
  const n = Number(args.rest[at + 1]);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} expects an integer in [${min}, ${max}], got ${JSON.stringify(args.rest[at + 1] ?? null)}`);
  return n;
}
const pings = intOption('--pings', 200, 1, 100_000);
const queues = intOption('--queues', 2, 2, 8);
const rounds = intOption('--rounds', 1, 1, 20);
const log = (s: string): void => { if (!args.json) console.log(s); };

interface Iperf { tcp1: number; tcp4: number; udp: number; udpLost: number; retransmits1: number; retransmits4: number }

/** Per queue, frames the client's netfront moved (TX + RX), from its exit counters. */
function perQueueFrames(c: Record<string, unknown> | undefined): number[] {
  const per = (c?.per_queue ?? []) as Array<Record<string, number>>;
  return per.map((q) => (q.tx_packets ?? 0) + (q.rx_packets ?? 0));
}

/** The JSON documents between marker lines `=== name` that the client guest printed. */
function sections(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = text.split(/^=== (\S+)$/m);
  for (let i = 1; i + 1 < parts.length; i += 2) out.set(parts[i]!, parts[i + 1]!);
  return out;
}

function iperfJson(s: string | undefined, what: string): { end: Record<string, Record<string, number>> } {
  if (s === undefined) throw new Error(`no ${what} output`);
  const start = s.indexOf('{\n');
  const json = s.slice(start, s.lastIndexOf('\n}') + 2);
  return JSON.parse(json) as { end: Record<string, Record<string, number>> };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function rtts(pingText: string): number[] {
  return [...pingText.matchAll(/time=([0-9.]+) ms/g)].map((m) => Number(m[1]) * 1000).sort((a, b) => a - b);
}

/**
 * Two Linux guests on a fresh platform with `q` queues each: iperf3 TCP 1 and
 * 4 streams, and (full) UDP and ping; `full` false measures TCP only.
 */
async function overVpio(seconds: number, q = 1, full = true): Promise<{ iperf: Iperf; rtt: number[]; counters: string; perQueue: number[] }> {
  const t = tempBase();
  const up = await vpio(['up', '--dir', t.dir, '--cores=-1']);
  if (up.code !== 0) throw new Error(`vpio up: ${up.stderr}`);
  try {
    const run = async (name: string, a: string[]): Promise<void> => {
      const r = await vpio(['run', '--dir', t.dir, '--name', name, '--linux', '--queues', String(q), ...a]);
      if (r.code !== 0) throw new Error(`vpio run ${name}: ${r.stderr}`);
    };
    await run('srv', ['--ip', '10.62.0.1/24', '--', '/usr/bin/iperf3', '-s']);
    await connected(t.dir, 'srv');
    const S = String(seconds);
    const script = [
      'sleep 0.5',
      `echo '=== tcp1'; iperf3 -c 10.62.0.1 -t ${S} -J`,
      `echo '=== tcp4'; iperf3 -c 10.62.0.1 -t ${S} -P 4 -J`,
      ...(full ? [
        `echo '=== udp'; iperf3 -c 10.62.0.1 -t ${S} -u -b 0 -l 1472 -J`,
        `echo '=== ping'; ping -c ${pings} -i 0.01 -w ${Math.ceil(pings / 50) + 10} 10.62.0.1`,
      ] : []),
      'true',
    ].join('; ');
    await run('cli', ['--ip', '10.62.0.2/24', '--', '/bin/sh', '-c', script]);
    // look once a second: each look starts a `vpio console` process, which at 25 ms took
    // 40% of the two cores from the guests being measured (the bridge baseline has no such load)
    const cli = await ended(t.dir, 'cli', (seconds * 3 + pings / 50 + 60) * 1000, 1000);
    const sec = sections(cli.text);
    const tcp1 = iperfJson(sec.get('tcp1'), 'tcp1').end;
    const tcp4 = iperfJson(sec.get('tcp4'), 'tcp4').end;
    const udp = full ? iperfJson(sec.get('udp'), 'udp').end : undefined;
    const c = netfrontCounters(cli.text);
    const { per_queue: _perQueue, ...sums } = c ?? {};
    return {
      iperf: {
        tcp1: tcp1.sum_received!.bits_per_second! / 1e9,
        tcp4: tcp4.sum_received!.bits_per_second! / 1e9,
        udp: udp ? udp.sum!.bits_per_second! / 1e9 : 0,
        udpLost: udp ? (udp.sum!.lost_percent ?? 0) : 0,
        retransmits1: tcp1.sum_sent!.retransmits ?? 0,
        retransmits4: tcp4.sum_sent!.retransmits ?? 0,
      },
      rtt: full ? rtts(sec.get('ping') ?? '') : [],
      counters: JSON.stringify(sums),
      perQueue: perQueueFrames(c),
    };
  } finally {
    await vpio(['down', '--dir', t.dir]);
    t.cleanup();
  }
}

/** The baseline script, unmodified: its two printed lines hold the figures. */
async function bridgeIperf(dir: string, seconds: number, streams: number): Promise<{ tcp: number; udp: number; udpLost: number; text: string }> {
  const text = await runCommand('bash', [join(dir, 'run_iperf3_bridge.sh'), String(seconds), String(streams)], { timeoutMs: (seconds * 2 + 60) * 1000 });
  const tcp = /TCP: ([0-9.]+) Gb\/s/.exec(text);
  const udp = /UDP 1472 B payload: ([0-9.]+) Gb\/s, lost ([0-9.]+)%/.exec(text);
  if (!tcp || !udp) throw new Error(`run_iperf3_bridge.sh printed no figures:\n${text}`);
  return { tcp: Number(tcp[1]), udp: Number(udp[1]), udpLost: Number(udp[2]), text: text.trim() };
}

/** ping RTTs over veth + Linux bridge between two namespaces (the baseline's topology). */
function bridgePing(): number[] {
  const id = String(process.pid % 100000);
  const [A, B, S] = [`lnbA${id}`, `lnbB${id}`, `lnbS${id}`];
  const sh = (c: string): string => execFileSync('/bin/sh', ['-c', c], { encoding: 'utf8' });
  try {
    sh([
      ...[A, B, S].map((n) => `ip netns add ${n} && ip -n ${n} link set lo up`),
      `ip link add va netns ${A} type veth peer name vab netns ${S}`,
      `ip link add vb netns ${B} type veth peer name vbb netns ${S}`,
      `ip -n ${S} link add br0 type bridge`,
      `ip -n ${S} link set vab master br0 && ip -n ${S} link set vbb master br0`,
      ...['vab', 'vbb', 'br0'].map((d) => `ip -n ${S} link set ${d} up`),
      `ip -n ${A} addr add 198.18.0.1/24 dev va && ip -n ${A} link set va up`,
      `ip -n ${B} addr add 198.18.0.2/24 dev vb && ip -n ${B} link set vb up`,
      'sleep 1',
    ].join(' && '));
    return rtts(sh(`ip netns exec ${A} ping -c ${pings} -i 0.01 -w ${Math.ceil(pings / 50) + 10} 198.18.0.2`));
  } finally {
    for (const n of [A, B, S]) {
      try { sh(`ip netns del ${n}`); } catch { /* already gone */ }
    }
  }
}

const baselines = findBaselines();
for (const w of baselines.warnings) console.error(`warning: ${w}`);
log(`Linux guests over vpio vs veth + Linux bridge, ${args.seconds} s per iperf3 case; 1 vs ${queues} queues, ${rounds} round(s); ${cpuInfo().model}`);
const v = await overVpio(args.seconds);
log(`vpio: TCP ${v.iperf.tcp1.toFixed(2)} Gb/s (${v.iperf.retransmits1} retransmits), 4 streams ${v.iperf.tcp4.toFixed(2)} Gb/s (${v.iperf.retransmits4}), UDP ${v.iperf.udp.toFixed(2)} Gb/s (lost ${v.iperf.udpLost.toFixed(1)}%)`);
log(`vpio client netfront counters: ${v.counters}`);
// 1 vs N queues, alternating, TCP only (round 1's 1-queue figures are the full run's above)
const mq: Array<{ one: Iperf; many: Iperf; perQueue: number[] }> = [];
for (let r = 0; r < rounds; r++) {
  const one = r === 0 ? v.iperf : (await overVpio(args.seconds, 1, false)).iperf;
  const many = await overVpio(args.seconds, queues, false);
  mq.push({ one, many: many.iperf, perQueue: many.perQueue });
  log(`round ${r + 1}: 1 queue TCP ${one.tcp1.toFixed(2)} / 4 streams ${one.tcp4.toFixed(2)} Gb/s; ${queues} queues TCP ${many.iperf.tcp1.toFixed(2)} / 4 streams ${many.iperf.tcp4.toFixed(2)} Gb/s (retransmits ${many.iperf.retransmits1}, ${many.iperf.retransmits4}); frames per queue (client, TX + RX) ${many.perQueue.join(' / ')}`);
}
const b1 = await bridgeIperf(baselines.dir, args.seconds, 1);
const b4 = await bridgeIperf(baselines.dir, args.seconds, 4);
log(`baseline run_iperf3_bridge.sh ${args.seconds} 1:\n${b1.text}\nbaseline run_iperf3_bridge.sh ${args.seconds} 4:\n${b4.text}`);
const bp = bridgePing();
const us = (a: number[], p: number): number => (a.length ? percentile(a, p) : Number.NaN);
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const mq1 = mean(mq.map((x) => x.many.tcp1));
const mq4 = mean(mq.map((x) => x.many.tcp4));
const one1 = mean(mq.map((x) => x.one.tcp1));
const one4 = mean(mq.map((x) => x.one.tcp4));
const recs: BenchRecord[] = [
  record('iperf3 TCP 1 stream', v.iperf.tcp1, 'Gb/s', 'veth+bridge', b1.tcp),
  record('iperf3 TCP 4 streams', v.iperf.tcp4, 'Gb/s', 'veth+bridge', b4.tcp),
  record('iperf3 UDP 1472 B', v.iperf.udp, 'Gb/s', 'veth+bridge', (b1.udp + b4.udp) / 2),
  record('ping RTT p50', us(v.rtt, 50), 'us', 'veth+bridge', us(bp, 50), { lowerIsBetter: true }),
  record('ping RTT p99', us(v.rtt, 99), 'us', 'veth+bridge', us(bp, 99), { lowerIsBetter: true }),
  record(`iperf3 TCP 1 stream, ${queues} queues`, mq1, 'Gb/s', '1 queue', one1),
  record(`iperf3 TCP 4 streams, ${queues} queues`, mq4, 'Gb/s', '1 queue', one4),
  record(`iperf3 TCP 1 stream, ${queues} queues`, mq1, 'Gb/s', 'veth+bridge', b1.tcp),
  record(`iperf3 TCP 4 streams, ${queues} queues`, mq4, 'Gb/s', 'veth+bridge', b4.tcp),
];
if (args.json) {
  for (const r of recs) console.log(JSON.stringify(r));
} else {
  console.log(formatTable(recs, ['case', 'value', 'unit', 'baseline', 'baseline_value', 'ratio']));
  if (rounds > 1) console.log(`(${queues}-queue and 1-queue figures: means over ${rounds} alternating rounds; per round above)`);
  const drift = [
    ['TCP 1 stream', b1.tcp, 18.4], ['TCP 4 streams', b4.tcp, 38.6], ['UDP', (b1.udp + b4.udp) / 2, 5.6],
  ] as const;
  for (const [what, got, want] of drift) {
    if (Math.abs(got - want) / want > 0.3) console.log(`note: the bridge's ${what} figure (${got.toFixed(2)} Gb/s) is more than 30% from its recorded ${want} Gb/s: the machine was busy or differs`);
  }
}
