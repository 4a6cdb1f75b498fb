// System packages. Each package.json may declare the Debian packages its
// build or tests need:   "vpio": { "debian": ["iproute2", "clang"] }
// and, separately, what only its benchmarks need (baselines such as DPDK):
//                         "vpio": { "debianBench": ["dpdk-dev"] }
// Bootstrap installs the union (as root) or prints the command to run;
// only `npm run bench` adds the bench lists, so tests and the demo never
// pay for them.
import { existsSync, readdirSync } from 'node:fs';
import { capture, run, say } from './proc.mjs';

/** Debian package names (policy §5.6.1), optionally ":arch"-qualified. */
const DEBIAN_NAME = /^[a-z0-9][a-z0-9+.-]+(?::[a-z0-9-]+)?$/;

/**
 * The "vpio.debian" list of one manifest, validated.
 * @param {Record<string, any>} manifest  a parsed package.json
 * @param {string} file                   where it came from, for errors
 * @returns {string[]}
 */
export function debianPackagesOf(manifest, file, key = 'debian') {
  const list = manifest?.vpio?.[key];
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new Error(`${file}: "vpio.${key}" must be an array of Debian package names`);
  for (const name of list) {
    if (typeof name !== 'string' || !DEBIAN_NAME.test(name)) {
      throw new Error(`${file}: "vpio.${key}" holds ${JSON.stringify(name)}, which is not a Debian package name`);
    }
  }
  return list;
}

/**
 * The sorted union of every manifest's "vpio.debian" (and, for benchmarks,
 * "vpio.debianBench") plus `extra`.
 * @param {Array<{ manifest: Record<string, any>, file: string }>} manifests
 * @param {string[]} [extra]  what the current command needs itself
 * @param {{ bench?: boolean }} [options]
 * @returns {string[]}
 */
export function collectDebianPackages(manifests, extra = [], { bench = false } = {}) {
  const all = new Set(extra);
  for (const { manifest, file } of manifests) {
    for (const name of debianPackagesOf(manifest, file)) all.add(name);
    if (bench) for (const name of debianPackagesOf(manifest, file, 'debianBench')) all.add(name);
  }
  return [...all].sort();
}

/**
 * Which of `wanted` are not installed, given
 * `dpkg-query -W -f='${Package}\t${Status}\n' ...` output.
 * Packages dpkg has never heard of print nothing, so they count as missing.
 * @param {string[]} wanted
 * @param {string} dpkgOutput
 * @returns {string[]}
 */
export function missingFromDpkg(wanted, dpkgOutput) {
  const installed = new Set();
  for (const line of dpkgOutput.split('\n')) {
    const [name, status] = line.split('\t');
    if (name && status === 'install ok installed') installed.add(name);
  }
  return wanted.filter((pkg) => !installed.has(pkg.split(':')[0]));
}

/**
 * Asks dpkg which of `wanted` are missing.
 * @param {string[]} wanted
 * @returns {string[] | null} the missing ones; null when there is no dpkg
 */
export function queryMissing(wanted) {
  if (wanted.length === 0) return [];
  const r = capture('dpkg-query', ['-W', '-f=${Package}\t${Status}\n', ...wanted]);
  if (r.missing) return null;
  return missingFromDpkg(wanted, r.stdout);
}

/** True when apt has package lists to install from. */
function aptListsPresent() {
  const dir = '/var/lib/apt/lists';
  return existsSync(dir) && readdirSync(dir).some((f) => /_Packages(\.|$)/.test(f));
}

/**
 * Makes sure `wanted` are installed: as root, installs them with apt-get
 * (refreshing the lists only when they are empty or the install fails);
 * otherwise prints the command to run and fails.
 * @param {string[]} wanted
 * @param {{ isRoot?: boolean, verbose?: boolean }} [options]
 * @returns {Promise<void>}
 */
export async function ensureDebianPackages(wanted, { isRoot = process.getuid?.() === 0, verbose = false } = {}) {
  const missing = queryMissing(wanted);
  if (missing === null) {
    if (wanted.length === 0) return say('checking Debian packages ... none needed (no dpkg here)');
    throw new Error(
      `no dpkg-query here (not Debian?): install the equivalents of ${wanted.join(' ')} ` +
        'yourself, then rerun with --skip-debian',
    );
  }
  if (missing.length === 0) return say(`checking Debian packages ... ok (${wanted.length})`);
  if (!isRoot) {
    say(`checking Debian packages ... missing: ${missing.join(' ')}`);
    throw new Error(`install them first:\n  sudo apt-get install -y ${missing.join(' ')}`);
  }
  say(`checking Debian packages ... installing ${missing.join(' ')}`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  const quiet = verbose ? [] : ['-q'];
  const install = () =>
    run('apt-get', ['install', ...quiet, '-y', '--no-install-recommends', ...missing], { env, verbose });
  const update = () => run('apt-get', ['update', ...quiet], { env, verbose });
  let updated = false;
  if (!aptListsPresent()) {
    if ((await update()) !== 0) throw new Error('apt-get update failed');
    updated = true;
  }
  let code = await install();
  if (code !== 0 && !updated) {
    say('apt-get install failed; refreshing the package lists and retrying');
    if ((await update()) !== 0) throw new Error('apt-get update failed');
    code = await install();
  }
  if (code !== 0) throw new Error(`apt-get install ${missing.join(' ')} failed (exit ${code})`);
  const still = queryMissing(missing) ?? [];
  if (still.length > 0) throw new Error(`still missing after apt-get install: ${still.join(' ')}`);
  say('Debian packages installed');
}
