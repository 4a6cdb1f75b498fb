// Running turbo: the installed binary (never `npx`, which could go to the
// network), its arguments, and what its run summary says about each task.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { capture, run } from './proc.mjs';
import { readJson } from './workspaces.mjs';

/**
 * @typedef {object} TurboOptions
 * @property {string[]} [filters]       each becomes --filter=<f>
 * @property {number} [concurrency]
 * @property {'never' | 'always' | 'dependencies-successful'} [continueMode]
 * @property {'full' | 'errors-only' | 'new-only' | 'none'} [outputLogs]
 * @property {'none' | 'task'} [logPrefix]
 * @property {boolean} [only]           run the task without its dependencies
 * @property {boolean} [summarize]      write a run summary we read back
 * @property {string[]} [passthrough]   arguments after "--", for the task itself
 */

/**
 * @param {string} task
 * @param {TurboOptions} [options]
 * @returns {string[]}
 */
export function turboArgs(task, options = {}) {
  const args = ['run', task, '--ui=stream'];
  for (const f of options.filters ?? []) args.push(`--filter=${f}`);
  if (options.concurrency) args.push(`--concurrency=${options.concurrency}`);
  if (options.continueMode) args.push(`--continue=${options.continueMode}`);
  if (options.outputLogs) args.push(`--output-logs=${options.outputLogs}`);
  if (options.logPrefix) args.push(`--log-prefix=${options.logPrefix}`);
  if (options.only) args.push('--only');
  if (options.summarize) args.push('--summarize');
  if (options.passthrough?.length) args.push('--', ...options.passthrough);
  return args;
}

/** @param {string} root */
function turboBin(root) {
  const bin = join(root, 'node_modules', '.bin', 'turbo');
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run "npm ci" (or vpio-dev bootstrap) first`);
  return bin;
}

/**
 * Runs `turbo run <task>` with the terminal inherited.
 * With `summarize`, also returns each executed task's exit code, keyed by
 * task id ("@vpio/ring#test"), read from turbo's run summary in
 * .turbo/runs (only the latest summary is kept there).
 * @param {string} root
 * @param {string} task
 * @param {TurboOptions & { verbose?: boolean }} [options]
 * @returns {Promise<{ exitCode: number, taskExit: Map<string, number> | null }>}
 */
export async function runTurbo(root, task, options = {}) {
  const runsDir = join(root, '.turbo', 'runs');
  const listRuns = () => new Set(existsSync(runsDir) ? readdirSync(runsDir) : []);
  const before = listRuns();
  const exitCode = await run(turboBin(root), turboArgs(task, options), { cwd: root, verbose: options.verbose });
  if (!options.summarize) return { exitCode, taskExit: null };
  const fresh = [...listRuns()].filter((f) => !before.has(f) && f.endsWith('.json'));
  if (fresh.length !== 1 || fresh[0] === undefined) return { exitCode, taskExit: null };
  // Keep this run's summary (turbo printed its path), drop the ones before.
  for (const old of before) rmSync(join(runsDir, old), { force: true });
  return { exitCode, taskExit: taskExitCodes(readJson(join(runsDir, fresh[0]))) };
}

/**
 * Exit code of every task a run summary lists (cache hits count as 0).
 * @param {{ tasks?: Array<{ taskId: string, execution?: { exitCode?: number | null } | null }> }} summary
 * @returns {Map<string, number>}
 */
export function taskExitCodes(summary) {
  return new Map((summary.tasks ?? []).map((t) => [t.taskId, t.execution?.exitCode ?? 0]));
}

/**
 * The packages `turbo run <task>` would run the task in, from a dry run.
 * @param {string} root
 * @param {string} task
 * @param {string[]} filters
 * @returns {Array<{ name: string, relDir: string }>}
 */
export function plannedTasks(root, task, filters) {
  const r = capture(turboBin(root), ['run', task, '--dry=json', ...filters.map((f) => `--filter=${f}`)], {
    cwd: root,
  });
  if (r.status !== 0) throw new Error(`turbo run ${task} --dry=json failed:\n${r.stderr.trim()}`);
  /** @type {{ tasks: Array<{ task: string, package: string, directory: string, command: string }> }} */
  const dry = JSON.parse(r.stdout);
  return dry.tasks
    .filter((t) => t.task === task && t.command !== '<NONEXISTENT>')
    .map((t) => ({ name: t.package, relDir: t.directory }));
}
