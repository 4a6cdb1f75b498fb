// Domain lifecycle latencies: create → running (createDomain until the
// guest, linked with the guest library, has its HELLO and answered a PING:
// its "ready" line) and death → released (SIGKILL of the launcher until
// domain.released resolves: broker state, cgroup, xenstore RELEASE done).
//
//   npm run bench -w @vpio/domain [-- --json] [--runs N]
//
// Needs root (the sandbox); runs `make test-bins` for the guest.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuInfo, formatTable, parseArgs, record, type BenchRecord } from '@vpio/devkit/bench';
import { Vpiod } from '../src/index.js';
import { packageRoot } from '../src/native.js';

const args = parseArgs(process.argv.slice(2));
const runsAt = args.rest.indexOf('--runs');
const runs = runsAt >= 0 ? Number(args.rest[runsAt + 1]) : 20;
const guest = join(packageRoot(), 'build', 'test', 'guest-broker');
const base = mkdtempSync(join(tmpdir(), 'vpio-bench-'));
const vpiod = new Vpiod({ dir: join(base, 'run'), maxDomains: 4 });
await vpiod.start();
const create: number[] = [];
const death: number[] = [];
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
} finally {
  await vpiod.close();
  rmSync(base, { recursive: true, force: true });
}
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const records: BenchRecord[] = [
  record('create → running p50', pct(create, 0.5), 'ms'),
  record('create → running p99', pct(create, 0.99), 'ms'),
  record('SIGKILL → released p50', pct(death, 0.5), 'ms'),
  record('SIGKILL → released p99', pct(death, 0.99), 'ms'),
];
if (args.json) for (const r of records) console.log(JSON.stringify(r));
else {
  const cpu = cpuInfo();
  console.log(`@vpio/domain bench: ${cpu.model}, ${cpu.allowedCores}/${cpu.cores} cores, ${runs} domains`);
  console.log(formatTable(records as unknown as Record<string, unknown>[], ['case', 'value', 'unit', 'baseline', 'baseline_value', 'ratio']));
}
