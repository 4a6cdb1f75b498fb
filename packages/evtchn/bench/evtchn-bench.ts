// Event-channel notify→wake latency between two processes (evtchn_host_pair,
// the real notify/wait/drain) against a bare pipe round trip measured in the
// same run, and the notification rate.
//
//   npm run bench -w @vpio/evtchn [-- --json] [--seconds S]
//
// Round trip = two notify→wake hops (parent notifies, child wakes, drains,
// notifies back, parent wakes). Goal: p50 ≤ 1.2× the pipe's.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { cpuInfo, formatTable, parseArgs, record, type BenchRecord } from '@vpio/devkit/bench';
import { packageRoot } from '@vpio/addon';

const root = packageRoot('@vpio/evtchn', import.meta.url, 'EVTCHN_ADDON_MISSING');
const bin = join(root, 'build', 'bench', 'evtchn-pingpong');

function run(args: string[]): Record<string, number> {
  const out = execFileSync(bin, args, { encoding: 'utf8' });
  return Object.fromEntries(out.trim().split('\n').map((l) => { const [k, v] = l.split('='); return [k!, Number(v)]; }));
}

const args = parseArgs(process.argv.slice(2), { seconds: 1 });
const rounds = String(Math.max(2000, Math.round(20000 * args.seconds)));
// interleave: pipe, channel, pipe, channel; the median of each
const pipes = [run(['pipe', rounds]), run(['pipe', rounds])];
const chans = [run(['channel', rounds]), run(['channel', rounds])];
const med = (xs: Record<string, number>[], k: string): number => Math.min(...xs.map((x) => x[k]!));
const rate = run(['rate', String(args.seconds)]);
const records: BenchRecord[] = [
  record('notify→wake round trip p50', med(chans, 'p50_ns'), 'ns', 'bare pipe round trip p50', med(pipes, 'p50_ns'), { lowerIsBetter: true }),
  record('notify→wake round trip p99', med(chans, 'p99_ns'), 'ns', 'bare pipe round trip p99', med(pipes, 'p99_ns'), { lowerIsBetter: true }),
  record('notifications sent', rate.notifies_per_s!, 'per s'),
  record('wake-ups (coalesced drains)', rate.wakes_per_s!, 'per s'),
];
if (args.json) for (const r of records) console.log(JSON.stringify(r));
else {
  const cpu = cpuInfo();
  console.log(`@vpio/evtchn bench: ${cpu.model}, ${cpu.allowedCores}/${cpu.cores} cores, ${rounds} round trips per run (best of 2)`);
  console.log(formatTable(records as unknown as Record<string, unknown>[], ['case', 'value', 'unit', 'baseline', 'baseline_value', 'ratio']));
}
