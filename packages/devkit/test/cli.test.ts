import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, '..', 'bin', 'vpio-dev.mjs');
const vpioDev = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

describe('vpio-dev command line', () => {
  it('lists every command in --help', () => {
    const r = vpioDev('--help');
    expect(r.status).toBe(0);
    for (const cmd of ['bootstrap', 'build', 'test', 'lint', 'bench', 'demo']) expect(r.stdout).toMatch(new RegExp(`^  ${cmd} `, 'm'));
  });

  it('explains each command without running it', () => {
    for (const cmd of ['bootstrap', 'build', 'test', 'lint', 'bench', 'demo']) {
      const r = vpioDev(cmd, '--help');
      expect(r.status, cmd).toBe(0);
      expect(r.stdout, cmd).toMatch(new RegExp(`^usage: vpio-dev ${cmd} `));
      expect(r.stdout, cmd).not.toMatch(/^vpio: /m);
    }
  });

  it('rejects an unknown command or option with exit code 2', () => {
    expect(vpioDev('deploy')).toMatchObject({ status: 2, stderr: expect.stringContaining('unknown command "deploy"') });
    expect(vpioDev('build', '--json')).toMatchObject({ status: 2, stderr: expect.stringContaining('unknown option "--json"') });
  });
});
