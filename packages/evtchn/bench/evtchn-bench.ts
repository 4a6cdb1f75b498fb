// Event-channel notify→wake latency between two processes (evtchn_host_pair,
// the real notify/wait/drain) against a bare pipe round trip measured in the
// same run, and the notification rate.
//
//   npm run bench -w @vpio/evtchn [-- --json] [--seconds S] [--runs N]
//
// Round trip = two notify→wake hops (parent notifies, child wakes, drains,
// notifies back, parent wakes). Two wait paths: the single-waiter one
// (evtchn_waiter_wait: one blocking recv per wake) and the shareable one
// (evtchn_wait + evtchn_drain: poll + recv). Goal: p50 ≤ 1.2× the pipe's.
// The runs are interleaved (pipe, waiter, poll, pipe, ...) so a busy moment
// hits all three; each figure is the median over the runs.
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
const runsAt = args.rest.indexOf('--runs');
const runs = runsAt >= 0 ? Math.max(1, Number(args.rest[runsAt + 1])) : 5;
const rounds = String(Math.max(2000, Math.round(20000 * args.seconds)));
const pipes: Record<string, number>[] = [];
const waiters: Record<string, number>[] = [];
const polls: Record<string, number>[] = [];
for (let i = 0; i < runs; i++) {
  pipes.push(run(['pipe', rounds]));
  waiters.push(run(['waiter', rounds]));
  polls.push(run(['channel', rounds]));
}
const med = (xs: Record<string, number>[], k: string): number => {
  const v = xs.map((x) => x[k]!).sort((a, b) => a - b);
  return v.length % 2 ? v[v.length >> 1]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
};
const rate = run(['rate', String(args.seconds)]);
const lower = { lowerIsBetter: true };
const records: BenchRecord[] = [
  record('notify→wake round trip p50 (waiter: blocking recv)', med(waiters, 'p50_ns'), 'ns', 'bare pipe round trip p50', med(pipes, 'p50_ns'), lower),
  record('notify→wake round trip p99 (waiter: blocking recv)', med(waiters, 'p99_ns'), 'ns', 'bare pipe round trip p99', med(pipes, 'p99_ns'), lower),
  record('notify→wake round trip p50 (poll + recv)', med(polls, 'p50_ns'), 'ns', 'bare pipe round trip p50', med(pipes, 'p50_ns'), lower),
  record('notify→wake round trip p99 (poll + recv)', med(polls, 'p99_ns'), 'ns', 'bare pipe round trip p99', med(pipes, 'p99_ns'), lower),
  record('notifications sent', rate.notifies_per_s!, 'per s'),
  record('wake-ups (coalesced drains)', rate.wakes_per_s!, 'per s'),
];
if (args.json) for (const r of records) console.log(JSON.stringify(r));
else {
  const cpu = cpuInfo();
  console.log(`@vpio/evtchn bench: ${cpu.model}, ${cpu.allowedCores}/${cpu.cores} cores, ${rounds} round trips per run, median of ${runs} interleaved runs`);
  console.log(formatTable(records as unknown as Record<string, unknown>[], ['case', 'value', 'unit', 'baseline', 'baseline_value', 'ratio']));
}
