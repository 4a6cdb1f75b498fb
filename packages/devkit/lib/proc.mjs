// Child processes of the devkit: one environment for every tool we start
// (telemetry and nagging off), inherited terminal I/O, exit codes as numbers.
import { spawn, spawnSync } from 'node:child_process';
import { constants } from 'node:os';

/** Set for everything the devkit spawns. */
export const TOOL_ENV = Object.freeze({
  TURBO_TELEMETRY_DISABLED: '1',
  DO_NOT_TRACK: '1',
  NPM_CONFIG_UPDATE_NOTIFIER: 'false',
  NPM_CONFIG_FUND: 'false',
  NPM_CONFIG_AUDIT: 'false',
});

/**
 * @param {Record<string, string>} [extra]
 * @returns {NodeJS.ProcessEnv}
 */
export function toolEnv(extra = {}) {
  return { ...process.env, ...TOOL_ENV, ...extra };
}

/**
 * One progress line, prefixed so it stands out among the tools' output.
 * @param {string} message
 */
export function say(message) {
  process.stdout.write(`vpio: ${message}\n`);
}

/**
 * Runs a command with the terminal inherited and resolves with its exit code
 * (128 + signal number when a signal ended it). While it runs, Ctrl-C is left
 * to the child (the terminal sends it to the whole process group) and SIGTERM
 * is forwarded, so we still get to report what happened.
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd?: string, env?: Record<string, string>, verbose?: boolean }} [options]
 * @returns {Promise<number>}
 */
export function run(cmd, args, { cwd, env, verbose = false } = {}) {
  if (verbose) say(`$ ${[cmd, ...args].join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: toolEnv(env), stdio: 'inherit' });
    const ignoreInt = () => {};
    const forwardTerm = () => child.kill('SIGTERM');
    process.on('SIGINT', ignoreInt);
    process.on('SIGTERM', forwardTerm);
    const done = () => {
      process.off('SIGINT', ignoreInt);
      process.off('SIGTERM', forwardTerm);
    };
    child.on('error', (err) => {
      done();
      reject(new Error(`cannot run ${cmd}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code, signal) => {
      done();
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
}

/**
 * Runs a short command to completion and captures its output.
 * `missing` is true when the program does not exist.
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd?: string, env?: Record<string, string>, timeoutMs?: number }} [options]
 * @returns {{ status: number, stdout: string, stderr: string, missing: boolean }}
 */
export function capture(cmd, args, { cwd, env, timeoutMs = 120_000 } = {}) {
  const r = spawnSync(cmd, args, {
    cwd,
    env: toolEnv(env),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  const missing = /** @type {NodeJS.ErrnoException | undefined} */ (r.error)?.code === 'ENOENT';
  if (r.error && !missing) throw new Error(`cannot run ${cmd}: ${r.error.message}`, { cause: r.error });
  return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '', missing };
}
