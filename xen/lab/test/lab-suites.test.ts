/**
 * The Xen lab's suites in `npm test`: each one boots real Xen 4.17 with a
 * PV dom0 under QEMU/TCG (xen/lab, lab.sh run) and runs one dom0 script of
 * xen/tests. Every "LAB PASS name" / "LAB FAIL name: why" line a script
 * prints becomes its own vitest case (as TAP lines do for the C programs),
 * so each lab check is counted in the summary, plus one case per suite that
 * the run ended cleanly: exit 0, a "N passed, N failed" line that matches
 * the checks seen, at least the checks the suite is known to have.
 *
 * The runs happen at module load (top-level await), one after the other:
 * each QEMU takes ~1.5 GB and both cores. Before them: the lab's Debian
 * packages (`lab.sh deps`, root only: without root and with packages
 * missing the first suite fails saying which to install) and the C test
 * programs the scripts bake into dom0 (`make test-bins`, a no-op when up to
 * date; minios's also makes its PV kernels; turbo has built the rest: this
 * workspace depends on them).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type Check, type LabSummary, parseLabOutput } from './parse-lab.js';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const RUN_TIMEOUT_MS = 30 * 60_000;

interface Suite {
  /** dom0 script under xen/tests, run on the host (it starts the lab itself). */
  readonly script: string;
  readonly title: string;
  /** Checks the suite has today: fewer means part of it silently did not run. */
  readonly minChecks: number;
  readonly env?: Readonly<Record<string, string>>;
}

const SUITES: readonly Suite[] = [
  { script: 'test-xen.sh', title: 'test:xen: vpiod in xen mode, two Linux PV guests through the switch', minChecks: 18 },
  { script: 'drivers.sh', title: 'xen drivers: grants and event channels across real domains', minChecks: 40 },
  { script: 'vpiod-xen.sh', title: 'vpio up --mode xen: dom0 side, C guests', minChecks: 18 },
  { script: 'xenstore-diff.sh', title: "differential xenstore: Xen's C xenstored vs ours", minChecks: 30 },
  { script: 'minios-pv.sh', title: 'the minios PV kernel: xl create, traps, minios and Linux guests through vpio, a minios firewall', minChecks: 30 },
];

interface Run {
  readonly status: number | null;
  readonly signal: string | null;
  readonly output: string;
  readonly checks: readonly Check[];
  readonly summary?: LabSummary;
  readonly error?: string;
}

function run(cmd: string, args: readonly string[], env: Record<string, string>, timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, [...args], { cwd: REPO, timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      const output = `${stdout}\n${stderr}`;
      const { checks, summary } = parseLabOutput(stdout);
      const code = err && typeof err.code === 'number' ? err.code : null;
      resolve({
        status: err ? code : 0,
        signal: err?.signal ?? null,
        output,
        checks,
        ...(summary ? { summary } : {}),
        ...(err && code === null && !err.signal ? { error: err.message } : {}),
      });
    });
  });
}

/** The last lines of a run's output, for a failure message. */
function tail(text: string, lines = 60): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** The C test programs the scripts bake into dom0 (`make test-bins`: a no-op when up to date). */
async function testBins(): Promise<Run[]> {
  const out: Run[] = [];
  for (const dir of ['packages/grant', 'packages/evtchn', 'packages/netfront', 'linux-netfront', 'minios']) {
    out.push(await run('make', ['-s', '-C', dir, 'test-bins'], {}, 10 * 60_000));
  }
  return out;
}

const prep: Run[] = [];
if (process.getuid?.() === 0) prep.push(await run('bash', ['xen/lab/lab.sh', 'deps'], {}, 20 * 60_000));

const runs = new Map<Suite, Run>();
for (const s of SUITES) {
  // before each suite: a rebuild of a native addon (node-gyp rebuild) empties its package's build/
  const bins = await testBins();
  prep.push(...bins);
  if (!prep.every((r) => r.status === 0)) break;
  // LAB_QUIET: only the LAB lines on stdout (the whole console stays in the run's console.log)
  runs.set(s, await run('bash', [`xen/tests/${s.script}`], { SKIP_BUILD: '1', LAB_QUIET: '1', LAB_TIMEOUT: String(RUN_TIMEOUT_MS / 1000 - 60), ...s.env }, RUN_TIMEOUT_MS));
}

describe('xen lab: preparation', () => {
  it('lab packages installed (as root) and dom0 test programs built', () => {
    for (const r of prep) expect(r.status, tail(r.output)).toBe(0);
  });
});

for (const s of SUITES) {
  const r = runs.get(s);
  describe(`xen lab: ${s.title} (xen/tests/${s.script})`, () => {
    it('runs to the end: exit 0, its summary matches its checks', () => {
      expect(r, 'not run: the preparation failed').toBeDefined();
      if (!r) return;
      const why = tail(r.output);
      expect(r.error, why).toBeUndefined();
      expect(r.signal, why).toBeNull();
      expect(r.status, why).toBe(0);
      expect(r.summary, why).toBeDefined();
      expect(r.summary?.passed, why).toBe(r.checks.filter((c) => c.ok).length);
      expect(r.summary?.failed, why).toBe(r.checks.filter((c) => !c.ok).length);
      expect(r.checks.length, why).toBeGreaterThanOrEqual(s.minChecks);
    });
    for (const [i, c] of (r?.checks ?? []).entries()) {
      it(`${i + 1} - ${c.name}`, () => {
        expect(c.ok, c.detail).toBe(true);
      });
    }
  });
}
