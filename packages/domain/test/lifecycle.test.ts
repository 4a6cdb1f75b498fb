/**
 * Scenario 2 (lifecycle): domains created by a real Vpiod, watched through
 * the xenstore's TS client. Objective: create introduces the domain
 * (/local/domain/<id> owned by it, @introduceDomain); death however it comes
 * (exit, SIGKILL from outside, destroy graceful or forced) is seen through
 * the pidfd and releases everything (@releaseDomain, nodes, cgroup, fds);
 * the guest's xenstore connection is demoted to its domid; names are unique
 * and bad options fail with clear errors.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { XenstoreClient, type XenstoreWatch } from '@vpio/xenstore';
import { GUEST_PROBE, openFdCount, parseFacts, readAll, startVpiod, waitFor } from './helpers.js';

const { vpiod } = await startVpiod();
const xs = await XenstoreClient.connect(vpiod.xenstorePath);
afterAll(() => xs.close().catch(() => undefined));

async function nextEvent(w: XenstoreWatch, path: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const e = await Promise.race([w.next(), new Promise<never>((_r, rej) => setTimeout(() => rej(new Error(`no ${path} event`)), deadline - Date.now()))]);
    if (e.path === path) return;
  }
}

describe('create', () => {
  it('introduces the domain: @introduceDomain fires and /local/domain/<id> is owned by it with name and domid read-only', async () => {
    const w = await xs.watch('@introduceDomain');
    await nextEvent(w, '@introduceDomain'); // the registration event
    const d = await vpiod.createDomain({ name: 'intro', argv: [GUEST_PROBE, 'sleep'] });
    await nextEvent(w, '@introduceDomain');
    const home = `/local/domain/${d.domid}`;
    expect(await xs.readString(`${home}/name`)).toBe('intro');
    expect(await xs.readString(`${home}/domid`)).toBe(String(d.domid));
    expect((await xs.getPerms(home))[0]).toMatchObject({ domid: d.domid, access: 'n' });
    expect(await xs.getPerms(`${home}/name`)).toEqual([{ domid: 0, access: 'n' }, { domid: d.domid, access: 'r' }]);
    expect(await xs.isDomainIntroduced(d.domid)).toBe(true);
    await w.close();
    await vpiod.destroyDomain(d.domid, { graceMs: 0 });
  });

  it("hands the guest a xenstore connection demoted to its domid: its home is writable, nothing else, and it cannot act as dom0", async () => {
    const d = await vpiod.createDomain({ name: 'xsguest', argv: [GUEST_PROBE, 'xenstore'], stdout: 'pipe' });
    const facts = parseFacts(await readAll(d.stdout));
    await d.released;
    expect(facts.hello).toBe('OK');
    expect(facts.hello_domid).toBe(String(d.domid));
    expect(facts.read_name).toBe('xsguest');
    expect(facts.write_home).toBe('OK');
    expect(facts.write_name).toBe('EACCES');
    expect(facts.write_dom0).toBe('EACCES');
    expect(facts.write_root).toBe('EACCES');
    expect(facts.write_other).toBe('EACCES');
    expect(facts.introduce).toBe('EACCES');
    expect(facts.demote).toBe('EACCES');
  });

  it('answers PING on the control socket and ERROR ENOSYS to an unknown type, closing the fd that came with it', async () => {
    const d = await vpiod.createDomain({ name: 'ping', argv: [GUEST_PROBE, 'ping'], stdout: 'pipe' });
    const text = await readAll(d.stdout);
    await d.released;
    expect(text).toContain('reply=OK type=3 flags=1 seq=77 len=3');
    expect(text).toContain('error=OK type=2 seq=78 err=ENOSYS req_type=30583');
  });

  it('keeps names unique among live domains and frees a name with its domain', async () => {
    const a = await vpiod.createDomain({ name: 'twin', argv: [GUEST_PROBE, 'sleep'] });
    await expect(vpiod.createDomain({ name: 'twin', argv: [GUEST_PROBE, 'sleep'] })).rejects.toMatchObject({ code: 'DOMAIN_NAME_TAKEN' });
    await vpiod.destroyDomain(a.domid, { graceMs: 0 });
    const b = await vpiod.createDomain({ name: 'twin', argv: [GUEST_PROBE, 'sleep'] });
    expect(b.domid).not.toBe(a.domid);
    await vpiod.destroyDomain(b.domid, { graceMs: 0 });
  });

  it('rejects bad options naming the parameter', async () => {
    const argv = [GUEST_PROBE, 'sleep'];
    await expect(vpiod.createDomain({ name: 'a/b', argv })).rejects.toMatchObject({ code: 'ERR_ARGUMENT', parameter: 'name' });
    await expect(vpiod.createDomain({ name: 'x', argv: [] })).rejects.toMatchObject({ code: 'ERR_ARGUMENT', parameter: 'argv' });
    await expect(vpiod.createDomain({ name: 'x', argv, memoryMiB: 1 })).rejects.toMatchObject({ parameter: 'memoryMiB' });
    await expect(vpiod.createDomain({ name: 'x', argv, maxPids: 2 })).rejects.toMatchObject({ parameter: 'maxPids' });
    await expect(vpiod.createDomain({ name: 'x', argv, limits: { grantPages: -1 } })).rejects.toMatchObject({ parameter: 'limits.grantPages' });
    await expect(vpiod.createDomain({ name: 'x', argv, limits: { eventChannels: 65 } })).rejects.toThrow(/limits.eventChannels: expected an integer in \[0, 64\]/);
    await expect(vpiod.createDomain({ name: 'x', argv, limits: { bogus: 1 } as never })).rejects.toMatchObject({ parameter: 'limits.bogus' });
    await expect(vpiod.createDomain({ name: 'x', argv, env: { VPIO_DOMID: '0' } })).rejects.toMatchObject({ parameter: 'env.VPIO_DOMID' });
    expect(vpiod.domainCount).toBe(0);
  });

  it('runs beforeSpawn after the introduction and before the guest, and undoes the whole domain when it throws', async () => {
    const fdsBefore = openFdCount();
    let seenHome: string | undefined;
    let seenDomid = -1;
    const failing = vpiod.createDomain(
      { name: 'hooked', argv: [GUEST_PROBE, 'sleep'] },
      {
        beforeSpawn: async (domid) => {
          seenDomid = domid;
          seenHome = await xs.readString(`/local/domain/${domid}/name`); // already introduced
          expect(vpiod.domains().some((d) => d.domid === domid)).toBe(false); // no guest yet
          throw new Error('the toolstack could not create a vif');
        },
      },
    );
    await expect(failing).rejects.toMatchObject({
      code: 'DOMAIN_CREATE',
      message: expect.stringContaining('failed at step before-spawn: the toolstack could not create a vif'),
    });
    expect(seenHome).toBe('hooked');
    await expect(xs.readString(`/local/domain/${seenDomid}/name`)).rejects.toMatchObject({ errnoName: 'ENOENT' });
    expect(await xs.isDomainIntroduced(seenDomid)).toBe(false);
    await waitFor(() => openFdCount() === fdsBefore, 3000, `fd count back to ${fdsBefore} (now ${openFdCount()})`);
    // the name and the domain slot are free again
    const again = await vpiod.createDomain({ name: 'hooked', argv: [GUEST_PROBE, 'sleep'] });
    await vpiod.destroyDomain(again.domid, { graceMs: 0 });
  });

  it('keeps the broker limits it was given on the domain', async () => {
    const d = await vpiod.createDomain({ name: 'limits', argv: [GUEST_PROBE, 'sleep'], limits: { grantPages: 10, eventChannels: 4 } });
    expect(d.limits).toEqual({ grantPages: 10, eventChannels: 4, mappedPages: 4096 });
    await vpiod.destroyDomain(d.domid, { graceMs: 0 });
  });
});

describe('death and destroy', () => {
  it('sees a SIGKILL from outside through the pidfd: @releaseDomain, nodes gone, cgroup removed, no fd leaked', async () => {
    // warm up once so lazily opened descriptors (xenstore client, pipes) are counted in the baseline
    const warm = await vpiod.createDomain({ name: 'warm', argv: [GUEST_PROBE, 'sleep'] });
    await vpiod.destroyDomain(warm.domid, { graceMs: 0 });
    const w = await xs.watch('@releaseDomain');
    await nextEvent(w, '@releaseDomain');
    const fdsBefore = openFdCount();
    const d = await vpiod.createDomain({ name: 'victim', argv: [GUEST_PROBE, 'sleep'] });
    const other = await vpiod.createDomain({ name: 'bystander', argv: [GUEST_PROBE, 'sleep'] });
    const bases = vpiod.sandbox?.cgroupBases ?? [];
    await waitFor(() => bases.every((b) => existsSync(join(b.dir, d.cgroup!))), 5000, 'the cgroup');
    process.kill(d.pid, 'SIGKILL');
    await nextEvent(w, '@releaseDomain');
    const exit = await d.released;
    expect(exit).toMatchObject({ signal: 'SIGKILL', reason: 'exited' });
    expect(d.state).toBe('released');
    await expect(xs.readString(`/local/domain/${d.domid}/name`)).rejects.toMatchObject({ errnoName: 'ENOENT' });
    expect(await xs.isDomainIntroduced(d.domid)).toBe(false);
    for (const b of bases) expect(existsSync(join(b.dir, d.cgroup!))).toBe(false);
    // the other domain is untouched
    expect(other.state).toBe('running');
    expect(await xs.readString(`/local/domain/${other.domid}/name`)).toBe('bystander');
    await vpiod.destroyDomain(other.domid, { graceMs: 0 });
    await waitFor(() => openFdCount() === fdsBefore, 3000, `fd count back to ${fdsBefore} (now ${openFdCount()})`);
    await w.close();
  });

  it('releases a guest that exits by itself, passing its status through', async () => {
    const d = await vpiod.createDomain({ name: 'exits', argv: ['/bin/sh', '-c', 'exit 5'] });
    expect(await d.released).toMatchObject({ code: 5, signal: null, reason: 'exited' });
  });

  it('destroys gracefully: the guest gets SIGTERM through its launcher and init', async () => {
    const d = await vpiod.createDomain({ name: 'graceful', argv: [GUEST_PROBE, 'sleep'], stdout: 'pipe' });
    d.stdout!.setEncoding('utf8');
    await new Promise((r) => d.stdout!.once('data', r)); // "sleeping": the guest runs
    const t0 = Date.now();
    const exit = await vpiod.destroyDomain(d.domid, { graceMs: 5000 });
    expect(exit).toMatchObject({ code: 128 + 15, signal: null, reason: 'destroyed' });
    expect(Date.now() - t0).toBeLessThan(4000);
  });

  it('destroys by force after graceMs when the guest ignores SIGTERM', async () => {
    const d = await vpiod.createDomain({ name: 'stubborn', argv: [GUEST_PROBE, 'sleep', 'ignore-term'], stdout: 'pipe' });
    d.stdout!.setEncoding('utf8');
    await new Promise((r) => d.stdout!.once('data', r));
    const t0 = Date.now();
    const exit = await vpiod.destroyDomain(d.domid, { graceMs: 300 });
    expect(exit).toMatchObject({ signal: 'SIGKILL', reason: 'killed' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
  });

  it('throws DOMAIN_NOT_FOUND for an id that is not live', async () => {
    await expect(vpiod.destroyDomain(4321)).rejects.toMatchObject({ code: 'DOMAIN_NOT_FOUND' });
  });
});
