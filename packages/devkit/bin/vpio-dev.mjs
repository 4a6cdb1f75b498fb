#!/usr/bin/env node
// vpio-dev: the one entry point behind `npm test`, `npm run build|lint|bench|
// demo|bootstrap`. Node builtins only: it must run on a fresh clone, before
// `npm ci` (it is what runs `npm ci`).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { collectDebianPackages, ensureDebianPackages } from '../lib/debian.mjs';
import { ensureNpmDeps } from '../lib/npm.mjs';
import { run, say } from '../lib/proc.mjs';
import { clearReports, formatSummary, readReports, summarize, summaryLine } from '../lib/summary.mjs';
import { plannedTasks, runTurbo } from '../lib/turbo.mjs';
import { listWorkspaces, readJson, REPO_ROOT } from '../lib/workspaces.mjs';

/**
 * What `npm run demo` runs: `vpio demo` (the platform, five minios guests,
 * live rates, a summary, a checked teardown). It needs the CLI and the
 * minios guest built (minios is found at run time, not as a dependency).
 */
const DEMO = { entry: 'packages/cli/dist/bin/vpio.js', args: ['demo'], owner: 'packages/cli', needs: ['packages/cli', 'minios'] };

/** Debian packages our builds need whatever the workspaces declare: C, make, node-gyp. */
const BUILD_TOOLS = ['build-essential', 'python3'];

const COMMON_OPTIONS = `
  --filter=<pkg>   only these workspaces (turbo filter syntax; repeatable)
  --skip-debian    do not check Debian packages (non-Debian machines)
  --verbose        show every command and the full build logs
  --help           this text`;

/**
 * @typedef {object} Command
 * @property {string} summary      one line for --help
 * @property {string} help         the command's own --help
 * @property {boolean} passthrough unknown arguments go to the program it runs
 * @property {(ctx: Context) => Promise<number>} run  resolves with the exit code
 */

/** @type {Record<string, Command>} */
const COMMANDS = {
  bootstrap: {
    summary: 'install Debian packages and npm dependencies, then build everything',
    help: `Prepares a fresh clone:
  1. Debian packages: ${BUILD_TOOLS.join(', ')} plus every "vpio.debian" list
     in the workspaces' package.json files. Installed with apt-get when
     running as root; otherwise the sudo command to run is printed.
  2. npm ci, when node_modules is missing or older than package-lock.json.
  3. turbo run build (logs of failed tasks only, unless --verbose).`,
    passthrough: false,
    run: prepareAndBuild,
  },
  build: {
    summary: 'build every workspace (checks Debian packages and npm dependencies first)',
    help: 'Checks Debian packages and npm dependencies as bootstrap does, then runs turbo run build.',
    passthrough: false,
    run: prepareAndBuild,
  },
  test: {
    summary: 'run every workspace\'s tests and eslint; end with "N passed, N failed"',
    help: `Runs turbo run test (which builds first) one task at a time, then
eslint over the whole repository, then prints a table per workspace and,
as the very last line, "N passed, N failed". Counted from each workspace's
.test-results/*.json (vitest's JSON report): a test file that failed to
load counts as one failure, a workspace whose tests never reported (the
build failed, the task crashed) counts as one failure, eslint counts as one
check. Exits non-zero when anything failed.
  --no-lint        skip the eslint check`,
    passthrough: false,
    run: test,
  },
  lint: {
    summary: 'eslint every workspace (turbo run lint)',
    help: 'Installs npm dependencies if needed, then runs turbo run lint (which builds dependencies first).',
    passthrough: false,
    run: async (ctx) => {
      await prepare(ctx, { debian: null });
      const outputLogs = ctx.verbose ? 'full' : 'errors-only';
      return (await runTurbo(REPO_ROOT, 'lint', { filters: ctx.filters, outputLogs, verbose: ctx.verbose })).exitCode;
    },
  },
  bench: {
    summary: 'run every workspace\'s benchmarks, one at a time',
    help: `Builds, then runs turbo run bench one package at a time with full output.
Arguments after the options go to every benchmark, e.g.
  npm run bench -- --seconds 5 --json`,
    passthrough: true,
    run: async (ctx) => {
      await prepare(ctx, { debian: BUILD_TOOLS, bench: true });
      const built = await build(ctx);
      // --only: the build ran above, quietly (a package whose build failed
      // fails its bench; the others still run). One at a time: benchmarks
      // pin threads to both cores and would measure each other otherwise.
      const bench = await runTurbo(REPO_ROOT, 'bench', {
        filters: ctx.filters,
        concurrency: 1,
        continueMode: 'always',
        only: true,
        outputLogs: 'full',
        logPrefix: 'none',
        passthrough: ctx.rest,
        verbose: ctx.verbose,
      });
      return bench.exitCode || built;
    },
  },
  demo: {
    summary: `bootstrap, then run the demo (vpio demo)`,
    help: `Bootstraps (Debian packages, npm dependencies, then builds ${DEMO.needs.join(' and ')}
and what they depend on), then runs
  node ${DEMO.entry} ${DEMO.args.join(' ')} [args...]     (vpio demo --help: --seconds, --json, ...)
Arguments after the options are passed to it (use -- before any that start with -).`,
    passthrough: true,
    run: demo,
  },
};

const USAGE = `usage: vpio-dev <command> [options] [-- args]

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

options:${COMMON_OPTIONS}

"vpio-dev <command> --help" explains a command.`;

/**
 * @typedef {object} Context
 * @property {string} command
 * @property {string[]} filters
 * @property {boolean} verbose
 * @property {boolean} skipDebian
 * @property {boolean} lint
 * @property {string[]} rest   arguments for the program (bench, demo)
 */

/**
 * @param {string[]} argv
 * @returns {Context & { help: boolean }}
 */
function parseCommandLine(argv) {
  const [command = '', ...args] = argv;
  /** @type {Context & { help: boolean }} */
  const ctx = { command, filters: [], verbose: false, skipDebian: false, lint: true, help: false, rest: [] };
  const spec = COMMANDS[command];
  for (let i = 0; i < args.length; i++) {
    const arg = /** @type {string} */ (args[i]);
    if (arg === '--') {
      ctx.rest.push(...args.slice(i + 1));
      break;
    } else if (arg === '--help' || arg === '-h') ctx.help = true;
    else if (arg === '--verbose' || arg === '-v') ctx.verbose = true;
    else if (arg === '--skip-debian') ctx.skipDebian = true;
    else if (arg === '--no-lint' && command === 'test') ctx.lint = false;
    else if (arg.startsWith('--filter=')) ctx.filters.push(arg.slice('--filter='.length));
    else if (arg === '--filter' && i + 1 < args.length) ctx.filters.push(/** @type {string} */ (args[++i]));
    else if (spec?.passthrough) ctx.rest.push(arg);
    else throw new UsageError(`unknown option "${arg}" for "${command}"`);
  }
  return ctx;
}

class UsageError extends Error {}

/**
 * Bootstrap steps (a) and (b): Debian packages, then npm dependencies.
 * @param {Context} ctx
 * @param {{ debian: string[] | null, bench?: boolean }} needs  what this command needs; null: skip the
 *   Debian check; bench: also every "vpio.debianBench" list
 */
async function prepare(ctx, { debian, bench = false }) {
  if (debian && !ctx.skipDebian) {
    const manifests = [{ manifest: readJson(join(REPO_ROOT, 'package.json')), file: 'package.json' }];
    for (const w of listWorkspaces(REPO_ROOT)) manifests.push({ manifest: w.manifest, file: `${w.relDir}/package.json` });
    await ensureDebianPackages(collectDebianPackages(manifests, debian, { bench }), { verbose: ctx.verbose });
  }
  await ensureNpmDeps(REPO_ROOT, { verbose: ctx.verbose });
}

/**
 * Bootstrap (a), (b) and (c).
 * @param {Context} ctx
 */
async function prepareAndBuild(ctx) {
  await prepare(ctx, { debian: BUILD_TOOLS });
  return build(ctx);
}

/**
 * Bootstrap step (c). A failed package does not stop the others.
 * @param {Context} ctx
 * @param {string[]} [filters]  default: the command line's
 * @returns {Promise<number>}
 */
async function build(ctx, filters = ctx.filters) {
  say(`building (turbo run build${filters.map((f) => ` --filter=${f}`).join('')})`);
  const r = await runTurbo(REPO_ROOT, 'build', {
    filters,
    continueMode: 'dependencies-successful',
    outputLogs: ctx.verbose ? 'full' : 'errors-only',
    verbose: ctx.verbose,
  });
  if (r.exitCode !== 0) say(`build failed (turbo exit ${r.exitCode})`);
  return r.exitCode;
}

/**
 * @param {Context} ctx
 * @returns {Promise<number>}
 */
async function test(ctx) {
  try {
    return await runTests(ctx);
  } catch (err) {
    // Whatever broke, CI still gets its last line.
    process.stderr.write(`vpio: error: ${/** @type {Error} */ (err).message}\n`);
    process.stdout.write(`${summaryLine({ passed: 0, failed: 1 })}\n`);
    return 1;
  }
}

/**
 * @param {Context} ctx
 * @returns {Promise<number>}
 */
async function runTests(ctx) {
  await prepare(ctx, { debian: BUILD_TOOLS });
  const workspaces = listWorkspaces(REPO_ROOT);
  clearReports(workspaces.map((w) => w.dir));
  const expected = new Set(
    ctx.filters.length > 0
      ? plannedTasks(REPO_ROOT, 'test', ctx.filters).map((t) => t.name)
      : workspaces.filter((w) => w.manifest.scripts?.test).map((w) => w.name),
  );
  // One task at a time: test suites pin threads and C programs to the two
  // cores and time them; two suites side by side would slow each other into
  // timeouts and flaky results. Vitest still spreads each suite's files over
  // the cores, so serial tasks cost little wall time.
  const turbo = await runTurbo(REPO_ROOT, 'test', {
    filters: ctx.filters,
    concurrency: 1,
    continueMode: 'dependencies-successful',
    outputLogs: ctx.verbose ? 'full' : undefined,
    summarize: true,
    verbose: ctx.verbose,
  });
  let lint = null;
  if (ctx.lint) {
    say('linting the whole repository (eslint .)');
    const eslint = join(REPO_ROOT, 'node_modules', '.bin', 'eslint');
    lint = { ok: (await run(eslint, ['.'], { cwd: REPO_ROOT, verbose: ctx.verbose })) === 0 };
  }
  const summary = summarize({
    packages: workspaces.map((w) => ({ name: w.name, expected: expected.has(w.name), reports: readReports(w.dir) })),
    taskExit: turbo.taskExit,
    lint,
    turboExitCode: turbo.exitCode,
  });
  process.stdout.write(`\n${formatSummary(summary)}\n`);
  return summary.failed > 0 || turbo.exitCode !== 0 ? 1 : 0;
}

/**
 * @param {Context} ctx
 * @returns {Promise<number>}
 */
async function demo(ctx) {
  await prepare(ctx, { debian: BUILD_TOOLS });
  if (!existsSync(join(REPO_ROOT, DEMO.owner, 'package.json'))) {
    throw new Error(`the demo ${DEMO.entry} is missing: ${DEMO.owner} has not been written yet`);
  }
  // The demo and what it depends on: a broken unrelated package must not stop it.
  const built = await build(ctx, DEMO.needs.map((d) => `./${d}...`));
  if (built !== 0) return built;
  const entry = join(REPO_ROOT, DEMO.entry);
  if (!existsSync(entry)) throw new Error(`the demo ${DEMO.entry} is missing: building ${DEMO.owner} did not produce it`);
  const args = [...DEMO.args, ...ctx.rest];
  say(`running vpio ${args.join(' ')}`);
  return run(process.execPath, [entry, ...args], { cwd: REPO_ROOT, verbose: ctx.verbose });
}

async function main() {
  const argv = process.argv.slice(2);
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return argv.length === 0 ? 2 : 0;
  }
  const spec = COMMANDS[/** @type {string} */ (argv[0])];
  if (!spec) throw new UsageError(`unknown command "${argv[0]}"`);
  const ctx = parseCommandLine(argv);
  if (ctx.help) {
    process.stdout.write(`usage: vpio-dev ${ctx.command} [options]${spec.passthrough ? ' [args...]' : ''}\n\n${spec.help}\n\noptions:${COMMON_OPTIONS}\n`);
    return 0;
  }
  return spec.run(ctx);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`vpio: error: ${err instanceof Error ? err.message : String(err)}\n`);
    if (err instanceof UsageError) process.stderr.write('run "vpio-dev --help" for usage\n');
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
