import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { planNpmInstall } from '../lib/npm.mjs';

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A root with the given files, each stamped with its age in seconds. */
function root(files: Record<string, number>): string {
  const dir = mkdtempSync(join(tmpdir(), 'vpio-npm-'));
  temps.push(dir);
  const now = Date.now() / 1000;
  for (const [rel, ageS] of Object.entries(files)) {
    const file = join(dir, rel);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, '{}');
    utimesSync(file, now - ageS, now - ageS);
  }
  return dir;
}

describe('planNpmInstall', () => {
  it('runs npm ci on a fresh clone', () => {
    expect(planNpmInstall(root({ 'package.json': 10, 'package-lock.json': 10 })).action).toBe('ci');
  });

  it('does nothing when node_modules was installed after the lockfile changed', () => {
    const dir = root({ 'package.json': 30, 'package-lock.json': 20, 'node_modules/.package-lock.json': 10 });
    expect(planNpmInstall(dir)).toEqual({ action: 'none', reason: 'node_modules is up to date' });
  });

  it('runs npm ci when the lockfile is newer than the installed tree', () => {
    const dir = root({ 'package.json': 30, 'package-lock.json': 5, 'node_modules/.package-lock.json': 10 });
    expect(planNpmInstall(dir)).toEqual({ action: 'ci', reason: 'package-lock.json is newer than node_modules' });
  });

  it('runs npm ci when node_modules exists but npm did not write it', () => {
    const dir = root({ 'package.json': 30, 'package-lock.json': 20, 'node_modules/x/index.js': 10 });
    expect(planNpmInstall(dir).action).toBe('ci');
  });

  it('falls back to npm install only without a lockfile', () => {
    expect(planNpmInstall(root({ 'package.json': 10 })).action).toBe('install');
    expect(planNpmInstall(root({ 'package.json': 5, 'node_modules/.package-lock.json': 10 })).action).toBe('install');
    expect(planNpmInstall(root({ 'package.json': 20, 'node_modules/.package-lock.json': 10 })).action).toBe('none');
  });
});
