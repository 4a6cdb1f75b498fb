// npm dependencies: install them when node_modules is missing or older than
// the lockfile, and leave them alone otherwise (a no-op costs two stat calls).
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { run, say } from './proc.mjs';

/**
 * @typedef {{ action: 'none' | 'ci' | 'install', reason: string }} NpmPlan
 */

/** @param {string} file */
function mtimeMs(file) {
  return existsSync(file) ? statSync(file).mtimeMs : null;
}

/**
 * Decides whether the root's dependencies need installing. npm writes
 * node_modules/.package-lock.json after every install, so a lockfile newer
 * than it means the dependencies changed since.
 * @param {string} root
 * @returns {NpmPlan}
 */
export function planNpmInstall(root) {
  const lock = mtimeMs(join(root, 'package-lock.json'));
  const installed = mtimeMs(join(root, 'node_modules', '.package-lock.json'));
  if (lock === null) {
    const manifest = mtimeMs(join(root, 'package.json')) ?? 0;
    if (installed === null) return { action: 'install', reason: 'no package-lock.json and no node_modules' };
    if (manifest > installed) return { action: 'install', reason: 'no package-lock.json; package.json changed' };
    return { action: 'none', reason: 'node_modules is up to date' };
  }
  if (!existsSync(join(root, 'node_modules'))) return { action: 'ci', reason: 'node_modules is missing' };
  if (installed === null) return { action: 'ci', reason: 'node_modules was not installed by npm' };
  if (lock > installed) return { action: 'ci', reason: 'package-lock.json is newer than node_modules' };
  return { action: 'none', reason: 'node_modules is up to date' };
}

/**
 * Installs the npm dependencies when planNpmInstall says so.
 * @param {string} root
 * @param {{ verbose?: boolean }} [options]
 * @returns {Promise<void>}
 */
export async function ensureNpmDeps(root, { verbose = false } = {}) {
  const plan = planNpmInstall(root);
  if (plan.action === 'none') return say('checking npm dependencies ... ok');
  say(`checking npm dependencies ... ${plan.reason}: npm ${plan.action}`);
  const code = await run('npm', [plan.action, '--no-audit', '--no-fund'], { cwd: root, verbose });
  if (code !== 0) throw new Error(`npm ${plan.action} failed (exit ${code})`);
}
