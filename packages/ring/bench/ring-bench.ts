// The ring's cross-core handoff rate: vring-pair (release build, two
// processes, one memfd, the real burst helpers) against the raw SPSC ring
// baseline (../shared/baselines/spsc.c, copy mode, same length and batch),
// interleaved in the same run and reported as ratios.
//
//   npm run bench -w @vpio/ring [-- --json] [--seconds S] [--runs N]
//
// Producer on CPU 0, consumer on CPU 1 (spsc pins its threads the same
// way). Each case runs --runs times (default 3); the median counts.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import {
  compileBaseline,
  cpuInfo,
  driftWarning,
  findBaselines,
  formatTable,
  parseArgs,
  parseFigures,
  record,
  runCommand,
  type BenchRecord,
} from '@vpio/devkit/bench';
import { type PairResult, type PairWait, pairBinaryPath, runPair } from '../src/pair.js';

interface Case {
  name: string;
  lenBytes: number;
  burst: number;
  wait: PairWait;
  /** spsc's recorded figure (shared/baselines/README.md), Mpps, for the drift warning */
  recordedMpps: number | null;
}

const CASES: Case[] = [
  { name: 'copy 64B burst 32 poll', lenBytes: 64, burst: 32, wait: 'poll', recordedMpps: 76.2 },
  { name: 'copy 64B burst 256 poll', lenBytes: 64, burst: 256, wait: 'poll', recordedMpps: 104.7 },
  { name: 'copy 1500B burst 256 poll', lenBytes: 1500, burst: 256, wait: 'poll', recordedMpps: 10.5 },
  { name: 'copy 64B burst 32 event (info)', lenBytes: 64, burst: 32, wait: 'event', recordedMpps: 76.2 },
];

function baselineName(c: Case): string {
  return `spsc copy ${c.lenBytes} ${c.burst}`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function medianBy<T>(xs: T[], key: (x: T) => number): T {
  const sorted = [...xs].sort((a, b) => key(a) - key(b));
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

function commit(): string {
  try {
    const root = dirname(dirname(pairBinaryPath()));
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'no commit';
  }
}

async function main(): Promise<void> {
  const { json, seconds, rest } = parseArgs(process.argv.slice(2), { seconds: 1 });
  let runs = 5;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '--runs' || arg.startsWith('--runs=')) {
      const text = arg === '--runs' ? rest[++i] : arg.slice('--runs='.length);
      runs = Number(text);
      if (!Number.isInteger(runs) || runs < 1 || runs > 99) throw new Error(`--runs expects an integer in [1, 99], got ${JSON.stringify(text ?? null)}`);
    } else {
      throw new Error(`unknown option ${arg} (known: --json, --seconds S, --runs N)`);
    }
  }
  const say = json ? (s: string) => process.stderr.write(`${s}\n`) : (s: string) => process.stdout.write(`${s}\n`);

  const cpu = cpuInfo();
  const cpuProducer = 0;
  const cpuConsumer = cpu.allowedCores >= 2 ? 1 : 0;
  const pkgRoot = dirname(dirname(dirname(pairBinaryPath())));
  const baselines = findBaselines();
  for (const w of baselines.warnings) say(`warning: ${w}`);
  const spsc = compileBaseline('spsc', join(pkgRoot, 'build', 'baselines'), { baselines });

  say(`machine: ${cpu.model}, ${cpu.cores} CPUs (${cpu.allowedCores} usable); commit ${commit()}`);
  say(
    `cores: vring-pair producer on CPU ${cpuProducer}, consumer on CPU ${cpuConsumer} (two processes); ` +
      `spsc producer thread on CPU 0, consumer thread on CPU 1`,
  );
  say(`method: ${runs} run(s) of ${seconds} s per case, ours and the baseline interleaved, median; baseline ${spsc} from ${baselines.dir}`);
  if (cpuConsumer === cpuProducer) say('warning: fewer than 2 usable CPUs: producer and consumer share one, figures are meaningless');

  const ours = new Map<string, PairResult[]>();
  const theirs = new Map<string, number[]>();
  for (let run = 1; run <= runs; run++) {
    for (const c of CASES) {
      const r = await runPair({
        variant: 'release',
        seconds,
        lenBytes: c.lenBytes,
        burst: c.burst,
        wait: c.wait,
        verify: false,
        cpuProducer,
        cpuConsumer,
      });
      if (!r.ok) throw new Error(`${c.name}: vring-pair result not ok: ${JSON.stringify(r)}`);
      ours.set(c.name, [...(ours.get(c.name) ?? []), r]);
      const out = await runCommand(spsc, ['copy', String(c.lenBytes), String(c.burst), String(seconds)], {
        timeoutMs: seconds * 1000 + 30_000,
      });
      const mpps = parseFigures(out).Mpps;
      if (typeof mpps !== 'number') throw new Error(`spsc printed no Mpps figure:\n${out}`);
      const baseName = baselineName(c);
      theirs.set(baseName, [...(theirs.get(baseName) ?? []), mpps]);
      if (!json) say(`  run ${run}/${runs} ${c.name}: vpio ${r.mpps.toFixed(2)} Mpps, ${baseName} ${mpps.toFixed(2)} Mpps`);
    }
  }

  const records: BenchRecord[] = [];
  const rows: Record<string, unknown>[] = [];
  const warnings: string[] = [];
  const warned = new Set<string>();
  for (const c of CASES) {
    const rs = ours.get(c.name)!;
    const r = medianBy(rs, (x) => x.mpps);
    // cases with the same baseline share its samples (the event row reuses the 64 B / 32 one)
    const baseName = baselineName(c);
    const base = median(theirs.get(baseName)!);
    const rec = record(c.name, r.mpps, 'Mpps', baseName, base);
    records.push(rec);
    records.push(record(`${c.name} Gb/s`, r.gbps, 'Gb/s', baseName, (base * c.lenBytes * 8) / 1000));
    if (r.tscCyclesPerPacket !== null) records.push(record(`${c.name} cycles/pkt`, r.tscCyclesPerPacket, 'TSC cycles/pkt'));
    rows.push({
      case: c.name,
      mpps: r.mpps.toFixed(2),
      gbps: r.gbps.toFixed(2),
      batch: r.avgBatch.toFixed(1),
      ns: r.nsPerPacket.toFixed(1),
      cycles: r.tscCyclesPerPacket === null ? '-' : r.tscCyclesPerPacket.toFixed(0),
      baseline: baseName,
      baseMpps: base.toFixed(2),
      ratio: rec.ratio === null ? '-' : rec.ratio.toFixed(2),
    });
    if (c.recordedMpps !== null && !warned.has(baseName)) {
      warned.add(baseName);
      const w = driftWarning(baseName, Number(base.toFixed(2)), c.recordedMpps);
      if (w) warnings.push(w);
    }
  }

  if (json) {
    for (const w of warnings) say(`warning: ${w}`);
    process.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
    return;
  }
  say('');
  say(
    formatTable(rows, [
      { key: 'case', title: 'case', align: 'left' },
      { key: 'mpps', title: 'vpio Mpps', align: 'right' },
      { key: 'gbps', title: 'Gb/s', align: 'right' },
      { key: 'batch', title: 'avg batch', align: 'right' },
      { key: 'ns', title: 'ns/pkt', align: 'right' },
      { key: 'cycles', title: 'TSC cyc/pkt', align: 'right' },
      { key: 'baseline', title: 'baseline', align: 'left' },
      { key: 'baseMpps', title: 'baseline Mpps', align: 'right' },
      { key: 'ratio', title: 'ratio', align: 'right' },
    ]),
  );
  say('ratio = vpio Mpps / baseline Mpps (goal >= 0.9). Gb/s counts packet bytes. The event row is for information.');
  for (const w of warnings) say(`warning: ${w}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`ring-bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
