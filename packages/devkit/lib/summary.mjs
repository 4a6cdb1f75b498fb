// The `npm test` summary: read each workspace's vitest JSON reports, add
// them up, and count everything that kept a test from reporting as a failure.
// Reading and deciding are separate: summarize() is a pure function.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { formatTable } from './table.mjs';
import { readJson } from './workspaces.mjs';

/** Where each workspace's reports go (the vitest preset writes vitest.json here). */
export const REPORT_DIR = '.test-results';

/**
 * @typedef {{ file: string, report?: any, error?: string }} ReportEntry
 * @typedef {{ passed: number, failed: number, skipped: number, problems: string[] }} Counts
 * @typedef {{ package: string, passed: number, failed: number, skipped: number, note: string }} Row
 * @typedef {{ rows: Row[], passed: number, failed: number }} Summary
 */

/**
 * Deletes the JSON reports a previous run left in each folder's .test-results.
 * @param {string[]} dirs  workspace folders
 */
export function clearReports(dirs) {
  for (const dir of dirs) {
    for (const file of reportFiles(dir)) rmSync(file, { force: true });
  }
}

/** @param {string} dir */
function reportFiles(dir) {
  const reports = join(dir, REPORT_DIR);
  if (!existsSync(reports)) return [];
  return readdirSync(reports)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(reports, f));
}

/**
 * Parses every .test-results/*.json of one workspace folder.
 * @param {string} dir
 * @returns {ReportEntry[]}
 */
export function readReports(dir) {
  return reportFiles(dir).map((file) => {
    try {
      return { file, report: readJson(file) };
    } catch (err) {
      return { file, error: /** @type {Error} */ (err).message };
    }
  });
}

/** @param {unknown} text */
function firstLine(text) {
  const line = String(text ?? '').trim().split('\n')[0] ?? '';
  return line.length > 100 ? `${line.slice(0, 97)}...` : line;
}

/**
 * Counts one vitest JSON report. A test file that failed without any failed
 * test in it (it did not load, or a hook or suite threw) counts as one
 * failure; so does a report that says the run failed while counting none
 * (for instance: no test files matched).
 * @param {any} report
 * @returns {Counts}
 */
export function countVitestReport(report) {
  if (typeof report?.numPassedTests !== 'number' || typeof report?.numFailedTests !== 'number') {
    return { passed: 0, failed: 1, skipped: 0, problems: ['not a vitest JSON report'] };
  }
  let failed = report.numFailedTests;
  const problems = [];
  const files = Array.isArray(report.testResults) ? report.testResults : [];
  for (const file of files) {
    const failedTests = (file.assertionResults ?? []).filter((/** @type {any} */ a) => a.status === 'failed').length;
    if (file.status === 'failed' && failedTests === 0) {
      failed += 1;
      problems.push(`${basename(String(file.name))}: ${firstLine(file.message) || 'failed outside any test'}`);
    }
  }
  if (report.success === false && failed === 0) {
    failed = 1;
    problems.push(files.length === 0 ? 'no test files ran' : 'vitest reported a failed run');
  }
  const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  return { passed: report.numPassedTests, failed, skipped, problems };
}

/**
 * Why a package that should have reported did not.
 * @param {string} name
 * @param {Map<string, number> | null} taskExit
 */
function whyNoReport(name, taskExit) {
  const build = taskExit?.get(`${name}#build`);
  const test = taskExit?.get(`${name}#test`);
  if (build !== undefined && build !== 0) return `no report: build failed (exit ${build}), tests did not run`;
  if (test !== undefined) return `no report: test task exited ${test} before vitest wrote one`;
  if (taskExit) return 'no report: test task did not run (a dependency failed)';
  return 'no report: test task crashed or never ran';
}

/**
 * Adds up a test run.
 * @param {object} run
 * @param {Array<{ name: string, expected: boolean, reports: ReportEntry[] }>} run.packages
 *   every workspace; `expected` when its test task was part of the run
 * @param {Map<string, number> | null} [run.taskExit]  turbo's exit code per task id, if known
 * @param {{ ok: boolean } | null} [run.lint]          the whole-repo eslint check, if it ran
 * @param {number} [run.turboExitCode]
 * @returns {Summary}
 */
export function summarize({ packages, taskExit = null, lint = null, turboExitCode = 0 }) {
  /** @type {Row[]} */
  const rows = [];
  for (const pkg of packages) {
    if (!pkg.expected && pkg.reports.length === 0) continue;
    if (pkg.reports.length === 0) {
      rows.push({ package: pkg.name, passed: 0, failed: 1, skipped: 0, note: whyNoReport(pkg.name, taskExit) });
      continue;
    }
    const row = { package: pkg.name, passed: 0, failed: 0, skipped: 0, note: '' };
    const problems = [];
    for (const entry of pkg.reports) {
      const counts = entry.error
        ? { passed: 0, failed: 1, skipped: 0, problems: [`unreadable report ${basename(entry.file)}`] }
        : countVitestReport(entry.report);
      row.passed += counts.passed;
      row.failed += counts.failed;
      row.skipped += counts.skipped;
      problems.push(...counts.problems);
    }
    const exit = taskExit?.get(`${pkg.name}#test`);
    if (exit !== undefined && exit !== 0 && row.failed === 0) {
      row.failed = 1;
      problems.push(`test task exited ${exit} though its report shows no failure (unhandled error?)`);
    }
    row.note = problems.join('; ');
    rows.push(row);
  }
  if (lint) {
    rows.push({ package: 'eslint (whole repo)', passed: lint.ok ? 1 : 0, failed: lint.ok ? 0 : 1, skipped: 0, note: '' });
  }
  let failed = rows.reduce((n, r) => n + r.failed, 0);
  if (turboExitCode !== 0 && failed === 0) {
    const failedTasks = [...(taskExit ?? [])].filter(([, code]) => code !== 0).map(([id]) => id);
    const note = failedTasks.length ? `failed: ${failedTasks.join(', ')}` : `exited ${turboExitCode}`;
    rows.push({ package: 'turbo', passed: 0, failed: 1, skipped: 0, note });
    failed = 1;
  }
  return { rows, passed: rows.reduce((n, r) => n + r.passed, 0), failed };
}

/**
 * The one line CI looks for, always last.
 * @param {{ passed: number, failed: number }} counts
 */
export function summaryLine({ passed, failed }) {
  return `${passed} passed, ${failed} failed`;
}

/**
 * The per-package table followed by the summary line.
 * @param {Summary} summary
 * @returns {string}
 */
export function formatSummary(summary) {
  const table = formatTable(summary.rows, [
    { key: 'package' },
    { key: 'passed', align: 'right' },
    { key: 'failed', align: 'right' },
    { key: 'skipped', align: 'right' },
    { key: 'note' },
  ]);
  return `${table}\n${summaryLine(summary)}`;
}
