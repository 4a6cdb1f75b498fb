/**
 * Scenario 1 (vpiod killed and restarted). Objective: a SIGKILLed platform
 * (vpiod lives in it) takes its tenants with it and leaves nothing mapped,
 * and the next `vpio up` on the same directory cleans up what it could not
 * (its domains' cgroups, its stale pid file and sockets) and says so.
 * A real `vpio up`; a pair of nf-guests in endless traffic and a guest
 * without a vif; SIGKILL the platform; every guest process is gone within
 * the bound (the launcher's pdeathsig, then the pid namespace), none maps a
 * memfd any more; the dead vpiod's cgroups (named with its instance tag)
 * are still there; `vpio up` again removes exactly those and reports them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { C_ENV, NF_GUEST, TestPlatform, alive, census, cgroupsNamed, processTree, until, vpio } from './helpers.js';

const MAC = { a: '02:00:00:00:fa:01', b: '02:00:00:00:fa:02' };

describe('scenario 1: vpiod killed and restarted', () => {
  const t = new TestPlatform();
  afterAll(() => t.teardown());

  it('1.1 the guests die with the platform, nothing stays mapped, and the next `vpio up` removes the leftovers and reports them', async () => {
    await t.up();
    const tag = (JSON.parse(readFileSync(join(t.dir, 'vpiod.instance'), 'utf8')) as { tag: string }).tag;
    const pair = (peer: string): string[] => [NF_GUEST, '--broker', '--linger', '--peer', peer, '--count', '1000000000'];
    const a = await t.run('a', pair(MAC.b), [`mac=${MAC.a},lossless=1`], C_ENV);
    const b = await t.run('b', pair(MAC.a), [`mac=${MAC.b},lossless=1`], C_ENV);
    const idle = await t.run('idle', ['/bin/sleep', '1000'], []);
    await until('traffic both ways', async () => {
      const ports = (await t.stats()).ports;
      return ports.length === 2 && ports.every((p) => p.inPackets > 1000 && p.outPackets > 1000) ? true : undefined;
    });
    const trees = [a, b, idle].map((d) => processTree(d.pid));
    const guests = trees.flat();
    // the nf-guests map the platform's grants (rings and pool: memfds)
    for (const d of [a, b]) {
      const leaf = processTree(d.pid).at(-1)!;
      expect(census(leaf).memfdMaps, `${d.name} maps its vif`).toBeGreaterThan(0);
    }
    const ours = cgroupsNamed(`vpio-${tag}-d`);
    expect(ours.length).toBeGreaterThanOrEqual(3); // each domain has one per hierarchy

    t.dropClient();
    process.kill(t.pid, 'SIGKILL');
    await until('every guest process gone', () => (guests.every((p) => !alive(p)) ? true : undefined), 10_000);
    // nothing maps the dead platform's memory: the processes that did are gone (a zombie holds no mapping)
    for (const p of guests) expect(existsSync(`/proc/${p}/maps`) && readFileSync(`/proc/${p}/maps`, 'utf8').includes('/memfd:'), `pid ${p}`).toBe(false);
    // what the dead platform could not remove
    const left = cgroupsNamed(`vpio-${tag}-d`);
    expect(left.sort()).toEqual(ours.sort());
    for (const f of ['vpio.pid', 'vpio.sock', 'xenstored.sock', 'vpiod.instance']) expect(existsSync(join(t.dir, f)), f).toBe(true);
    // a command finds no platform (the socket is stale), and says how to start one
    const ls = await vpio(['ls', '--dir', t.dir]);
    expect(ls.code).toBe(1);
    expect(ls.stderr).toMatch(/no vpio platform is running/);

    const deadPid = t.pid;
    const out = await t.up();
    expect(t.pid).not.toBe(deadPid);
    const line = out.split('\n').find((l) => l.startsWith('vpio: cleaned up'));
    expect(line).toBe(`vpio: cleaned up after a dead platform (pid ${deadPid}): removed ${ours.length} cgroups of its domains, killed 0 leftover processes, took over its stale vpio.pid, vpio.sock, xenstored.sock`);
    expect(cgroupsNamed(`vpio-${tag}-d`)).toEqual([]);
    expect((await t.ls()).domains).toEqual([]);
    // the new platform serves: a guest runs and is listed
    const again = await t.run('again', ['/bin/sleep', '1000'], []);
    expect((await t.ls()).domains.map((d) => d.name)).toEqual(['again']);
    expect(alive(again.pid)).toBe(true);
    // a clean `down` leaves nothing for the next one to clean
    t.dropClient();
    expect((await vpio(['down', '--dir', t.dir])).code).toBe(0);
    expect(alive(again.pid)).toBe(false);
    for (const f of ['vpio.pid', 'vpio.sock', 'vpiod.instance']) expect(existsSync(join(t.dir, f)), f).toBe(false);
    const third = await t.up();
    expect(third).not.toMatch(/cleaned up/);
  }, 60_000);
});
