// What every vpio benchmark shares: its command line (--json, --seconds),
// the record format with the baseline ratio, tables, the machine it ran on,
// and the company's baseline programs (found, checked, compiled, run).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { DEVKIT_DIR, REPO_ROOT } from './workspaces.mjs';

export { formatTable, formatNumber } from './table.mjs';

/** The vendored copies of the baseline sources, and their SHA256SUMS. */
export const VENDORED_BASELINES = join(DEVKIT_DIR, 'baselines');

/** Baseline programs and their compiler flags, as shared/baselines/README.md gives them. */
export const BASELINE_PROGRAMS = Object.freeze({
  spsc: ['-O2', '-pthread'],
  ringcopy: ['-O2'],
});

/**
 * One benchmark result beside its baseline. `ratio` > 1 means vpio did
 * better: value / baseline_value for rates (Mpps, Gb/s), inverted with
 * `lowerIsBetter` (ns, cycles per packet). No baseline, no ratio.
 * @param {string} caseName
 * @param {number} value
 * @param {string} unit
 * @param {string | null} [baseline]       which baseline it is compared with
 * @param {number | null} [baselineValue]  the baseline's figure in the same unit, same run
 * @param {{ lowerIsBetter?: boolean }} [options]
 */
export function record(caseName, value, unit, baseline = null, baselineValue = null, { lowerIsBetter = false } = {}) {
  if (typeof caseName !== 'string' || caseName === '') throw new TypeError('record(): caseName must be a non-empty string');
  if (!Number.isFinite(value)) throw new TypeError(`record(${caseName}): value must be a finite number, got ${value}`);
  if (typeof unit !== 'string' || unit === '') throw new TypeError(`record(${caseName}): unit must be a non-empty string`);
  let ratio = null;
  if (baseline !== null && typeof baselineValue === 'number' && baselineValue > 0 && value > 0) {
    ratio = lowerIsBetter ? baselineValue / value : value / baselineValue;
  }
  return {
    case: caseName,
    value,
    unit,
    baseline,
    baseline_value: baseline === null ? null : (baselineValue ?? null),
    ratio,
  };
}

/**
 * The flags every benchmark accepts: `--json` (print records as JSON lines)
 * and `--seconds N` (how long each case runs). Anything else lands in `rest`.
 * @param {string[]} [argv]
 * @param {{ seconds?: number }} [defaults]
 * @returns {{ json: boolean, seconds: number, rest: string[] }}
 */
export function parseArgs(argv = process.argv.slice(2), { seconds = 2 } = {}) {
  const out = { json: false, seconds, rest: /** @type {string[]} */ ([]) };
  for (let i = 0; i < argv.length; i++) {
    const arg = /** @type {string} */ (argv[i]);
    if (arg === '--json') {
      out.json = true;
    } else if (arg === '--seconds' || arg.startsWith('--seconds=')) {
      const text = arg === '--seconds' ? argv[++i] : arg.slice('--seconds='.length);
      const n = Number(text);
      if (text === undefined || text === '' || !Number.isFinite(n) || n <= 0) {
        throw new Error(`--seconds expects a positive number of seconds, got ${JSON.stringify(text ?? null)}`);
      }
      out.seconds = n;
    } else {
      out.rest.push(arg);
    }
  }
  return out;
}

/** @param {string} file */
function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/**
 * @param {string} file  a `sha256sum` output file
 * @returns {Map<string, string>} file name -> hex digest
 */
function readSums(file) {
  const sums = new Map();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.trim());
    if (m) sums.set(/** @type {string} */ (m[2]), /** @type {string} */ (m[1]));
  }
  return sums;
}

/**
 * Locates the baseline sources: $VPIO_BASELINES, else shared/baselines
 * beside the repository root or beside any folder above it, else the
 * vendored copy. Checks the chosen spsc.c and ringcopy.c against the
 * vendored SHA256SUMS: a differing shared copy is used with a warning (the
 * shared folder is the source of truth; the vendored copy is stale), a
 * differing vendored copy is an error (baselines run unmodified).
 * @param {{ env?: NodeJS.ProcessEnv, repoRoot?: string, vendoredDir?: string }} [options]
 * @returns {{ dir: string, source: 'env' | 'shared' | 'vendored', files: Record<string, string>, verified: boolean, warnings: string[] }}
 */
export function findBaselines({ env = process.env, repoRoot = REPO_ROOT, vendoredDir = VENDORED_BASELINES } = {}) {
  const sums = readSums(join(vendoredDir, 'SHA256SUMS'));
  // every vendored file (sources and scripts), at least the programs' sources
  const names = [...new Set([...Object.keys(BASELINE_PROGRAMS).map((p) => `${p}.c`), ...sums.keys()])];
  /** @type {Array<{ dir: string, source: 'env' | 'shared' | 'vendored' }>} */
  const candidates = [];
  if (env.VPIO_BASELINES) candidates.push({ dir: resolve(env.VPIO_BASELINES), source: 'env' });
  for (let dir = dirname(resolve(repoRoot)); ; dir = dirname(dir)) {
    candidates.push({ dir: join(dir, 'shared', 'baselines'), source: 'shared' });
    if (dir === dirname(dir)) break;
  }
  candidates.push({ dir: vendoredDir, source: 'vendored' });

  for (const { dir, source } of candidates) {
    const files = Object.fromEntries(names.map((n) => [n, join(dir, n)]));
    if (!names.every((n) => existsSync(join(dir, n)))) {
      if (source === 'env') throw new Error(`VPIO_BASELINES=${env.VPIO_BASELINES} does not hold ${names.join(' and ')}`);
      continue;
    }
    const differing = names.filter((n) => sums.get(n) !== sha256(join(dir, n)));
    if (differing.length > 0 && source === 'vendored') {
      throw new Error(
        `${differing.join(', ')} in ${dir} no longer match SHA256SUMS: baselines run unmodified, restore them`,
      );
    }
    const warnings = differing.map(
      (n) =>
        `${join(dir, n)} differs from the vendored copy in ${vendoredDir} (SHA256SUMS): ` +
        'using it, but the vendored copy and its recorded figures are stale; re-vendor them',
    );
    return { dir, source, files, verified: differing.length === 0, warnings };
  }
  throw new Error(`no baseline sources found (not even ${vendoredDir})`);
}

/**
 * Compiles one baseline program unmodified, exactly as the baselines README
 * says (`gcc -O2 [-pthread] -o OUT NAME.c`, run in the sources' folder).
 * @param {'spsc' | 'ringcopy'} name
 * @param {string} outDir  created if needed
 * @param {{ baselines?: { dir: string } }} [options]  a findBaselines() result
 * @returns {string} the binary's absolute path
 */
export function compileBaseline(name, outDir, { baselines = findBaselines() } = {}) {
  const flags = BASELINE_PROGRAMS[name];
  if (!flags) throw new Error(`unknown baseline "${name}" (known: ${Object.keys(BASELINE_PROGRAMS).join(', ')})`);
  const out = join(resolve(outDir), name);
  mkdirSync(dirname(out), { recursive: true });
  const r = spawnSync('gcc', [...flags, '-o', out, `${name}.c`], { cwd: baselines.dir, encoding: 'utf8' });
  if (r.error) throw new Error(`cannot run gcc: ${r.error.message}`, { cause: r.error });
  if (r.status !== 0) throw new Error(`gcc ${name}.c failed (exit ${r.status}):\n${r.stderr}`);
  return out;
}

/**
 * Runs a program and resolves with its stdout. Rejects, with its stderr,
 * when it fails or outlives `timeoutMs` (then it gets SIGTERM, and SIGKILL
 * 2 s later).
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ timeoutMs?: number, cwd?: string, env?: NodeJS.ProcessEnv }} [options]
 * @returns {Promise<string>}
 */
export function runCommand(cmd, args, { timeoutMs = 60_000, cwd, env } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const kill = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 2000).unref();
    }, timeoutMs);
    const what = [cmd, ...args].join(' ');
    child.on('error', (err) => {
      clearTimeout(kill);
      reject(new Error(`cannot run ${cmd}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(kill);
      if (timedOut) reject(new Error(`${what} timed out after ${timeoutMs} ms\n${stderr}`));
      else if (code !== 0) reject(new Error(`${what} failed (${signal ?? `exit ${code}`})\n${stderr}`));
      else resolvePromise(stdout);
    });
  });
}

/**
 * The `key=value` figures of the last line that has any, as the baseline
 * programs print them ("spsc mode=desc len=64 batch=32 Mpps=592.34 ...").
 * Numeric values become numbers.
 * @param {string} output
 * @returns {Record<string, string | number>}
 */
export function parseFigures(output) {
  const lines = output.split('\n').filter((l) => /\S=\S/.test(l));
  /** @type {Record<string, string | number>} */
  const figures = {};
  for (const [, key, value] of (lines.at(-1) ?? '').matchAll(/(\w+)=(\S+)/g)) {
    const n = Number(value);
    figures[/** @type {string} */ (key)] = Number.isFinite(n) ? n : /** @type {string} */ (value);
  }
  return figures;
}

/**
 * A warning when a baseline measured far from its recorded figure (the
 * machine was busy or the method drifted), else null.
 * @param {string} caseName
 * @param {number} measured
 * @param {number} recorded
 * @param {{ tolerance?: number }} [options]  allowed relative distance (0.3 = 30 %)
 * @returns {string | null}
 */
export function driftWarning(caseName, measured, recorded, { tolerance = 0.3 } = {}) {
  const off = (measured - recorded) / recorded;
  if (Math.abs(off) <= tolerance) return null;
  const pct = `${off > 0 ? '+' : ''}${(off * 100).toFixed(0)}%`;
  return `${caseName}: measured ${measured}, recorded ${recorded} (${pct}): the machine was busy or the method drifted`;
}

/**
 * Which machine ran: CPU model, logical CPUs, and how many this process may use.
 * @returns {{ model: string, cores: number, allowedCores: number }}
 */
export function cpuInfo() {
  const list = cpus();
  let model = list[0]?.model?.trim() ?? '';
  if (!model && existsSync('/proc/cpuinfo')) {
    model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? '';
  }
  return { model: model || 'unknown CPU', cores: list.length, allowedCores: availableParallelism() };
}
