/**
 * Scenario 5 (`vpio up -f`, end to end): objective: a topology file is
 * checked whole before anything starts (`--check` exits 0/1; an invalid file
 * starts no platform); a valid one brings the platform up with the file's
 * switch settings and its guests (`/bin/sleep`, no netfront) with their vifs,
 * VLANs and policies, which `vpio ls` and `ls --json` show; `vpio down`
 * removes all; a guest that cannot start stops the apply, names the guest,
 * and the platform is torn down (exit 1). Real processes throughout.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alive, root, tempBase, vpio } from './helpers.js';

const VALID = `# two guests
switch:
  cores: -1
  mode: event
guests:
  - name: fw
    command: [/bin/sleep, 60]
    env: { ROLE: fw }
    memory: 64
    vifs:
      - mac: 02:00:00:00:01:01
        trunk: [10, 20]
        native-vlan: 10
        max-macs: 8
  - name: tenant
    command: [/bin/sleep, 60]
    vifs:
      - mac: 02:00:00:00:02:01
        vlan: 20
        rate-pps: 10k
        burst: 64
        rate-bps: 100M
        flood-pps: 50
        lossless: true
      - {}
`;

describe('vpio up -f topology.yaml', () => {
  const t = tempBase();
  const pids: number[] = [];
  const file = (name: string, text: string): string => {
    const p = join(t.base, name);
    writeFileSync(p, text);
    return p;
  };

  afterAll(() => {
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    t.cleanup();
  });

  it('5.1 --check: 0 with a summary for a valid file (and the shipped example), 1 with every problem for an invalid one', async () => {
    const ok = await vpio(['up', '-f', file('ok.yaml', VALID), '--check', '--dir', t.dir]);
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect(ok.stdout).toBe(`${join(t.base, 'ok.yaml')}: valid: 2 guests (fw, tenant), 3 vifs, switch cores -1, event mode\n`);
    const example = await vpio(['up', '--check', '-f', join(root, 'examples', 'topology.yaml')]);
    expect(example.code).toBe(0);

    const badPath = file('bad.yaml', VALID.replace('vlan: 20', 'vlan: 5000').replace('name: tenant', 'name: fw'));
    const bad = await vpio(['up', '-f', badPath, '--check', '--dir', t.dir]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe([
      `vpio up: ${badPath} is not a valid topology (2 problems); nothing was started:`,
      `  ${badPath}:15:11: guests[1].name: expected a name no other guest has, got "fw" (also guests[0], line 6)`,
      `  ${badPath}:19:15: guests[1].vifs[0].vlan: expected an integer in [1, 4094], got 5000`,
      '',
    ].join('\n'));
    expect(existsSync(t.dir)).toBe(false); // nothing was started, not even the directory

    const missing = await vpio(['up', '-f', join(t.base, 'nope.yaml'), '--check']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`cannot read the topology ${join(t.base, 'nope.yaml')}: ENOENT`);
    const lone = await vpio(['up', '--check']);
    expect(lone.code).toBe(2);
    expect(lone.stderr).toContain('--check: expected a topology to check (vpio up -f FILE --check)');
  });

  it('5.2 an invalid file starts no platform', async () => {
    const r = await vpio(['up', '-f', file('bad2.yaml', 'guests:\n  - name: a\n    command: [/bin/sleep, 60]\n    vifs: [{ vlna: 3 }]\n'), '--dir', t.dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bad2.yaml:4:14: guests[0].vifs[0]: expected one of the keys');
    expect(r.stderr).toContain('(did you mean "vlan"?), got "vlna"');
    expect(existsSync(join(t.dir, 'vpio.pid'))).toBe(false);
    expect((await vpio(['ls', '--dir', t.dir])).stderr).toContain('no vpio platform is running');
    // a guest binary that is not there is a problem of the file, found before anything starts
    const nobin = file('nobin.yaml', 'guests:\n  - name: a\n    command: [/bin/sleep, 1]\n  - name: b\n    command:\n      - /nonexistent/guest\n');
    const r2 = await vpio(['up', '-f', nobin, '--dir', t.dir]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain(`${nobin}:6:9: guests[1].command[0]: expected an executable file on this host, got "/nonexistent/guest" (ENOENT)`);
    expect(existsSync(join(t.dir, 'vpio.pid'))).toBe(false);
  });

  it('5.3 a valid file brings the guests up with their vifs, VLANs and policies; down removes all', async () => {
    const up = await vpio(['up', '-f', file('ok.yaml', VALID), '--dir', t.dir]);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    const pid = Number(/platform up \(pid (\d+)\)/.exec(up.stdout)?.[1]);
    pids.push(pid);
    expect(up.stdout).toMatch(/vpio: guest "fw" is domain \d+ \(pid \d+\), vifs 02:00:00:00:01:01 trunk 10\+20\n/);
    expect(up.stdout).toMatch(/vpio: guest "tenant" is domain \d+ \(pid \d+\), vifs 02:00:00:00:02:01 vlan 20, 02:76:[0-9a-f]{2}:/);

    const ls = JSON.parse((await vpio(['ls', '--dir', t.dir, '--json'])).stdout);
    expect(ls.domains.map((d: { name: string; argv: string[]; state: string }) => [d.name, d.state, d.argv])).toEqual([
      ['fw', 'running', ['/bin/sleep', '60']],
      ['tenant', 'running', ['/bin/sleep', '60']],
    ]);
    const [fw, tenant] = ls.domains;
    expect(fw.vifs).toEqual([expect.objectContaining({ devid: 0, mac: '02:00:00:00:01:01', backendStateName: 'InitWait', policy: { macLock: true, lossless: false, trunk: { vids: [10, 20], nativeVid: 10 }, maxMacs: 8 } })]);
    expect(fw.vifs[0].vlan).toBeUndefined();
    expect(tenant.vifs).toEqual([
      expect.objectContaining({ devid: 0, mac: '02:00:00:00:02:01', vlan: 20, policy: { macLock: true, lossless: true, ratePps: 10000, burstPackets: 64, rateBps: 100_000_000, floodPps: 50 } }),
      expect.objectContaining({ devid: 1, policy: { macLock: true, lossless: false } }),
    ]);
    expect(tenant.vifs[1].vlan).toBeUndefined();
    const human = (await vpio(['ls', '--dir', t.dir])).stdout;
    expect(human.split('\n')[0]).toMatch(/VLAN\s+BACKEND\s+FRONTEND\s+PORT\s+POLICY$/);
    expect(human).toMatch(/02:00:00:00:01:01\s+trunk 10\+20 native 10\s+InitWait\s+Initialising\s+-\s+max-macs=8\n/);
    expect(human).toMatch(/02:00:00:00:02:01\s+20\s+InitWait\s+Initialising\s+-\s+rate-pps=10k burst=64 rate-bps=100M flood-pps=50 lossless=1\n/);
    expect(human).toMatch(/02:76:\S+\s+-\s+InitWait\s+Initialising\s+-\s+-$/m);

    const again = await vpio(['up', '-f', join(t.base, 'ok.yaml'), '--dir', t.dir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`a vpio platform (pid ${pid}) already runs on ${t.dir}`);

    const down = await vpio(['down', '--dir', t.dir]);
    expect(down.code).toBe(0);
    expect(alive(pid)).toBe(false);
    for (const d of ls.domains) expect(alive(d.pid)).toBe(false);
    expect(existsSync(join(t.dir, 'vpio.sock'))).toBe(false);
  });

  it('5.4 a guest that cannot start stops the apply, names it, and the platform is torn down (exit 1)', async () => {
    const text = `switch: { cores: -1 }
guests:
  - name: first
    command: [/bin/sleep, 60]
    vifs: [{ mac: 02:00:00:00:03:01 }]
  - name: broken
    command: [/bin/sleep, 60]
    vifs: [{}, {}, {}, {}, {}, {}, {}, {}, {}]   # netback's limit is 8 per domain: the platform refuses the ninth
  - name: never
    command: [/bin/sleep, 60]
`;
    const r = await vpio(['up', '-f', file('broken.yaml', text), '--dir', t.dir]);
    expect(r.code).toBe(1);
    const pid = Number(/platform up \(pid (\d+)\)/.exec(r.stdout)?.[1]);
    pids.push(pid);
    const first = Number(/guest "first" is domain \d+ \(pid (\d+)\)/.exec(r.stdout)?.[1]);
    expect(first).toBeGreaterThan(0);
    expect(r.stdout).not.toContain('"never"');
    expect(r.stderr).toMatch(new RegExp(`^vpio up: guest "broken" \\(${join(t.base, 'broken.yaml')}:6\\) did not start: CLI_RUN: cannot run "broken": vif 8 \\(--vif #9\\): domain \\d+ has 8 vifs, the limit is 8; the platform was stopped\\n$`, 's'));
    expect(alive(pid)).toBe(false);
    expect(alive(first)).toBe(false); // the guest started before the failure went with the platform
    expect(existsSync(join(t.dir, 'vpio.pid'))).toBe(false);
    expect((await vpio(['ls', '--dir', t.dir])).stderr).toContain('no vpio platform is running');
  });
});
