import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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
  VENDORED_BASELINES,
} from '../lib/bench.mjs';

const temps: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vpio-bench-'));
  temps.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Every file SHA256SUMS lists (the sources and the baseline scripts). */
const VENDORED_FILES = readFileSync(join(VENDORED_BASELINES, 'SHA256SUMS'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => l.split(/\s+/)[1]!);

/** A folder holding copies of the vendored baseline files (and SHA256SUMS when asked). */
function baselineCopy(dir: string, { sums = false } = {}): string {
  mkdirSync(dir, { recursive: true });
  for (const f of [...VENDORED_FILES, ...(sums ? ['SHA256SUMS'] : [])]) {
    copyFileSync(join(VENDORED_BASELINES, f), join(dir, f));
  }
  return dir;
}

describe('record', () => {
  it('reports value over baseline for rates', () => {
    expect(record('pair 64B', 30, 'Mpps', 'memif txonly', 24)).toEqual({
      case: 'pair 64B',
      value: 30,
      unit: 'Mpps',
      baseline: 'memif txonly',
      baseline_value: 24,
      ratio: 1.25,
    });
  });

  it('inverts the ratio for lower-is-better units so > 1 still means vpio won', () => {
    expect(record('lat', 50, 'ns', 'spsc', 100, { lowerIsBetter: true }).ratio).toBe(2);
    expect(record('cyc', 40, 'cycles/pkt', 'copy', 20, { lowerIsBetter: true }).ratio).toBe(0.5);
  });

  it('has no ratio without a usable baseline figure', () => {
    expect(record('solo', 3, 'Mpps')).toMatchObject({ baseline: null, baseline_value: null, ratio: null });
    expect(record('zero', 3, 'Mpps', 'spsc', 0).ratio).toBeNull();
    expect(record('lat0', 0, 'ns', 'spsc', 10, { lowerIsBetter: true }).ratio).toBeNull();
  });

  it('rejects values that are not finite numbers', () => {
    expect(() => record('x', Number.NaN, 'Mpps')).toThrow(/finite number/);
    expect(() => record('', 1, 'Mpps')).toThrow(/caseName/);
  });
});

describe('parseArgs', () => {
  it('reads --json and --seconds in both spellings and keeps the rest', () => {
    expect(parseArgs(['--json', '--seconds', '5', 'desc', '--batch=32'])).toEqual({
      json: true,
      seconds: 5,
      rest: ['desc', '--batch=32'],
    });
    expect(parseArgs(['--seconds=0.5'], { seconds: 3 })).toEqual({ json: false, seconds: 0.5, rest: [] });
    expect(parseArgs([], { seconds: 3 }).seconds).toBe(3);
  });

  it('rejects a missing or non-positive duration', () => {
    expect(() => parseArgs(['--seconds'])).toThrow('--seconds expects a positive number of seconds, got null');
    expect(() => parseArgs(['--seconds=-1'])).toThrow(/got "-1"/);
    expect(() => parseArgs(['--seconds', 'abc'])).toThrow(/got "abc"/);
  });
});

describe('formatTable', () => {
  it('aligns text left and numbers right under a rule', () => {
    const rows = [record('desc b32', 592.34, 'Mpps', 'spsc', 600), record('copy 1500B', 10.5, 'Mpps', 'spsc', 11)];
    expect(formatTable(rows, ['case', 'value', 'unit', { key: 'ratio', title: 'vs baseline' }])).toBe(
      [
        'case        value  unit  vs baseline',
        '----------  -----  ----  -----------',
        'desc b32      592  Mpps        0.987',
        'copy 1500B   10.5  Mpps        0.955',
      ].join('\n'),
    );
  });
});

describe('baseline output and drift', () => {
  it('parses the figures the baseline programs print', () => {
    const out = 'warming up\nspsc mode=desc len=64 batch=32 Mpps=592.34 Gbps=303.28\n';
    expect(parseFigures(out)).toEqual({ mode: 'desc', len: 64, batch: 32, Mpps: 592.34, Gbps: 303.28 });
  });

  it('warns only when a baseline lands more than 30% from its recorded figure', () => {
    expect(driftWarning('ringcopy 64B', 60, 72.4)).toBeNull();
    expect(driftWarning('ringcopy 64B', 40, 72.4)).toMatch(/\(-45%\): the machine was busy/);
  });
});

describe('findBaselines', () => {
  it('prefers $VPIO_BASELINES and accepts it when it matches SHA256SUMS', () => {
    const dir = baselineCopy(join(tempDir(), 'b'));
    const found = findBaselines({ env: { VPIO_BASELINES: dir }, repoRoot: tempDir() });
    expect(found).toMatchObject({ dir, source: 'env', verified: true, warnings: [] });
    expect(found.files['spsc.c']).toBe(join(dir, 'spsc.c'));
  });

  it('fails when $VPIO_BASELINES lacks the sources', () => {
    expect(() => findBaselines({ env: { VPIO_BASELINES: tempDir() } })).toThrow(/does not hold spsc.c and ringcopy.c/);
  });

  it('finds shared/baselines beside the repository root or beside a folder above it', () => {
    const top = tempDir();
    baselineCopy(join(top, 'shared', 'baselines'));
    const beside = findBaselines({ env: {}, repoRoot: join(top, 'main') });
    expect(beside).toMatchObject({ dir: join(top, 'shared', 'baselines'), source: 'shared', verified: true });
    const above = findBaselines({ env: {}, repoRoot: join(top, 'work', 'clones', 'main') });
    expect(above.dir).toBe(join(top, 'shared', 'baselines'));
  });

  it('uses a shared copy that changed upstream but warns that the vendored one is stale', () => {
    const top = tempDir();
    const shared = baselineCopy(join(top, 'shared', 'baselines'));
    writeFileSync(join(shared, 'spsc.c'), `${readFileSync(join(shared, 'spsc.c'), 'utf8')}/* v2 */\n`);
    const found = findBaselines({ env: {}, repoRoot: join(top, 'main') });
    expect(found).toMatchObject({ source: 'shared', verified: false });
    expect(found.warnings).toHaveLength(1);
    expect(found.warnings[0]).toMatch(/spsc.c differs from the vendored copy/);
  });

  it('refuses a vendored copy that was edited', () => {
    const vendored = baselineCopy(join(tempDir(), 'vendored'), { sums: true });
    writeFileSync(join(vendored, 'ringcopy.c'), 'int main(void) { return 0; }\n');
    expect(() => findBaselines({ env: {}, repoRoot: join(tempDir(), 'main'), vendoredDir: vendored })).toThrow(
      /ringcopy.c in .* no longer match SHA256SUMS/,
    );
  });

  it('falls back to the vendored copy, which matches its SHA256SUMS', () => {
    const vendored = baselineCopy(join(tempDir(), 'vendored'), { sums: true });
    expect(findBaselines({ env: {}, repoRoot: join(tempDir(), 'main'), vendoredDir: vendored })).toMatchObject({
      dir: vendored,
      source: 'vendored',
      verified: true,
    });
  });
});

describe('compiling and running a baseline', () => {
  it('builds ringcopy unmodified and reads its rate from a short run', async () => {
    const vendored = findBaselines({ env: {}, repoRoot: join(tempDir(), 'main') });
    const bin = compileBaseline('ringcopy', join(tempDir(), 'bin'), { baselines: vendored });
    const figures = parseFigures(await runCommand(bin, ['64', '0.05'], { timeoutMs: 20_000 }));
    expect(figures.len).toBe(64);
    expect(figures.Mpps).toBeGreaterThan(0);
  });

  it('rejects an unknown baseline name', () => {
    expect(() => compileBaseline('memcpy' as 'spsc', tempDir())).toThrow(/unknown baseline "memcpy"/);
  });
});

describe('runCommand', () => {
  it('rejects with stderr when the program fails', async () => {
    await expect(runCommand('sh', ['-c', 'echo broken >&2; exit 3'])).rejects.toThrow(/failed \(exit 3\)\nbroken/);
  });

  it('stops a program that outlives its timeout', async () => {
    const started = Date.now();
    await expect(runCommand('sleep', ['10'], { timeoutMs: 100 })).rejects.toThrow(/timed out after 100 ms/);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('cpuInfo', () => {
  it('names the CPU and counts its cores', () => {
    const info = cpuInfo();
    expect(info.model).not.toBe('');
    expect(info.cores).toBeGreaterThan(0);
    expect(info.allowedCores).toBeGreaterThan(0);
    expect(info.allowedCores).toBeLessThanOrEqual(info.cores);
  });
});
