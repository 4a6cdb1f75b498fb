// Time to map 1024 granted pages and touch each (goal < 5 ms): one
// 1024-page grant (vgnt_host_map: seal/size checks + mmap), and four
// 256-page grants mapped contiguously the way the guest library does
// (PROT_NONE reserve, verify, MAP_FIXED each), against an anonymous mapping
// of the same size touched the same way, in the same run (best of --runs).
//
//   npm run bench -w @vpio/grant [-- --json] [--runs N]
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { cpuInfo, formatTable, parseArgs, record, type BenchRecord } from '@vpio/devkit/bench';
import { packageRoot } from '@vpio/addon';

const root = packageRoot('@vpio/grant', import.meta.url, 'GRANT_ADDON_MISSING');
const args = parseArgs(process.argv.slice(2));
const runsAt = args.rest.indexOf('--runs');
const runs = runsAt >= 0 ? Number(args.rest[runsAt + 1]) : 20;
const out = execFileSync(join(root, 'build', 'bench', 'grant-map-touch'), [String(runs)], { encoding: 'utf8' });
const f = Object.fromEntries(out.trim().split('\n').map((l) => { const [k, v] = l.split('='); return [k!, Number(v)]; }));
const ms = (us: number | undefined): number => (us ?? 0) / 1000;
const records: BenchRecord[] = [
  record('map 1024 pages (1 grant) + touch', ms(f.map1_us), 'ms', 'anonymous mmap 1024 pages + touch', ms(f.anon_us), { lowerIsBetter: true }),
  record('map 1024 pages (4 grants, contiguous) + touch', ms(f.map4_us), 'ms', 'anonymous mmap 1024 pages + touch', ms(f.anon_us), { lowerIsBetter: true }),
];
if (args.json) for (const r of records) console.log(JSON.stringify(r));
else {
  const cpu = cpuInfo();
  console.log(`@vpio/grant bench: ${cpu.model}, ${cpu.allowedCores}/${cpu.cores} cores, best of ${runs}`);
  console.log(formatTable(records as unknown as Record<string, unknown>[], ['case', 'value', 'unit', 'baseline', 'baseline_value', 'ratio']));
}
