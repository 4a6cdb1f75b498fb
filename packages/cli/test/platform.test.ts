/**
 * Scenario 1 (the platform through the command): objective: `vpio up` starts
 * vpiod + switch + netback in the background on a temp dir; `vpio run` makes a
 * domain whose vif netback created before the guest started (a guest without
 * a netfront leaves its vif at backend InitWait / frontend Initialising);
 * ls/stats/destroy answer over the owner-only socket; `vpio down` leaves no
 * process and no socket. Real processes throughout.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, tempBase, vpio } from './helpers.js';

describe('vpio up / run / ls / stats / destroy / down', () => {
  const t = tempBase();
  let pid = 0;

  beforeAll(async () => {
    // --mac-byte 171: default vif MACs are 02:76:ab:<domid>:<vif> (random byte without it)
    const up = await vpio(['up', '--dir', t.dir, '--cores=-1', '--mac-byte', '171']);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    pid = Number(/pid (\d+)/.exec(up.stdout)?.[1]);
  });

  afterAll(async () => {
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    t.cleanup();
  });

  it('1.1 up starts a background platform whose socket is 0600 in a 0700 dir', () => {
    expect(alive(pid)).toBe(true);
    expect(statSync(t.dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(t.dir, 'vpio.sock')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(t.dir, 'vpio.pid'), 'utf8').trim()).toBe(String(pid));
  });

  it('1.2 a second up on the same dir refuses, naming the running pid', async () => {
    const r = await vpio(['up', '--dir', t.dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`a vpio platform (pid ${pid}) already runs on ${t.dir}`);
    const bad = await vpio(['up', '--dir', t.dir, '--mac-byte', '256']);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('--mac-byte')]);
    const f = await vpio(['up', '--foreground', '--dir', t.dir]);
    expect(f.code).toBe(1);
    expect(f.stderr).toContain('already runs');
  });

  it('1.3 ls --json is empty, run makes a domain whose vifs wait in InitWait, stats has the port shape, destroy removes it', async () => {
    expect(JSON.parse((await vpio(['ls', '--dir', t.dir, '--json'])).stdout)).toEqual({ domains: [] });

    const run = await vpio(['run', '--dir', t.dir, '--name', 'g1', '--vif', 'mac=02:00:00:00:00:11,vlan=10', '--vif', 'vlan=20,queues=3', '--json', '/bin/sleep', '30']);
    expect(run.stderr).toBe('');
    const made = JSON.parse(run.stdout) as { domid: number; name: string; vifs: { backendStateName: string }[] };
    expect(made.name).toBe('g1');
    // created before the guest ran: InitWait is already published when run returns
    expect(made.vifs.map((v) => v.backendStateName)).toEqual(['InitWait', 'InitWait']);

    const ls = JSON.parse((await vpio(['ls', '--dir', t.dir, '--json'])).stdout);
    expect(ls.domains).toHaveLength(1);
    expect(ls.domains[0]).toMatchObject({ domid: made.domid, name: 'g1', state: 'running', argv: ['/bin/sleep', '30'] });
    expect(ls.domains[0].vifs).toEqual([
      { devid: 0, mac: '02:00:00:00:00:11', vlan: 10, mtu: 1500, backendState: 2, backendStateName: 'InitWait', frontendState: 1, frontendStateName: 'Initialising', queues: 1, queuePorts: [], policy: { macLock: true, lossless: false } },
      { devid: 1, mac: expect.stringMatching(/^02:76:ab:/), vlan: 20, mtu: 1500, backendState: 2, backendStateName: 'InitWait', frontendState: 1, frontendStateName: 'Initialising', queues: 3, queuePorts: [], policy: { macLock: true, lossless: false } },
    ]);
    const human = await vpio(['ls', '--dir', t.dir]);
    expect(human.stdout).toMatch(/g1\s+running.*02:00:00:00:00:11\s+10\s+InitWait\s+Initialising\s+1\s+-/);
    expect(human.stdout).toMatch(/QUEUES\s+PORT/);
    expect(human.stdout).toMatch(/20\s+InitWait\s+Initialising\s+3\s+-/);

    const stats = JSON.parse((await vpio(['stats', '--dir', t.dir, '--json'])).stdout);
    expect(stats).toEqual({ atMs: expect.any(Number), intervalMs: expect.any(Number), ports: [] }); // no frontend connected: no port yet

    const unknown = await vpio(['destroy', '--dir', t.dir, 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no live domain "nope" (live: g1)');

    const d = await vpio(['destroy', '--dir', t.dir, 'g1', '--json']);
    expect(JSON.parse(d.stdout)).toMatchObject({ domid: made.domid, name: 'g1', exit: { reason: 'destroyed' } });
    expect(JSON.parse((await vpio(['ls', '--dir', t.dir, '--json'])).stdout)).toEqual({ domains: [] });
  });

  it('1.4 run refuses a bad --vif naming the bad part, before the daemon is asked', async () => {
    const r = await vpio(['run', '--dir', t.dir, '--vif', 'mac=02:00:00:00:00:01,vlan=5000', '/bin/true']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--vif vlan: expected an integer in [1, 4094], got "5000"');
    const k = await vpio(['run', '--dir', t.dir, '--vif', 'colour=red', '/bin/true']);
    expect(k.stderr).toContain('--vif: expected one of the keys mac, vlan, mtu, tx-slots, rx-slots, buf-size, queues, trunk, native-vlan, rate-pps, burst, rate-bps, burst-bytes, flood-pps, flood-burst, max-macs, lossless, mac-lock, got "colour"');
    const near = await vpio(['run', '--dir', t.dir, '--vif', 'rate-pp=5', '/bin/true']);
    expect(near.stderr).toContain('(did you mean "rate-pps"?), got "rate-pp"');
    const burst = await vpio(['run', '--dir', t.dir, '--vif', 'burst=64', '/bin/true']);
    expect(burst.stderr).toContain('--vif burst: expected only with rate-pps= (a burst is the bucket of a rate), got 64');
    const none = await vpio(['run', '--dir', t.dir]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('<binary>');
    // queues: a vif key (1..8); --queues only with --linux, 1..8
    const q9 = await vpio(['run', '--dir', t.dir, '--vif', 'queues=9', '/bin/true']);
    expect(q9.code).toBe(2);
    expect(q9.stderr).toContain('--vif queues: expected an integer in [1, 8], got "9"');
    const ql = await vpio(['run', '--dir', t.dir, '--queues', '2', '/bin/true']);
    expect(ql.code).toBe(2);
    expect(ql.stderr).toContain('--queues: expected only with --linux (other guests: --vif queues=N), got "2"');
    for (const bad of ['0', '9', 'two', '1.5']) {
      const r2 = await vpio(['run', '--dir', t.dir, '--linux', '--queues', bad, '--', '/bin/true']);
      expect(r2.code, bad).toBe(2);
      expect(r2.stderr).toContain(`--queues: expected an integer in [1, 8], got "${bad}"`);
    }
    const both = await vpio(['run', '--dir', t.dir, '--linux', '--queues', '2', '--vif', 'queues=4', '--', '/bin/true']);
    expect(both.code).not.toBe(0);
    expect(both.stderr).toContain('--queues: expected the same as --vif queues= (4), or one of them, got 2');
    expect(JSON.parse((await vpio(['ls', '--dir', t.dir, '--json'])).stdout)).toEqual({ domains: [] });
  });

  it('1.5 the socket refuses a process of another uid (SO_PEERCRED), even when the modes are opened up', async () => {
    const { chmodSync } = await import('node:fs');
    chmodSync(t.dir, 0o711);
    chmodSync(join(t.dir, 'vpio.sock'), 0o666);
    try {
      const r = await vpio(['ls', '--dir', t.dir], { uid: 65534 });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('this control socket serves uid 0 only (you are uid 65534)');
    } finally {
      chmodSync(join(t.dir, 'vpio.sock'), 0o600);
      chmodSync(t.dir, 0o700);
    }
  });

  it('1.6 down stops every process and removes the socket', async () => {
    await vpio(['run', '--dir', t.dir, '--name', 'left', '--vif', 'vlan=3', '/bin/sleep', '30']);
    const guestPid = JSON.parse((await vpio(['ls', '--dir', t.dir, '--json'])).stdout).domains[0].pid as number;
    const r = await vpio(['down', '--dir', t.dir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(alive(pid)).toBe(false);
    expect(alive(guestPid)).toBe(false);
    expect(existsSync(join(t.dir, 'vpio.sock'))).toBe(false);
    expect(existsSync(join(t.dir, 'vpio.pid'))).toBe(false);
    const ls = await vpio(['ls', '--dir', t.dir]);
    expect(ls.stderr).toContain(`no vpio platform is running on ${t.dir}: start it with \`vpio up --dir ${t.dir}\``);
  });
});
