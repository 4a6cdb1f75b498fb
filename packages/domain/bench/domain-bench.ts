// Domain lifecycle latencies: create → running (createDomain until the
// guest, linked with the guest library, has its HELLO and answered a PING:
// its "ready" line) and death → released (SIGKILL of the launcher until
// domain.released resolves: broker state, cgroup, xenstore RELEASE done).
// And event channels between two SANDBOXED tenants: notify→wake round trip
// over a channel the broker made (bench/c/evtchn-guest.c, one blocking recv
// per wake), against the bare pipe round trip between two plain forked
// processes (@vpio/evtchn's evtchn-pingpong pipe) measured in the same run,
// interleaved, with the same channel between two plain forked processes
// (no sandbox) for attribution. Goal: p50 ≤ 1.2× the pipe's.
//
//   npm run bench -w @vpio/domain [-- --json] [--runs N] [--rounds N]
//
// Needs root (the sandbox); builds the guests (make test-bins bench-bins)
// and @vpio/evtchn's bench binary.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuInfo, formatTable, parseArgs, record, type BenchRecord } from '@vpio/devkit/bench';
import { Vpiod, type Domain } from '../src/index.js';
import { packageRoot } from '../src/native.js';

const args = parseArgs(process.argv.slice(2));
const runsAt = args.rest.indexOf('--runs');
const runs = runsAt >= 0 ? Number(args.rest[runsAt + 1]) : 20;
const roundsAt = args.rest.indexOf('--rounds');
const rounds = roundsAt >= 0 ? Number(args.rest[roundsAt + 1]) : 20000;
const guest = join(packageRoot(), 'build', 'test', 'guest-broker');
const evtchnGuest = join(packageRoot(), 'build', 'bench', 'evtchn-guest');
const evtchnRoot = join(packageRoot(), '..', 'evtchn');
execFileSync('make', ['-s', '-C', evtchnRoot, 'bench-bins'], { stdio: 'inherit' });
const pingpong = join(evtchnRoot, 'build', 'bench', 'evtchn-pingpong');

type Figures = Record<string, number>;
const parseFigures = (out: string): Figures =>
  Object.fromEntries(out.trim().split('\n').filter((l) => l.includes('=')).map((l) => { const [k, v] = l.split('='); return [k!, Number(v)]; }));

/** Collects a domain's stdout until `done(text)` is true (or the domain dies). */
function output(d: Domain, done: (text: string) => boolean): Promise<string> {
  d.stdout!.setEncoding('utf8');
  let seen = '';
  return new Promise((resolve) => {
    d.stdout!.on('data', (c: string) => { seen += c; if (done(seen)) resolve(seen); });
    void d.released.then(() => resolve(seen));
  });
}

/**
 * Two sandboxed tenants ping-pong `rounds` times over a broker-made channel.
 * The offerer offers its first port (1) to the next domid; the binder,
 * created right after it, gets that domid (vpiod allocates them in order)
 * and binds port 1. Both retry until the other exists.
 */
async function sandboxedRoundTrip(i: number): Promise<Figures> {
  const a = await vpiod.createDomain({ name: `offer${i}`, argv: [evtchnGuest, 'offer', 'next'], stdout: 'pipe' });
  const aOut = output(a, (t) => t.includes('port='));
  const b = await vpiod.createDomain({ name: `bind${i}`, argv: [evtchnGuest, 'bind', String(a.domid), '1', String(rounds)], stdout: 'pipe' });
  if (b.domid !== a.domid + 1) throw new Error(`domids not consecutive (${a.domid}, ${b.domid}): the offer went elsewhere`);
  const figures = parseFigures(await output(b, (t) => t.includes('mean_ns=')));
  if (!(await aOut).includes('port=1\n')) throw new Error(`the offerer did not offer port 1: ${await aOut}`);
  await Promise.all([vpiod.destroyDomain(a.domid, { graceMs: 0 }), vpiod.destroyDomain(b.domid, { graceMs: 0 })]);
  if (!(figures.p50_ns! > 0)) throw new Error(`the binder reported nothing (stderr: ${b.stderr})`);
  return figures;
}

const base = mkdtempSync(join(tmpdir(), 'vpio-bench-'));
const vpiod = new Vpiod({ dir: join(base, 'run'), maxDomains: 4 });
await vpiod.start();
const create: number[] = [];
const death: number[] = [];
const pipes: Figures[] = [];
const sandboxed: Figures[] = [];
const forked: Figures[] = [];
try {
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const d = await vpiod.createDomain({ name: `bench${i}`, argv: [guest, 'bystander'], stdout: 'pipe' });
    d.stdout!.setEncoding('utf8');
    let seen = '';
    await new Promise<void>((resolve) => d.stdout!.on('data', (c: string) => { seen += c; if (seen.includes('ready=1')) resolve(); }));
    const t1 = process.hrtime.bigint();
    process.kill(d.pid, 'SIGKILL');
    await d.released;
    const t2 = process.hrtime.bigint();
    create.push(Number(t1 - t0) / 1e6);
    death.push(Number(t2 - t1) / 1e6);
  }
  for (let i = 0; i < runs; i++) {
    pipes.push(parseFigures(execFileSync(pingpong, ['pipe', String(rounds)], { encoding: 'utf8' })));
    forked.push(parseFigures(execFileSync(pingpong, ['waiter', String(rounds)], { encoding: 'utf8' })));
    sandboxed.push(await sandboxedRoundTrip(i));
  }
} finally {
  await vpiod.close();
  rmSync(base, { recursive: true, force: true });
}
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const med = (xs: Figures[], k: string): number => {
  const v = xs.map((x) => x[k]!).sort((a, b) => a - b);
  return v.length % 2 ? v[v.length >> 1]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
};
const lower = { lowerIsBetter: true };
const records: BenchRecord[] = [
  record('notify→wake round trip p50, two sandboxed tenants', med(sandboxed, 'p50_ns'), 'ns', 'bare pipe round trip p50 (forked)', med(pipes, 'p50_ns'), lower),
  record('notify→wake round trip p99, two sandboxed tenants', med(sandboxed, 'p99_ns'), 'ns', 'bare pipe round trip p99 (forked)', med(pipes, 'p99_ns'), lower),
  // attribution: the same channel between two plain forked processes (no sandbox, no broker)
  record('notify→wake round trip p50, two forked processes', med(forked, 'p50_ns'), 'ns', 'bare pipe round trip p50 (forked)', med(pipes, 'p50_ns'), lower),
  record('create → running p50', pct(create, 0.5), 'ms'),
  record('create → running p99', pct(create, 0.99), 'ms'),
  record('SIGKILL → released p50', pct(death, 0.5), 'ms'),
  record('SIGKILL → released p99', pct(death, 0.99), 'ms'),
];
if (args.json) for (const r of records) console.log(JSON.stringify(r));
else {
  const cpu = cpuInfo();
  console.log(`@vpio/domain bench: ${cpu.model}, ${cpu.allowedCores}/${cpu.cores} cores, ${runs} domains, ${runs} interleaved channel runs of ${rounds} round trips (medians)`);
  console.log(formatTable(records as unknown as Record<string, unknown>[], ['case', 'value', 'unit', 'baseline', 'baseline_value', 'ratio']));
}
