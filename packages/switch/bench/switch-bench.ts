// The switch benchmark: a C generator and a C sink (bench/c/) as sandboxed
// domains started by vpiod, each port's rings and pool one dom0 GrantTable
// region granted to its guest (mapped through the broker's GRANT_MAP) and
// handed to the switch from dom0's own mapping, with real event channels.
// The switch worker busy-polls on core 1; generators and sinks share core 0
// in event mode (they sleep when their ring is full or empty). Buffers are
// prefilled: the switch's copy is the measured work. Sink ports are
// lossless, so the figure is delivered packets.
//
// In the same run, the unmodified baselines of ../shared/baselines: the
// memif pair (testpmd txonly → rxonly), veth + Linux bridge (trafgen), and
// the raw copy loop (ringcopy.c).
//
//   npm run bench -w @vpio/switch [-- --json] [--seconds N] [--no-baselines] [--case=TEXT ...]
//   (VPIO_BENCH_DEBUG=1: timestamps of each step on stderr)
//
// Needs root (the sandbox, namespaces). Runs `make bench-bins` first.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Vpiod, type Domain } from '@vpio/domain';
import { RingView } from '@vpio/ring';
import {
  compileBaseline, cpuInfo, driftWarning, findBaselines, formatTable, parseArgs, parseFigures, record, runCommand, type BenchRecord,
} from '@vpio/devkit/bench';
import { Switch, type SwitchStats } from '../src/index.js';

const BENCH_CTRL_PORT = 0x0300; // bench/c/bench_port.h
const NUM_SLOTS = 1024;
const BUF_SIZE_BYTES = 2048;
const NR_BUFS = 2 * NUM_SLOTS;
const PAGE = 4096;

const args = parseArgs(process.argv.slice(2), { seconds: 3 });
const withBaselines = !args.rest.includes('--no-baselines');
// --case=TEXT (repeatable): run only the cases whose name contains TEXT (for profiling one case)
const caseFilters = args.rest.filter((a) => a.startsWith('--case=')).map((a) => a.slice('--case='.length));
const root = fileURLToPath(new URL('../..', import.meta.url));
const benchBin = (name: string): string => join(root, 'build', 'bench', name);
const warnings: string[] = [];
const log = (s: string): void => { if (!args.json) console.error(s); };
const dbg = (s: string): void => { if (process.env.VPIO_BENCH_DEBUG) console.error(`[${(performance.now() / 1000).toFixed(3)}] ${s}`); };

interface CaseSpec { readonly name: string; readonly len: number; readonly gens: number; readonly sinks: number; readonly cores: readonly number[] }
interface CaseResult {
  readonly spec: CaseSpec; readonly mpps: number; readonly gbps: number; readonly cyclesPerPacket: number;
  readonly cyclesPerPacketAll: number; readonly avgBatch: number; readonly core0Util: number; readonly drops: number;
}

const align = (n: number): number => Math.ceil(n / PAGE) * PAGE;
const mac = (kind: number, i: number): string => `02:00:00:00:${kind.toString(16).padStart(2, '0')}:${(i + 1).toString(16).padStart(2, '0')}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Busy and total jiffies of one CPU from /proc/stat. */
function cpuTimes(cpu: number): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith(`cpu${cpu} `));
  const f = (line ?? '').trim().split(/\s+/).slice(1).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

function waitLine(d: Domain, word: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const t = setTimeout(() => reject(new Error(`${d.name}: no "${word}" within ${timeoutMs} ms; stderr: ${d.stderr}`)), timeoutMs);
    d.stdout!.setEncoding('utf8');
    d.stdout!.on('data', (c: string) => { seen += c; if (seen.includes(word)) { clearTimeout(t); resolve(); } });
    void d.released.then((e) => { clearTimeout(t); reject(new Error(`${d.name} exited (${JSON.stringify(e)}): ${d.stderr}`)); });
  });
}

async function runCase(spec: CaseSpec, tscHz: number): Promise<CaseResult> {
  const base = mkdtempSync(join(tmpdir(), 'vpio-swbench-'));
  const vpiod = new Vpiod({ dir: join(base, 'run'), maxDomains: 8 });
  await vpiod.start();
  const sw = new Switch({ cores: spec.cores, mode: 'poll' });
  const sinkPorts: number[] = [];
  const domains: Domain[] = [];
  const held: unknown[] = []; // the grants and their views stay referenced while the switch uses the memory
  try {
    vpiod.registerControlHandler(BENCH_CTRL_PORT, (domain) => {
      const sink = domain.name.startsWith('sink');
      const idx = Number(domain.name.slice(sink ? 4 : 3));
      const txOff = 0;
      const rxOff = align(RingView.bytes(NUM_SLOTS));
      const poolOff = rxOff + align(RingView.bytes(NUM_SLOTS));
      const poolBytes = NR_BUFS * BUF_SIZE_BYTES;
      const bytes = poolOff + poolBytes;
      const grant = vpiod.grants.grantRegion({ bytes, grantee: domain.domid, access: 'rw' });
      const mem = grant.buffer;
      held.push(grant, mem); // (the switch also holds the grant: memory below)
      RingView.init(mem, txOff, { kind: 'tx', numSlots: NUM_SLOTS, bufSizeBytes: BUF_SIZE_BYTES, nrBufs: NR_BUFS });
      RingView.init(mem, rxOff, { kind: 'rx', numSlots: NUM_SLOTS, bufSizeBytes: BUF_SIZE_BYTES, nrBufs: NR_BUFS, firstBuf: NUM_SLOTS });
      const txPort = vpiod.evtchn.allocUnbound(domain.domid);
      const rxPort = vpiod.evtchn.allocUnbound(domain.domid);
      const tx = vpiod.evtchn.end(txPort);
      const rx = vpiod.evtchn.end(rxPort);
      const id = sw.addPort({
        txRing: mem.subarray(txOff, rxOff), rxRing: mem.subarray(rxOff, poolOff), pool: mem.subarray(poolOff, poolOff + poolBytes),
        txSlots: NUM_SLOTS, rxSlots: NUM_SLOTS, bufSizeBytes: BUF_SIZE_BYTES, nrBufs: NR_BUFS,
        mac: mac(sink ? 2 : 1, idx), lossless: sink, floodPps: 1e6, floodBurst: 1024,
        txWaitFd: tx.rxFd, txNotifyFd: tx.txFd, rxWaitFd: rx.rxFd, rxNotifyFd: rx.txFd,
        worker: spec.cores.length > 1 ? idx % spec.cores.length : 0,
        memory: grant, // vpiod releases the grant when the guest dies: the switch's hold keeps it mapped until close()
      });
      if (sink) sinkPorts.push(id);
      const reply = Buffer.alloc(32);
      [grant.ref, bytes, txPort, rxPort, txOff, rxOff, poolOff, poolBytes].forEach((v, i) => reply.writeUInt32LE(v, i * 4));
      return { payload: reply };
    });
    const limits = { grantPages: 4096, eventChannels: 8, mappedPages: 4096 };
    for (let i = 0; i < spec.sinks; i++) {
      const d = await vpiod.createDomain({ name: `sink${i}`, argv: [benchBin('sink'), '0', mac(2, i)], stdout: 'pipe', limits });
      domains.push(d);
      await waitLine(d, 'sink ready', 10_000);
      dbg(`sink${i} ready`);
    }
    await sleep(100); // the sinks' hello frames are learned
    const dsts = Array.from({ length: spec.sinks }, (_, i) => mac(2, i));
    for (let i = 0; i < spec.gens; i++) {
      const d = await vpiod.createDomain({ name: `gen${i}`, argv: [benchBin('gen'), '0', String(spec.len), mac(1, i), ...dsts], stdout: 'pipe', limits });
      domains.push(d);
      await waitLine(d, 'gen ready', 10_000);
      dbg(`gen${i} ready`);
    }
    await sleep(1000); // warm-up
    dbg('warm');
    const s0 = sw.stats(); const c0 = cpuTimes(0); const t0 = process.hrtime.bigint();
    await sleep(args.seconds * 1000);
    const s1 = sw.stats(); const c1 = cpuTimes(0); const t1 = process.hrtime.bigint();
    const dt = Number(t1 - t0) / 1e9;
    const sum = (s: SwitchStats, f: (p: SwitchStats['ports'][number]) => number, ids?: number[]): number =>
      s.ports.filter((p) => !ids || ids.includes(p.id)).reduce((a, p) => a + f(p), 0);
    const pkts = sum(s1, (p) => p.outPackets, sinkPorts) - sum(s0, (p) => p.outPackets, sinkPorts);
    const drops = sum(s1, (p) => Object.values(p.drops).reduce((a, b) => a + b, 0)) - sum(s0, (p) => Object.values(p.drops).reduce((a, b) => a + b, 0));
    const w = (s: SwitchStats) => s.workers.slice(0, spec.cores.length);
    const wsum = (s: SwitchStats, f: (x: SwitchStats['workers'][number]) => number): number => w(s).reduce((a, x) => a + f(x), 0);
    const busyNs = wsum(s1, (x) => x.busyNs) - wsum(s0, (x) => x.busyNs);
    const batches = wsum(s1, (x) => x.batches) - wsum(s0, (x) => x.batches);
    const wpkts = wsum(s1, (x) => x.packets) - wsum(s0, (x) => x.packets);
    return {
      spec, mpps: pkts / dt / 1e6, gbps: (pkts * spec.len * 8) / dt / 1e9,
      cyclesPerPacket: pkts ? (busyNs / 1e9) * tscHz / pkts : NaN,
      cyclesPerPacketAll: pkts ? (dt * spec.cores.length * tscHz) / pkts : NaN,
      avgBatch: batches ? wpkts / batches : 0,
      core0Util: (c1.busy - c0.busy) / Math.max(1, c1.total - c0.total), drops,
    };
  } catch (e) {
    dbg(`case failed: ${String(e)}`);
    throw e;
  } finally {
    dbg('teardown');
    sw.close(); // workers stop first; then the guests may go
    for (const d of domains) await vpiod.destroyDomain(d.domid, { graceMs: 200 }).catch(() => undefined);
    await vpiod.close();
    rmSync(base, { recursive: true, force: true });
  }
}

// ---- baselines (scripts run unmodified, from their own folder) ----

interface BaselineFigures { memif: Map<number, number>; vethBr: Map<number, number>; ringcopyMpps: Map<number, number>; ringcopyGbps: Map<number, number> }
const RECORDED = { memif: { 64: 28.4, 1500: 9.32 }, vethBr: { 64: 0.777, 1500: 0.729 }, ringcopy: { 64: 72.4, 1500: 7.78 } } as const;

async function runBaselines(lens: readonly number[]): Promise<BaselineFigures> {
  const out: BaselineFigures = { memif: new Map(), vethBr: new Map(), ringcopyMpps: new Map(), ringcopyGbps: new Map() };
  const b = findBaselines({ repoRoot: join(root, '..', '..') });
  warnings.push(...b.warnings);
  const work = mkdtempSync(join(tmpdir(), 'vpio-baselines-'));
  try {
    const ringcopy = compileBaseline('ringcopy', work, { baselines: b });
    for (const len of lens) {
      const f = parseFigures(await runCommand('taskset', ['-c', '0', ringcopy, String(len), '2'], { cwd: work }));
      out.ringcopyMpps.set(len, Number(f.Mpps)); out.ringcopyGbps.set(len, Number(f.Gbps));
    }
    if (!hasCommand('dpdk-testpmd')) warnings.push('memif baseline unavailable: dpdk-testpmd not installed (Debian dpdk-dev)');
    else for (const len of lens) {
      const o = await runCommand('bash', [join(b.dir, 'run_memif_txrx.sh'), String(len), '1'], { cwd: work, timeoutMs: 60_000 });
      const f = parseFigures(o);
      if (Number.isFinite(Number(f.median_Mpps))) out.memif.set(len, Number(f.median_Mpps));
      else warnings.push(`memif ${len} B: no figure (${o.trim().slice(-200)})`);
    }
    if (!hasCommand('trafgen')) warnings.push('veth+bridge baseline unavailable: trafgen not installed (Debian netsniff-ng)');
    else {
      await runCommand('bash', [join(b.dir, 'veth_setup.sh')], { cwd: work, timeoutMs: 30_000 });
      try {
        for (const len of lens) {
          const cfg = await runCommand('bash', [join(b.dir, 'veth_mkcfg.sh'), 'blA', 'vA', 'blB', 'vB', '198.18.0.1', '198.18.0.2', String(len)], { cwd: work });
          writeFileSync(join(work, `br${len}.cfg`), cfg);
          const f = parseFigures(await runCommand('bash', [join(b.dir, 'run_veth.sh'), 'br', String(len), '1'], { cwd: work, timeoutMs: 30_000 }));
          out.vethBr.set(len, Number(f.rx_Mpps));
        }
      } finally {
        for (const ns of ['blA', 'blB', 'blsw', 'blC', 'blD']) await runCommand('ip', ['netns', 'del', ns]).catch(() => undefined);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  for (const len of lens) {
    const k = len as 64 | 1500;
    for (const [name, m, rec] of [['memif', out.memif, RECORDED.memif[k]], ['veth+bridge', out.vethBr, RECORDED.vethBr[k]], ['ringcopy', out.ringcopyMpps, RECORDED.ringcopy[k]]] as const) {
      const v = m.get(len);
      const warn = v === undefined ? null : driftWarning(`${name} ${len} B`, v, rec);
      if (warn) warnings.push(warn);
    }
  }
  return out;
}

function hasCommand(cmd: string): boolean {
  try { execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }); return true; } catch { return false; }
}

// ---- main ----

// The global watchdog: a separate process, so it fires even if this JS
// thread is blocked in a synchronous call. It SIGKILLs this process; the
// domains die with it (vpio-launch has a parent-death signal), and the
// exit status is non-zero (137).
const budgetS = 8 * (args.seconds + 15) + (withBaselines ? 300 : 0);
const watchdog = spawn('sh', ['-c',
  `sleep ${budgetS}; echo "switch bench: watchdog: no result after ${budgetS} s; killing the benchmark (pid ${process.pid}) and its domains" >&2; kill -KILL ${process.pid}`,
], { stdio: ['ignore', 'ignore', 'inherit'], detached: true });
watchdog.unref();
// its own process group: on exit kill the shell AND its sleep, which would
// otherwise keep stderr open and make turbo wait for the whole budget
process.on('exit', () => {
  try {
    process.kill(-watchdog.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
});

execFileSync('make', ['-s', 'bench-bins'], { cwd: root, stdio: 'inherit' });
const tscHz = Number(/tsc_hz=(\d+)/.exec(execFileSync(benchBin('tsc-hz'), { encoding: 'utf8' }))?.[1]);
const lens = [64, 1500] as const;
const specs: CaseSpec[] = [];
for (const len of lens) {
  specs.push({ name: `${len} B 1→1`, len, gens: 1, sinks: 1, cores: [1] });
  specs.push({ name: `${len} B 2→1`, len, gens: 2, sinks: 1, cores: [1] });
  specs.push({ name: `${len} B 1→2`, len, gens: 1, sinks: 2, cores: [1] });
  specs.push({ name: `${len} B 1→1, 2 workers (report only)`, len, gens: 1, sinks: 1, cores: [0, 1] });
}
const results: CaseResult[] = [];
for (const spec of specs) {
  if (caseFilters.length && !caseFilters.some((f) => spec.name.includes(f))) continue;
  log(`running ${spec.name}...`);
  results.push(await runCase(spec, tscHz));
}
const bl = withBaselines ? await runBaselines(lens) : undefined;

const records: BenchRecord[] = [];
for (const r of results) {
  const { len } = r.spec;
  const main = r.spec.gens === 1 && r.spec.sinks === 1 && r.spec.cores.length === 1;
  records.push(record(`${r.spec.name} Mpps`, r.mpps, 'Mpps', main ? 'memif txonly→rxonly' : null, main ? bl?.memif.get(len) ?? null : null));
  if (main) records.push(record(`${r.spec.name} Mpps`, r.mpps, 'Mpps', 'veth+bridge', bl?.vethBr.get(len) ?? null));
  records.push(record(`${r.spec.name} Gb/s`, r.gbps, 'Gb/s', main ? 'raw copy loop' : null, main ? bl?.ringcopyGbps.get(len) ?? null : null));
  const rcCycles = bl?.ringcopyMpps.get(len) ? tscHz / (bl.ringcopyMpps.get(len)! * 1e6) : null;
  records.push(record(`${r.spec.name} cycles/packet (busy)`, r.cyclesPerPacket, 'cycles', main ? 'raw copy loop' : null, main ? rcCycles : null, { lowerIsBetter: true }));
  records.push(record(`${r.spec.name} cycles/packet (all worker time)`, r.cyclesPerPacketAll, 'cycles'));
  records.push(record(`${r.spec.name} avg batch`, r.avgBatch, 'packets'));
  records.push(record(`${r.spec.name} core-0 utilisation`, r.core0Util * 100, '%'));
  if (r.drops) records.push(record(`${r.spec.name} drops`, r.drops / args.seconds, 'per s'));
}
if (bl) {
  for (const len of lens) {
    records.push(record(`baseline memif txonly→rxonly ${len} B`, bl.memif.get(len) ?? NaN, 'Mpps'));
    records.push(record(`baseline veth+bridge ${len} B`, bl.vethBr.get(len) ?? NaN, 'Mpps'));
    records.push(record(`baseline raw copy loop ${len} B`, bl.ringcopyMpps.get(len) ?? NaN, 'Mpps'));
    records.push(record(`baseline raw copy loop ${len} B`, bl.ringcopyGbps.get(len) ?? NaN, 'Gb/s'));
  }
}
if (args.json) for (const r of records) console.log(JSON.stringify(r));
else {
  const cpu = cpuInfo();
  console.log(`@vpio/switch bench: ${cpu.model}, ${cpu.allowedCores}/${cpu.cores} cores, TSC ${(tscHz / 1e9).toFixed(2)} GHz, ${args.seconds} s per case`);
  console.log('switch worker busy-polls on core 1 (2 workers: cores 0 and 1); generators and sinks on core 0, event mode');
  console.log(formatTable(records as unknown as Record<string, unknown>[], ['case', 'value', 'unit', 'baseline', 'baseline_value', 'ratio']));
}
for (const w of warnings) console.error(`warning: ${w}`);
