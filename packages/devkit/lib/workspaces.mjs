// The repository's layout: where the root is and which folders are npm
// workspaces (the root package.json's "workspaces" globs).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** packages/devkit */
export const DEVKIT_DIR = resolve(fileURLToPath(new URL('..', import.meta.url)));
/** The repository root (packages/devkit/../..). */
export const REPO_ROOT = resolve(DEVKIT_DIR, '..', '..');

/**
 * @typedef {object} Workspace
 * @property {string} name      package name ("@vpio/ring")
 * @property {string} dir       absolute folder
 * @property {string} relDir    folder relative to the root ("packages/ring")
 * @property {string} file      absolute path of its package.json
 * @property {Record<string, any>} manifest  its parsed package.json
 */

/**
 * @param {string} file
 * @returns {any}
 */
export function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read ${file}: ${/** @type {Error} */ (err).message}`, { cause: err });
  }
}

/**
 * Lists the workspaces named by the root package.json, sorted by folder.
 * Supports the two glob shapes npm users write here: "dir/*" and "dir".
 * @param {string} [root]
 * @returns {Workspace[]}
 */
export function listWorkspaces(root = REPO_ROOT) {
  const patterns = readJson(join(root, 'package.json')).workspaces ?? [];
  const dirs = new Set();
  for (const pattern of patterns) {
    if (pattern.endsWith('/*') && !pattern.slice(0, -2).includes('*')) {
      const parent = join(root, pattern.slice(0, -2));
      if (!existsSync(parent)) continue;
      for (const entry of readdirSync(parent, { withFileTypes: true })) {
        if (entry.isDirectory()) dirs.add(join(parent, entry.name));
      }
    } else if (!pattern.includes('*')) {
      dirs.add(join(root, pattern));
    } else {
      throw new Error(`workspace pattern "${pattern}" is not supported by vpio-dev (use "dir/*" or "dir")`);
    }
  }
  const workspaces = [];
  for (const dir of dirs) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const manifest = readJson(file);
    workspaces.push({ name: manifest.name ?? relative(root, dir), dir, relDir: relative(root, dir), file, manifest });
  }
  return workspaces.sort((a, b) => a.relDir.localeCompare(b.relDir));
}
