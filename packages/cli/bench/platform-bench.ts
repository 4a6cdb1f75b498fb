// The platform benchmark (issue 7): the whole dom0 platform in one process
// (Platform: vpiod + switch + netback, as `vpio up` runs it) with guests
// started by Platform.run() (`vpio run`), each vif made by netback and
// connected by the guest through the real xenstore handshake (netfront's
// broker session: grants and event channels from vpiod's brokers).
//
// (a) Throughput: a generator → switch → sink through netback-made vifs,
//     64 and 1500 bytes. The guest (bench/c/nf-bench.c) does the per-packet
//     work of @vpio/switch's bench guests through netfront's zero-copy API
//     (prefilled TX buffers, commit only; the sink hands slots back unread);
//     the same ring geometry (1024 slots, 2048-byte buffers), the sink's port
//     lossless, the switch worker busy-polling on core 1, both guests pinned
//     to core 0 in event mode. Baseline, same run, just before each length:
//     the bare switch bench (packages/switch, its "LEN B 1→1" case: C guests
//     on hand-made ports, no netback, no handshake), run unmodified with
//     --json --no-baselines; ratio = ours / bare (goal ≥ 0.9).
// (b) Attach latency: --runs N (default 100) Platform.run() of a guest that
//     connects vif 0 and idles (nf-bench idle), on a platform with `vpio up`'s
//     defaults (switch core 1, event mode). Per run: the platform's own
//     figure (VifRow.attachMs: run() accepted → both ends Connected, taken on
//     netback's state events) and the caller's (run() called → `ls()` shows
//     both ends Connected, polled every 1 ms); then the domain is destroyed.
//     p50 and p99 (goal: platform p50 ≤ 10 ms).
//
//     Each length runs --repeat N times (default 3), bare and ours
//     alternating; the medians are reported (this VM's figures vary a lot).
//
//   npm run bench -w @vpio/cli [-- --json] [--seconds N] [--runs=N] [--repeat=N] [--no-baseline] [--only=throughput|attach]
//
// Needs root (the sandbox). Runs `make -C bench/c` (the guest) and the
// switch's `make bench-bins` (the baseline's guests) first.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuInfo, formatTable, parseArgs, record, runCommand, type BenchRecord } from '@vpio/devkit/bench';
import { Platform } from '../src/platform.js';
import type { StatsResult } from '../src/protocol.js';

const args = parseArgs(process.argv.slice(2), { seconds: 3 });
const flag = (name: string): string | undefined => args.rest.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const runs = Number(flag('runs') ?? 100);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs expects a positive integer, got ${flag('runs')}`);
const repeat = Number(flag('repeat') ?? 3);
if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat expects a positive integer, got ${flag('repeat')}`);
const only = flag('only');
const withBaseline = !args.rest.includes('--no-baseline');
const pkgRoot = fileURLToPath(new URL('../..', import.meta.url));
const repoRoot = join(pkgRoot, '..', '..');
const switchRoot = join(repoRoot, 'packages', 'switch');
const NF_BENCH = join(pkgRoot, 'build', 'bench', 'nf-bench');
const SLOTS = 1024;
const BUF_BYTES = 2048;
const MAC = { gen: '02:00:00:00:01:01', sink: '02:00:00:00:02:01' } as const;
const warnings: string[] = [];
const log = (s: string): void => { if (!args.json) console.error(s); };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function cpuTimes(cpu: number): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith(`cpu${cpu} `));
  const f = (line ?? '').trim().split(/\s+/).slice(1).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: f.slice(0, 8).reduce((a, b) => a + b, 0) - idle, total: f.slice(0, 8).reduce((a, b) => a + b, 0) };
}

async function withPlatform<T>(opts: { cores: number[]; mode: 'event' | 'poll' }, f: (p: Platform) => Promise<T>): Promise<T> {
  const base = mkdtempSync(join(tmpdir(), 'vpio-platbench-'));
  const platform = new Platform({ dir: join(base, 'run'), cores: opts.cores, mode: opts.mode, statsIntervalMs: 3_600_000 });
  await platform.start();
  try {
    return await f(platform);
  } finally {
    await platform.close();
    rmSync(base, { recursive: true, force: true });
  }
}

async function waitConsole(p: Platform, name: string, word: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const c = p.console(name);
    if (c.text.includes(word)) return;
    if (!c.alive || performance.now() > deadline) {
      throw new Error(`${name}: no "${word}" within ${timeoutMs} ms (alive ${c.alive}, exit ${JSON.stringify(c.exit)}): ${c.text.slice(-500)}`);
    }
    await sleep(10);
  }
}

interface Throughput { readonly mpps: number; readonly gbps: number; readonly core0Util: number; readonly drops: number }

/** (a) generator → switch → sink through netback-made vifs. */
async function platformThroughput(len: number): Promise<Throughput> {
  return withPlatform({ cores: [1], mode: 'poll' }, async (p) => {
    const vif = (mac: string, lossless: boolean) => ({ mac, txSlots: SLOTS, rxSlots: SLOTS, bufSizeBytes: BUF_BYTES, ...(lossless ? { policy: { lossless: true } } : {}) });
    await p.run({ name: 'sink', argv: [NF_BENCH, 'sink', '0'], vifs: [vif(MAC.sink, true)] });
    await waitConsole(p, 'sink', 'sink ready', 10_000);
    await sleep(100); // the sink's hello frame is learned
    await p.run({ name: 'gen', argv: [NF_BENCH, 'gen', '0', String(len), MAC.sink], vifs: [vif(MAC.gen, false)] });
    await waitConsole(p, 'gen', 'gen ready', 10_000);
    await sleep(1000); // warm-up
    const sinkPort = (s: StatsResult) => s.ports.find((x) => x.name === 'sink');
    const drops = (s: StatsResult) => s.ports.reduce((a, x) => a + x.dropsTotal, 0);
    const s0 = p.stats(); const c0 = cpuTimes(0); const t0 = process.hrtime.bigint();
    await sleep(args.seconds * 1000);
    const s1 = p.stats(); const c1 = cpuTimes(0); const t1 = process.hrtime.bigint();
    const dt = Number(t1 - t0) / 1e9;
    const pkts = (sinkPort(s1)?.outPackets ?? 0) - (sinkPort(s0)?.outPackets ?? 0);
    if (pkts <= 0) throw new Error(`no packet reached the sink (gen console: ${p.console('gen').text.slice(-300)})`);
    return {
      mpps: pkts / dt / 1e6, gbps: (pkts * len * 8) / dt / 1e9,
      core0Util: (c1.busy - c0.busy) / Math.max(1, c1.total - c0.total), drops: (drops(s1) - drops(s0)) / dt,
    };
  });
}

/** The bare switch bench's "LEN B 1→1" case, unmodified, in a child process. */
async function bareSwitch(len: number): Promise<{ mpps: number; gbps: number } | undefined> {
  const out = await runCommand(process.execPath, [join(switchRoot, 'dist', 'bench', 'switch-bench.js'), '--json', '--no-baselines',
    '--seconds', String(args.seconds), `--case=${len} B 1→1`], { cwd: switchRoot, timeoutMs: 8 * (args.seconds + 15) * 1000 });
  const recs = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as BenchRecord);
  const mpps = recs.find((r) => r.case === `${len} B 1→1 Mpps`)?.value;
  const gbps = recs.find((r) => r.case === `${len} B 1→1 Gb/s`)?.value;
  if (mpps === undefined || gbps === undefined) {
    warnings.push(`bare switch bench ${len} B: no figure in its output`);
    return undefined;
  }
  return { mpps, gbps };
}

interface Attach {
  readonly platformMs: number[]; readonly callerMs: number[]; readonly runReturnMs: number[];
  /** The guest's own clock (nf-bench idle's line): run() called → its main(), its main() → nf_connect returned. */
  readonly toMainMs: number[]; readonly handshakeMs: number[];
}

/** (b) attach latency over `runs` runs. */
async function attachLatency(): Promise<Attach> {
  return withPlatform({ cores: [1], mode: 'event' }, async (p) => {
    const out: Attach = { platformMs: [], callerMs: [], runReturnMs: [], toMainMs: [], handshakeMs: [] };
    for (let i = 0; i < runs; i++) {
      const name = `idle${i}`;
      const t0 = performance.now();
      const row = await p.run({ name, argv: [NF_BENCH, 'idle'], vifs: [{}] });
      out.runReturnMs.push(performance.now() - t0);
      const deadline = t0 + 10_000;
      for (;;) {
        const v = p.ls().domains.find((d) => d.domid === row.domid)?.vifs[0];
        if (v && v.attachMs !== undefined && v.backendState === 4 && v.frontendState === 4) {
          out.callerMs.push(performance.now() - t0);
          out.platformMs.push(v.attachMs);
          break;
        }
        if (performance.now() > deadline) throw new Error(`run ${i}: vif 0 not Connected within 10 s: ${JSON.stringify(v)}; console: ${p.console(name).text}`);
        await sleep(1);
      }
      await waitConsole(p, name, 'idle ready', 10_000);
      const m = /main=([\d.]+) open=([\d.]+) connected=([\d.]+)/.exec(p.console(name).text);
      if (m) {
        out.toMainMs.push(Number(m[1]) - (performance.timeOrigin + t0));
        out.handshakeMs.push(Number(m[3]) - Number(m[1]));
      }
      await p.destroy(name);
    }
    return out;
  });
}

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

// ---- main ----

const budgetS = repeat * 2 * 3 * (args.seconds + 15) + runs * 5 + 120;
const watchdog = spawn('sh', ['-c',
  `sleep ${budgetS}; echo "platform bench: watchdog: no result after ${budgetS} s; killing the benchmark (pid ${process.pid}) and its domains" >&2; kill -KILL ${process.pid}`,
], { stdio: ['ignore', 'ignore', 'inherit'], detached: true });
watchdog.unref();
process.on('exit', () => {
  try {
    process.kill(-watchdog.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
});

execFileSync('make', ['-s', '-C', join(pkgRoot, 'bench', 'c')], { stdio: ['ignore', 'ignore', 'inherit'] });
if (withBaseline) execFileSync('make', ['-s', 'bench-bins'], { cwd: switchRoot, stdio: 'inherit' });

const records: BenchRecord[] = [];
if (only === undefined || only === 'throughput') {
  for (const len of [64, 1500]) {
    const bares: Array<{ mpps: number; gbps: number }> = [];
    const ourRuns: Throughput[] = [];
    for (let i = 0; i < repeat; i++) {
      log(`${len} B, round ${i + 1}/${repeat}: bare switch bench "${len} B 1→1" (baseline), then the platform...`);
      const b = withBaseline
        ? await bareSwitch(len).catch((e: Error) => { warnings.push(`bare switch bench ${len} B failed: ${e.message.split('\n')[0]}`); return undefined; })
        : undefined;
      if (b) bares.push(b);
      ourRuns.push(await platformThroughput(len));
      log(`  bare ${b ? b.mpps.toFixed(2) : '-'} Mpps, platform ${ourRuns.at(-1)!.mpps.toFixed(2)} Mpps`);
    }
    const bare = bares.length ? { mpps: quantile(bares.map((x) => x.mpps), 0.5), gbps: quantile(bares.map((x) => x.gbps), 0.5) } : undefined;
    const med = (f: (t: Throughput) => number): number => quantile(ourRuns.map(f), 0.5);
    const ours: Throughput = { mpps: med((t) => t.mpps), gbps: med((t) => t.gbps), core0Util: med((t) => t.core0Util), drops: med((t) => t.drops) };
    records.push(record(`${len} B gen→sink via netback vifs Mpps`, ours.mpps, 'Mpps', bare ? 'bare switch bench' : null, bare?.mpps ?? null));
    records.push(record(`${len} B gen→sink via netback vifs Gb/s`, ours.gbps, 'Gb/s', bare ? 'bare switch bench' : null, bare?.gbps ?? null));
    records.push(record(`${len} B core-0 (guests) utilisation`, ours.core0Util * 100, '%'));
    if (ours.drops) records.push(record(`${len} B drops`, ours.drops, 'per s'));
  }
}
if (only === undefined || only === 'attach') {
  log(`attach latency: ${runs} runs...`);
  const a = await attachLatency();
  const lower = { lowerIsBetter: true };
  const parts = [
    ['platform (run accepted → both Connected)', a.platformMs], ['caller (run() → ls() shows Connected)', a.callerMs],
    ['run() returned', a.runReturnMs], ['guest main() entered (guest clock)', a.toMainMs], ['guest main() → nf_connect() returned', a.handshakeMs],
  ] as const;
  for (const [what, xs] of parts) {
    if (xs.length === 0) continue;
    records.push(record(`attach p50, ${what}`, quantile(xs, 0.5), 'ms', null, null, lower));
    records.push(record(`attach p99, ${what}`, quantile(xs, 0.99), 'ms', null, null, lower));
  }
  records.push(record('attach runs', a.platformMs.length, 'runs'));
}

if (args.json) for (const r of records) console.log(JSON.stringify(r));
else {
  const cpu = cpuInfo();
  console.log(`@vpio/cli platform bench: ${cpu.model}, ${cpu.allowedCores}/${cpu.cores} cores, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}; ` +
    `throughput: ${args.seconds} s per case, medians of ${repeat} alternating rounds; attach: ${runs} runs`);
  console.log('throughput: switch worker busy-polls on core 1, guests on core 0 (event mode); attach: `vpio up` defaults (core 1, event mode)');
  console.log(formatTable(records as unknown as Record<string, unknown>[], ['case', 'value', 'unit', 'baseline', 'baseline_value', 'ratio']));
}
for (const w of warnings) console.error(`warning: ${w}`);
process.exit(0);
