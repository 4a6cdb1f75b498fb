// minios guests on the real platform (an in-process Platform from
// @vpio/cli: vpiod + switch + netback, event mode, switch worker
// unpinned):
//
//   pktgen → sink                 (the direct path)
//   pktgen → firewall → sink      (IPFilter + EtherRewrite, one vif, zero-copy)
//
// at 64-byte (60 + FCS) and 1514-byte frames (1500-byte IP packets): packets
// per second delivered to the sink's vif (its switch port's out counter),
// and the firewall path as a ratio of the direct path measured in the same
// run. Then 100 tenants (50 pktgen → sink pairs, one VLAN each, 64-slot
// rings, unlimited rate): aggregate Mpps at the 50 sinks and PSS per guest.
// Boot time is run() called → the guest's `ready` line (vif connected,
// elements started), every guest started one at a time.
//
// The ClickOS anchors printed last are the seed's reference points (ClickOS
// guests: ~5 MB, ~30 ms boot, ~5 Mpps per middlebox; Xen on other
// hardware): context, not a baseline of this run, so they carry no ratio.
//
//   npm run bench -w @vpio/minios [-- --json] [--seconds N] [--rounds N] [--pairs N]
//
// --rounds N: each single path runs N times, direct and firewall alternating;
// the median is reported (default 3). --pairs N: tenant pairs (default 50).
//
// Needs root (vpiod's sandbox) and the built guest (npm run build -w @vpio/minios).
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuInfo, formatTable, parseArgs, record, type BenchRecord } from '@vpio/devkit/bench';
import type { StatsResult, VifSpec } from '@vpio/cli';
import {
  BootWatch,
  attachMs,
  SINK_CONFIG,
  firewallConfig,
  guestPid,
  mac,
  percentile,
  pktgenConfig,
  pssKb,
  runGuest,
  sleep,
  fleetPlatform,
  waitConnected,
} from './fleet.js';

const args = parseArgs(process.argv.slice(2), { seconds: 2 });
const pairsAt = args.rest.findIndex((a) => a === '--pairs');
const PAIRS = pairsAt >= 0 ? Number(args.rest[pairsAt + 1]) : 50;
if (!Number.isInteger(PAIRS) || PAIRS < 1 || PAIRS > 50) throw new Error(`--pairs expects 1..50, got ${args.rest[pairsAt + 1]}`);
const roundsAt = args.rest.findIndex((a) => a === '--rounds');
const ROUNDS = roundsAt >= 0 ? Number(args.rest[roundsAt + 1]) : 3;
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`--rounds expects a positive integer, got ${args.rest[roundsAt + 1]}`);
const log = (s: string): void => {
  if (!args.json) console.error(s);
};
const WARMUP_MS = 500;

const base = mkdtempSync(join(tmpdir(), 'vpio-minios-bench-'));
const platform = fleetPlatform(join(base, 'run'), 2 * PAIRS);
const boots: number[] = [];
const attaches: number[] = [];
const runs: number[] = [];
const records: BenchRecord[] = [];
let seq = 0;

/**
 * Starts guests one at a time; returns their names once all are connected
 * and said ready. Notes their boot times (run() → ready) and attach times
 * (the platform's: run() accepted → both ends of the vif Connected).
 */
async function start(watch: BootWatch, guests: ReadonlyArray<{ name: string; config: string; vif: VifSpec }>): Promise<string[]> {
  const started = [];
  for (const g of guests) {
    const s = await runGuest(platform, g.name, g.config, g.vif);
    watch.add(g.name, s.t0);
    started.push(s);
  }
  const names = guests.map((g) => g.name);
  await waitConnected(platform, names, 30_000);
  boots.push(...(await watch.all(names, 30_000)));
  attaches.push(...names.map((n) => attachMs(platform, n) ?? NaN).filter(Number.isFinite));
  runs.push(...started.map((s) => s.runMs));
  return names;
}

async function destroy(names: readonly string[]): Promise<void> {
  for (const n of names) await platform.destroy(n, 500);
}

type Port = StatsResult['ports'][number];
function portOf(s: StatsResult, name: string): Port {
  const p = s.ports.find((x) => x.name === name);
  if (!p) throw new Error(`no switch port of ${name}`);
  return p;
}

/** Packets and bytes the named guests' ports delivered to them over `seconds`, after a warm-up. */
async function measure(names: readonly string[], sender?: string): Promise<{ pps: number; bps: number; perGuest: number[]; drops: number; offeredPps: number }> {
  await sleep(WARMUP_MS);
  const a = platform.stats();
  await sleep(args.seconds * 1000);
  const b = platform.stats();
  const dt = (b.atMs - a.atMs) / 1000;
  const perGuest = names.map((n) => (portOf(b, n).outPackets - portOf(a, n).outPackets) / dt);
  const bytes = names.reduce((sum, n) => sum + portOf(b, n).outBytes - portOf(a, n).outBytes, 0);
  const drops = b.ports.reduce((s, p) => s + p.dropsTotal, 0) - a.ports.reduce((s, p) => s + p.dropsTotal, 0);
  const offeredPps = sender ? (portOf(b, sender).inPackets - portOf(a, sender).inPackets) / dt : NaN;
  return { pps: perGuest.reduce((x, y) => x + y, 0), bps: (bytes * 8) / dt, perGuest, drops, offeredPps };
}

/** One path at one frame size: Mpps and Gb/s at the sink. */
async function path(watch: BootWatch, len: number, firewall: boolean): Promise<{ mpps: number; gbps: number; offeredMpps: number }> {
  const k = ++seq;
  const sinkMac = mac(12, k);
  const guests = [{ name: `sink-${k}`, config: SINK_CONFIG, vif: { mac: sinkMac } }];
  if (firewall) guests.push({ name: `fw-${k}`, config: firewallConfig(sinkMac), vif: { mac: mac(11, k) } });
  guests.push({ name: `pktgen-${k}`, config: pktgenConfig(firewall ? mac(11, k) : sinkMac, len), vif: { mac: mac(10, k) } });
  const names = await start(watch, guests);
  try {
    const m = await measure([`sink-${k}`], `pktgen-${k}`);
    return { mpps: m.pps / 1e6, gbps: m.bps / 1e9, offeredMpps: m.offeredPps / 1e6 };
  } finally {
    await destroy(names);
  }
}

const cpu = cpuInfo();
const loadBefore = loadavg()[0]!;
let tenants: { mpps: number; pssKb: number; launcherPssKb: number; minPairMpps: number; maxPairMpps: number; drops: number } | undefined;
await platform.start();
const watch = new BootWatch(platform);
try {
  for (const [len, label] of [[60, '64 B'], [1514, '1514 B']] as const) {
    // direct and firewall paths alternate, ROUNDS times each; the medians are reported
    const rounds: Array<{ direct: Awaited<ReturnType<typeof path>>; fw: Awaited<ReturnType<typeof path>> }> = [];
    for (let r = 1; r <= ROUNDS; r++) {
      const d = await path(watch, len, false);
      const f = await path(watch, len, true);
      log(
        `${label} round ${r}/${ROUNDS}: pktgen → sink ${d.mpps.toFixed(3)} Mpps (offered ${d.offeredMpps.toFixed(3)}), ` +
          `pktgen → firewall → sink ${f.mpps.toFixed(3)} Mpps (offered ${f.offeredMpps.toFixed(3)})`,
      );
      rounds.push({ direct: d, fw: f });
    }
    const med = (xs: number[]): number => percentile(xs, 50);
    const medOf = (k: 'direct' | 'fw') => ({
      mpps: med(rounds.map((x) => x[k].mpps)),
      gbps: med(rounds.map((x) => x[k].gbps)),
      offeredMpps: med(rounds.map((x) => x[k].offeredMpps)),
    });
    const [direct, fw] = [medOf('direct'), medOf('fw')];
    const directCase = `pktgen → sink, ${label}`;
    records.push(record(directCase, direct.mpps, 'Mpps'));
    records.push(record(`pktgen → firewall → sink, ${label}`, fw.mpps, 'Mpps', `${directCase} (same run)`, direct.mpps));
    records.push(record(`pktgen → sink, ${label}: offered by pktgen`, direct.offeredMpps, 'Mpps'));
    records.push(record(`pktgen → firewall → sink, ${label}: offered by pktgen`, fw.offeredMpps, 'Mpps'));
    records.push(record(`pktgen → sink, ${label}`, direct.gbps, 'Gb/s'));
    records.push(record(`pktgen → firewall → sink, ${label}`, fw.gbps, 'Gb/s', `${directCase} (same run)`, direct.gbps));
  }

  log(`${2 * PAIRS} tenants: ${PAIRS} pktgen → sink pairs, one VLAN each ...`);
  const slots = { txSlots: 64, rxSlots: 64 };
  const sinks = Array.from({ length: PAIRS }, (_, i) => ({ name: `t-sink-${i}`, config: SINK_CONFIG, vif: { mac: mac(22, i), vlan: 100 + i, ...slots } }));
  const gens = Array.from({ length: PAIRS }, (_, i) => ({ name: `t-gen-${i}`, config: pktgenConfig(mac(22, i), 60), vif: { mac: mac(20, i), vlan: 100 + i, ...slots } }));
  const names = await start(watch, [...sinks, ...gens]);
  const rows = platform.ls().domains.filter((d) => names.includes(d.name));
  const m = await measure(sinks.map((s) => s.name));
  const guestPss = rows.map((d) => pssKb(guestPid(d.pid) ?? 0));
  const launcherPss = rows.map((d) => pssKb(d.pid));
  tenants = {
    mpps: m.pps / 1e6,
    pssKb: guestPss.reduce((a, b) => a + b, 0) / guestPss.length,
    launcherPssKb: launcherPss.reduce((a, b) => a + b, 0) / launcherPss.length,
    minPairMpps: Math.min(...m.perGuest) / 1e6,
    maxPairMpps: Math.max(...m.perGuest) / 1e6,
    drops: m.drops,
  };
  log(`  ${tenants.mpps.toFixed(3)} Mpps in all (${m.drops} switch drops meanwhile); destroying ...`);
  await destroy(names);
} finally {
  watch.stop();
  await platform.close();
  rmSync(base, { recursive: true, force: true });
}

const T = `${2 * PAIRS} tenants (${PAIRS} pktgen → sink pairs, 64 B)`;
records.push(record(`${T}: aggregate`, tenants.mpps, 'Mpps'));
records.push(record(`${T}: per pair, lowest`, tenants.minPairMpps, 'Mpps'));
records.push(record(`${T}: per pair, highest`, tenants.maxPairMpps, 'Mpps'));
records.push(record(`${T}: PSS per guest`, tenants.pssKb / 1024, 'MB'));
records.push(record(`${T}: PSS per guest's launcher`, tenants.launcherPssKb / 1024, 'MB'));
records.push(record(`run() (domain, vif, launcher spawned), ${runs.length} guests, p50`, percentile(runs, 50), 'ms'));
records.push(record(`boot (run() → ready), ${boots.length} guests, p50`, percentile(boots, 50), 'ms'));
records.push(record(`boot (run() → ready), ${boots.length} guests, p99`, percentile(boots, 99), 'ms'));
records.push(record(`attach (run() → vif Connected), ${attaches.length} guests, p50`, percentile(attaches, 50), 'ms'));
records.push(record(`attach (run() → vif Connected), ${attaches.length} guests, p99`, percentile(attaches, 99), 'ms'));
records.push(record('ClickOS anchor (other hardware): memory per guest', 5, 'MB'));
records.push(record('ClickOS anchor (other hardware): boot', 30, 'ms'));
records.push(record('ClickOS anchor (other hardware): middlebox rate per guest', 5, 'Mpps'));

if (args.json) {
  for (const r of records) console.log(JSON.stringify(r));
} else {
  console.log(`@vpio/minios bench: ${cpu.model}, ${cpu.allowedCores}/${cpu.cores} cores, ${args.seconds} s per case after ${WARMUP_MS} ms warm-up, single paths: median of ${ROUNDS} alternating rounds`);
  console.log(`1-minute load average before the run ${loadBefore.toFixed(2)} (other work on these cores lowers every figure), ${loadavg()[0]!.toFixed(2)} at its end`);
  console.log('in-process Platform, event mode, switch worker unpinned; single paths with 256-slot rings, tenants with 64-slot rings; rates at the sink vif');
  console.log(formatTable(records as unknown as Record<string, unknown>[], ['case', 'value', 'unit', 'baseline', 'baseline_value', 'ratio']));
  console.log('ClickOS anchors: the seed\'s reference figures (Xen, other hardware): context, not a same-run baseline (no ratio).');
}
