/**
 * Scenario 2 (no daemon, bad arguments, doctor): objective: every command
 * without a platform says how to start one; bad flags name the flag; every
 * command has --help; doctor runs its checks for real and reports a missing
 * one (cgroups as the unprivileged user `nobody`, where it really is missing).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempBase, vpio } from './helpers.js';

describe('vpio without a platform, bad arguments, doctor', () => {
  it('2.1 ls, run, stats, destroy and down without a platform say how to start it', async () => {
    const t = tempBase();
    try {
      for (const args of [['ls'], ['run', '/bin/true'], ['stats'], ['destroy', 'x'], ['down']]) {
        const r = await vpio([args[0]!, '--dir', t.dir, ...args.slice(1)]);
        expect(r.code, args.join(' ')).toBe(1);
        expect(r.stderr).toContain(`no vpio platform is running on ${t.dir}: start it with \`vpio up --dir ${t.dir}\``);
      }
    } finally {
      t.cleanup();
    }
  });

  it('2.2 bad flags name the flag and exit 2', async () => {
    const r = await vpio(['up', '--cores', 'x', '--dir', '/nonexistent/x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--cores: expected an integer in [-1, 1023], got "x"');
    const m = await vpio(['up', '--mode', 'turbo']);
    expect(m.stderr).toContain('--mode: expected host, xen or auto (the switch: --switch-mode event|poll), got "turbo"');
    const sm = await vpio(['up', '--switch-mode', 'turbo']);
    expect(sm.code).toBe(2);
    expect(sm.stderr).toContain('--switch-mode: expected event or poll, got "turbo"');
    const u = await vpio(['ls', '--frobnicate']);
    expect(u.code).toBe(2);
    expect(u.stderr).toContain("Unknown option '--frobnicate'");
    const c = await vpio(['launch']);
    expect(c.stderr).toMatch(/command: expected one of up, run, ls, stats, .*destroy, down, doctor.*, got "launch"/);
  });

  it('2.2x xen-mode flags: --mode xen off Xen says why (exit 1); --kernel excludes host-mode guests and vice versa (exit 2)', async () => {
    const x = await vpio(['up', '--mode', 'xen', '--dir', '/nonexistent/x']);
    expect(x.code).toBe(1);
    expect(x.stderr).toMatch(/--mode xen needs a Xen dom0: .*capabilities.*use --mode host/);
    const k = await vpio(['run', '--kernel', '/k', '/bin/true']);
    expect(k.code).toBe(2);
    expect(k.stderr).toContain('<binary>: expected nothing with --kernel');
    const l = await vpio(['run', '--kernel', '/k', '--linux']);
    expect(l.code).toBe(2);
    expect(l.stderr).toContain('--linux: expected nothing with --kernel');
    const r = await vpio(['run', '--ramdisk', '/r', '/bin/true']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--ramdisk: expected only with --kernel');
    const h = await vpio(['run', '--help']);
    expect(h.stdout).toContain('--kernel PATH');
    expect(h.stdout).toMatch(/Host mode .*\n[\s\S]*Xen mode/);
    const d = await vpio(['doctor', '--mode', 'xen', '--json']);
    expect(d.code).toBe(1);
    const dj = JSON.parse(d.stdout) as { mode: string; checks: Array<{ name: string; ok: boolean; fix?: string }> };
    expect(dj.mode).toBe('xen');
    expect(dj.checks.map((c) => c.name)).toEqual(['xen-control-domain', 'dev-xen-evtchn', 'dev-xen-gntalloc', 'dev-xen-gntdev', 'dev-xen-privcmd', 'xenstored', 'xl', 'stock-vif-drivers', 'gntalloc-limit', 'gnttab-max-frames']);
    expect(dj.checks.find((c) => c.name === 'xen-control-domain')).toMatchObject({ ok: false, fix: expect.stringContaining('--mode host') });
  });

  it('2.2m --minios: a readable config of at most 3584 bytes, no binary/--linux beside it, --stats-interval only with it (exit 2)', async () => {
    const t = tempBase();
    try {
      const big = join(t.base, 'big.click');
      writeFileSync(big, `// ${'x'.repeat(4000)}\n`);
      const cases: Array<[string[], string]> = [
        [['run', '--minios', join(t.base, 'missing.click')], '--minios: expected a readable configuration file (ENOENT)'],
        [['run', '--minios', big], '--minios: expected a configuration of at most 3584 bytes (it is 4004)'],
        [['run', '--minios', big, '/bin/true'], '<binary>: expected nothing with --minios'],
        [['run', '--minios', big, '--linux'], '--linux: expected nothing with --minios'],
        [['run', '--stats-interval', '100', '/bin/true'], '--stats-interval: expected only with --minios'],
      ];
      for (const [args, msg] of cases) {
        const r = await vpio([...args, '--dir', t.dir]);
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.stderr).toContain(msg);
      }
      expect((await vpio(['run', '--help'])).stdout).toContain('vpio run --minios CONFIG');
    } finally {
      t.cleanup();
    }
  });

  it('2.3 every command has --help', async () => {
    for (const cmd of ['up', 'run', 'ls', 'stats', 'destroy', 'down', 'doctor']) {
      const r = await vpio([cmd, '--help']);
      expect(r.code, cmd).toBe(0);
      expect(r.stdout).toContain(`usage: vpio ${cmd}`);
    }
    expect((await vpio(['--help'])).stdout).toContain('usage: vpio <command>');
  });

  it('2.4 doctor --json reports every check; as root here all pass', async () => {
    const r = await vpio(['doctor', '--json']);
    const report = JSON.parse(r.stdout);
    expect(report.checks.map((c: { name: string }) => c.name)).toEqual(['user-namespaces', 'namespaces', 'seccomp', 'memfd-seals', 'no-new-privs', 'pidfd', 'cgroups']);
    expect(report).toMatchObject({ ok: true, mode: 'root' });
    expect(r.code).toBe(0);
  });

  it('2.5 doctor reports cgroups missing, with the fix, for an unprivileged user (exit 1)', async () => {
    const r = await vpio(['doctor', '--json'], { uid: 65534 });
    const report = JSON.parse(r.stdout);
    expect(r.code).toBe(1);
    expect(report.ok).toBe(false);
    const cg = report.checks.find((c: { name: string }) => c.name === 'cgroups');
    expect(cg).toMatchObject({ ok: false, reason: expect.stringContaining('cgroup'), fix: expect.stringContaining('Delegate=yes') });
    expect(report.checks.find((c: { name: string }) => c.name === 'memfd-seals')).toEqual({ name: 'memfd-seals', ok: true });
    const human = await vpio(['doctor'], { uid: 65534 });
    expect(human.stdout).toMatch(/MISSING {2}cgroups: .*\n {9}fix: /);
  });
});
