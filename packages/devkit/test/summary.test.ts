import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  clearReports,
  countVitestReport,
  formatSummary,
  readReports,
  summarize,
  summaryLine,
} from '../lib/summary.mjs';
import { REPO_ROOT } from '../lib/workspaces.mjs';

const temps: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vpio-summary-'));
  temps.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A vitest JSON report as vitest 3 writes it (only the fields we read, plus a few). */
function report(files: Array<{ name: string; status: 'passed' | 'failed'; message?: string; tests: string[] }>) {
  const tests = files.flatMap((f) => f.tests);
  const count = (s: string) => tests.filter((t) => t === s).length;
  const numFailedTests = count('failed');
  return {
    numTotalTestSuites: files.length,
    numTotalTests: tests.length,
    numPassedTests: count('passed'),
    numFailedTests,
    numPendingTests: count('skipped'),
    numTodoTests: count('todo'),
    success: numFailedTests === 0 && files.every((f) => f.status === 'passed') && files.length > 0,
    startTime: 0,
    testResults: files.map((f) => ({
      name: f.name,
      status: f.status,
      message: f.message ?? '',
      assertionResults: f.tests.map((status, i) => ({ title: `t${i}`, status, failureMessages: [] })),
    })),
  };
}

/** Writes a workspace folder holding the given reports; returns its path. */
function workspace(root: string, name: string, reports: Record<string, unknown>): string {
  const dir = join(root, name);
  mkdirSync(join(dir, '.test-results'), { recursive: true });
  for (const [file, body] of Object.entries(reports)) {
    writeFileSync(join(dir, '.test-results', file), typeof body === 'string' ? body : JSON.stringify(body));
  }
  return dir;
}

describe('countVitestReport', () => {
  it('sums passed and failed tests and skipped ones separately', () => {
    const r = report([
      { name: '/p/test/a.test.ts', status: 'failed', tests: ['passed', 'passed', 'failed', 'skipped'] },
      { name: '/p/test/b.test.ts', status: 'passed', tests: ['passed', 'todo'] },
    ]);
    expect(countVitestReport(r)).toEqual({ passed: 3, failed: 1, skipped: 2, problems: [] });
  });

  it('counts a test file that failed to load as one failure and names it', () => {
    const r = report([
      { name: '/p/test/ok.test.ts', status: 'passed', tests: ['passed'] },
      {
        name: '/p/test/broken.test.ts',
        status: 'failed',
        message: 'Failed to load url ../src/gone.js (resolved id: ../src/gone.js)\nmore',
        tests: [],
      },
    ]);
    const counts = countVitestReport(r);
    expect(counts).toMatchObject({ passed: 1, failed: 1 });
    expect(counts.problems).toEqual(['broken.test.ts: Failed to load url ../src/gone.js (resolved id: ../src/gone.js)']);
  });

  it('counts a file whose hook failed while its tests passed as one failure', () => {
    const r = report([{ name: '/p/test/h.test.ts', status: 'failed', message: 'afterAll boom', tests: ['passed'] }]);
    expect(countVitestReport(r)).toMatchObject({ passed: 1, failed: 1 });
  });

  it('does not count a failed file twice when its failed tests explain it', () => {
    const r = report([{ name: '/p/test/a.test.ts', status: 'failed', tests: ['failed', 'failed'] }]);
    expect(countVitestReport(r)).toMatchObject({ failed: 2, problems: [] });
  });

  it('counts a run with no test files as one failure', () => {
    expect(countVitestReport(report([]))).toEqual({ passed: 0, failed: 1, skipped: 0, problems: ['no test files ran'] });
  });

  it('counts something that is not a vitest report as one failure', () => {
    expect(countVitestReport({ hello: 1 })).toMatchObject({ passed: 0, failed: 1 });
    expect(countVitestReport(null)).toMatchObject({ passed: 0, failed: 1 });
  });
});

describe('summarize over report files', () => {
  it('adds up every workspace, a missing report and lint into one line', () => {
    const root = tempDir();
    const ring = workspace(root, 'ring', {
      'vitest.json': report([
        { name: '/r/test/a.test.ts', status: 'passed', tests: ['passed', 'passed', 'passed'] },
        { name: '/r/test/load.test.ts', status: 'failed', message: 'SyntaxError: Unexpected token', tests: [] },
      ]),
      'c-tests.json': report([{ name: '/r/test/c', status: 'failed', tests: ['passed', 'failed'] }]),
    });
    const devkit = workspace(root, 'devkit', {
      'vitest.json': report([{ name: '/d/test/x.test.ts', status: 'passed', tests: ['passed', 'passed'] }]),
    });
    const crashed = workspace(root, 'switch', {});
    const noTests = workspace(root, 'docs', {});

    const summary = summarize({
      packages: [
        { name: '@vpio/devkit', expected: true, reports: readReports(devkit) },
        { name: '@vpio/docs', expected: false, reports: readReports(noTests) },
        { name: '@vpio/ring', expected: true, reports: readReports(ring) },
        { name: '@vpio/switch', expected: true, reports: readReports(crashed) },
      ],
      lint: { ok: true },
    });

    expect(summary.rows.map((r) => [r.package, r.passed, r.failed])).toEqual([
      ['@vpio/devkit', 2, 0],
      ['@vpio/ring', 4, 2],
      ['@vpio/switch', 0, 1],
      ['eslint (whole repo)', 1, 0],
    ]);
    expect(summary.rows[2]?.note).toMatch(/^no report/);
    expect({ passed: summary.passed, failed: summary.failed }).toEqual({ passed: 7, failed: 3 });
    const lines = formatSummary(summary).split('\n');
    expect(lines.at(-1)).toBe('7 passed, 3 failed');
    expect(lines[0]).toMatch(/^package\s+passed\s+failed\s+skipped\s+note$/);
  });

  it('counts an unreadable report file as one failure', () => {
    const dir = workspace(tempDir(), 'ring', { 'vitest.json': '{"numPassedTests": 3, trunc' });
    const summary = summarize({ packages: [{ name: '@vpio/ring', expected: true, reports: readReports(dir) }] });
    expect(summary).toMatchObject({ passed: 0, failed: 1 });
    expect(summary.rows[0]?.note).toContain('unreadable report vitest.json');
  });

  it('says why a report is missing when turbo reports a failed build', () => {
    const summary = summarize({
      packages: [
        { name: '@vpio/ring', expected: true, reports: [] },
        { name: '@vpio/switch', expected: true, reports: [] },
      ],
      taskExit: new Map([['@vpio/ring#build', 2]]),
      turboExitCode: 2,
    });
    expect(summary.rows.map((r) => r.note)).toEqual([
      'no report: build failed (exit 2), tests did not run',
      'no report: test task did not run (a dependency failed)',
    ]);
    expect(summary.failed).toBe(2);
  });

  it('fails a package whose test task exited non-zero behind a clean report', () => {
    const dir = workspace(tempDir(), 'ring', {
      'vitest.json': report([{ name: '/r/test/a.test.ts', status: 'passed', tests: ['passed'] }]),
    });
    const summary = summarize({
      packages: [{ name: '@vpio/ring', expected: true, reports: readReports(dir) }],
      taskExit: new Map([['@vpio/ring#test', 1]]),
      turboExitCode: 1,
    });
    expect(summary).toMatchObject({ passed: 1, failed: 1 });
  });

  it('never says "0 failed" when turbo failed', () => {
    const summary = summarize({
      packages: [],
      lint: { ok: true },
      taskExit: new Map([['@vpio/docs#build', 1]]),
      turboExitCode: 1,
    });
    expect(summaryLine(summary)).toBe('1 passed, 1 failed');
    expect(summary.rows.at(-1)).toMatchObject({ package: 'turbo', note: 'failed: @vpio/docs#build' });
  });

  it('counts failed lint as one failed check', () => {
    expect(summarize({ packages: [], lint: { ok: false } })).toMatchObject({ passed: 0, failed: 1 });
  });
});

describe('clearReports', () => {
  it('deletes stale JSON reports and leaves other files', () => {
    const dir = workspace(tempDir(), 'ring', { 'vitest.json': '{}', 'notes.txt': 'keep' });
    clearReports([dir, join(dir, 'no-such-workspace')]);
    expect(readReports(dir)).toEqual([]);
    expect(spawnSync('ls', [join(dir, '.test-results')], { encoding: 'utf8' }).stdout.trim()).toBe('notes.txt');
  });
});

describe('the vitest preset and the summary together', () => {
  it('counts what a real vitest run reports, including a file that fails to load', () => {
    const project = tempDir();
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(project, 'node_modules'));
    const preset = join(REPO_ROOT, 'packages/devkit/lib/vitest-preset.mjs');
    writeFileSync(
      join(project, 'vitest.config.mjs'),
      `import { vpioVitestConfig } from ${JSON.stringify(preset)};\nexport default vpioVitestConfig();\n`,
    );
    mkdirSync(join(project, 'test'));
    writeFileSync(
      join(project, 'test/mixed.test.ts'),
      `import { it, expect } from 'vitest';
it('passes', () => expect(1).toBe(1));
it('passes too', () => expect(2).toBe(2));
it('fails', () => expect(1).toBe(2));
it.skip('is skipped', () => {});
`,
    );
    writeFileSync(join(project, 'test/broken.test.ts'), `import './does-not-exist.js';\n`);

    const run = spawnSync(join(REPO_ROOT, 'node_modules/.bin/vitest'), ['run'], {
      cwd: project,
      encoding: 'utf8',
      // Not our own vitest's worker variables: this is a separate run.
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST'))), CI: '1' },
    });
    expect(run.status).toBe(1);

    const summary = summarize({ packages: [{ name: 'fixture', expected: true, reports: readReports(project) }] });
    expect(summary.rows[0]).toMatchObject({ passed: 2, failed: 2, skipped: 1 });
    expect(summary.rows[0]?.note).toContain('broken.test.ts');
  });
});
