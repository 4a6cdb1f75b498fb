/**
 * Scenario 3 (grant broker): tenants are real sandboxed processes linking
 * the guest library (test/c/guest-broker.c). Objective: a tenant shares a
 * sealed region of its own with exactly one other domain and access; the
 * grantee maps a list of refs as one contiguous range in one round trip;
 * dom0's own grants take the same MAP path; every other use is refused: a
 * ref granted to another domid (EPERM), a read-only grant mapped writable
 * (EPERM) or written through another path (mprotect, a read-write reopen
 * through /proc), an ended ref (ENOENT), a request claiming another domid
 * (EPERM), a descriptor unsealed, not write-sealed for 'ro', of the wrong
 * size or not a memfd (refused and closed), and per-domain limits (ENOSPC,
 * E2BIG).
 */
import { describe, expect, it } from 'vitest';
import { GUEST_BROKER, openFdCount, startTenant, startVpiod, startWaiting, waitFor } from './helpers.js';

const { vpiod } = await startVpiod();

async function stop(...domains: { domain: { domid: number; state: string } }[]): Promise<void> {
  await Promise.all(domains.filter((d) => d.domain.state !== 'released').map((d) => vpiod.destroyDomain(d.domain.domid, { graceMs: 0 })));
}

describe('tenant grants', () => {
  it('maps refs granted to it as one contiguous range, pages in ref order, and writes an rw grant', async () => {
    const grantee = await startWaiting(vpiod, 'contig-grantee');
    const granter = await startTenant(vpiod, 'contig-granter', [GUEST_BROKER, 'share', '3', '2', String(grantee.domain.domid), 'rw']);
    const refs = await granter.facts.get('refs');
    grantee.go(['map', granter.domain.domid, refs, 'rw']);
    expect(await grantee.facts.get('map')).toBe('OK');
    const g = granter.domain.domid;
    expect(await grantee.facts.get('stamps')).toBe([0, 1, 2].flatMap((i) => [0, 1].map((p) => `d${g}-g${i}-p${p}`)).join(','));
    expect(await grantee.facts.get('bytes')).toBe(String(6 * vpiod.grants.pageSize));
    expect(await grantee.facts.get('write')).toBe('OK');
    expect(await grantee.facts.get('unmap')).toBe('OK');
    expect(vpiod.grants.usage(grantee.domain.domid).mappedPages).toBe(0);
    expect(vpiod.grants.usage(g)).toMatchObject({ activeGrants: 3, grantPages: 6 });
    await stop(grantee, granter);
  });

  it('refuses with EPERM to map a ref granted to another domid', async () => {
    const grantee = await startWaiting(vpiod, 'other-grantee');
    const thief = await startWaiting(vpiod, 'other-thief');
    const granter = await startTenant(vpiod, 'other-granter', [GUEST_BROKER, 'share', '1', '1', String(grantee.domain.domid), 'rw']);
    const refs = await granter.facts.get('refs');
    thief.go(['map', granter.domain.domid, refs, 'rw']);
    expect(await thief.facts.get('map')).toBe('EPERM');
    await stop(grantee, thief, granter);
  });

  it('refuses to map a read-only grant writable, and every write path to it fails (mprotect, /proc reopen + mmap, pwrite, ftruncate)', async () => {
    const grantee = await startWaiting(vpiod, 'ro-grantee');
    const granter = await startTenant(vpiod, 'ro-granter', [GUEST_BROKER, 'share', '1', '1', String(grantee.domain.domid), 'ro']);
    const refs = await granter.facts.get('refs');
    grantee.go(['map', granter.domain.domid, refs, 'ro']);
    expect(await grantee.facts.get('map')).toBe('OK');
    expect(await grantee.facts.get('stamps')).toBe(`d${granter.domain.domid}-g0-p0`);
    expect(await grantee.facts.get('mprotect_rw')).toBe('EACCES');
    expect(await grantee.facts.get('map_fds')).toBe('OK');
    // the reopen itself may succeed; what it could be used for may not
    expect(await grantee.facts.get('reopen_mmap_rw')).toBe('EPERM');
    expect(await grantee.facts.get('reopen_pwrite')).toBe('EPERM');
    expect(await grantee.facts.get('ftruncate')).toBe('EPERM');
    await stop(grantee, granter);
  });

  it('refuses with EPERM to map a read-only grant writable', async () => {
    const grantee = await startWaiting(vpiod, 'rw-of-ro-grantee');
    const granter = await startTenant(vpiod, 'rw-of-ro-granter', [GUEST_BROKER, 'share', '1', '1', String(grantee.domain.domid), 'ro']);
    grantee.go(['map', granter.domain.domid, await granter.facts.get('refs'), 'rw']);
    expect(await grantee.facts.get('map')).toBe('EPERM');
    await stop(grantee, granter);
  });

  it('refuses with ENOENT to map a ref its granter ended, and closes vpiod\'s descriptor', async () => {
    const grantee = await startWaiting(vpiod, 'ended-grantee');
    const granter = await startTenant(vpiod, 'ended-granter', [GUEST_BROKER, 'share', '2', '1', String(grantee.domain.domid), 'rw']);
    const refs = await granter.facts.get('refs');
    const fds = openFdCount();
    process.kill(granter.domain.pid, 'SIGHUP');
    expect(await granter.facts.get('end')).toBe('OK');
    expect(openFdCount()).toBe(fds - 2);
    expect(vpiod.grants.usage(granter.domain.domid)).toMatchObject({ grants: 0, grantPages: 0 });
    grantee.go(['map', granter.domain.domid, refs, 'rw']);
    expect(await grantee.facts.get('map')).toBe('ENOENT');
    await stop(grantee, granter);
  });

  it('refuses with EPERM a request whose dom field claims another domid (GRANT_SHARE, ALLOC_UNBOUND), accepts its own', async () => {
    const t = await startTenant(vpiod, 'claimer', [GUEST_BROKER, 'claim']);
    const f = await t.facts.all();
    expect(f.share_as_other).toBe('EPERM');
    expect(f.alloc_as_other).toBe('EPERM');
    expect(f.share_as_self).toBe('OK');
    expect(f.alloc_as_self).toBe('OK');
    await t.domain.released;
  });

  it('refuses unsealed, not write-sealed, wrong-size and non-memfd descriptors, and closes every one', async () => {
    await waitFor(() => vpiod.domainCount === 0, 3000, 'earlier domains released');
    const fds = openFdCount();
    const t = await startTenant(vpiod, 'badshare', [GUEST_BROKER, 'badshare']);
    const f = await t.facts.all();
    expect(f.unsealed).toBe('EPERM');
    expect(f.ro_without_write_seal).toBe('EPERM');
    expect(f.wrong_size).toBe('EMSGSIZE');
    expect(f.pipe).toBe('EINVAL');
    expect(f.no_fd).toBe('EBADF');
    await t.domain.released;
    await waitFor(() => openFdCount() === fds, 3000, `fd count back to ${fds} (now ${openFdCount()})`);
  });

  it('enforces grantPages, eventChannels and mappedPages with ENOSPC, and at most 16 refs per MAP with E2BIG', async () => {
    const t = await startWaiting(vpiod, 'limited', { grantPages: 2, eventChannels: 1, mappedPages: 1 });
    const g = vpiod.grants.grantRegion({ bytes: 2 * vpiod.grants.pageSize, grantee: t.domain.domid, access: 'rw' });
    t.go(['limits', g.ref]);
    expect(await t.facts.get('share_2_pages')).toBe('OK');
    expect(await t.facts.get('share_past_grant_pages')).toBe('ENOSPC');
    expect(await t.facts.get('alloc_1')).toBe('OK');
    expect(await t.facts.get('alloc_past_event_channels')).toBe('ENOSPC');
    expect(await t.facts.get('map_past_mapped_pages')).toBe('ENOSPC');
    expect(await t.facts.get('map_17_refs')).toBe('E2BIG');
    await t.domain.released;
    expect(g.state).toBe('released'); // dom0's grant to a dead domain is released
  });
});

describe('dom0 grants', () => {
  it('are mapped through the same MAP path (granter 0) and seen by dom0', async () => {
    const t = await startWaiting(vpiod, 'dom0-grantee');
    const g = vpiod.grants.grantRegion({ bytes: vpiod.grants.pageSize, grantee: t.domain.domid, access: 'rw' });
    g.buffer.write('d0-g0-p0\0');
    t.go(['map', 0, g.ref, 'rw', 'hold']);
    expect(await t.facts.get('map')).toBe('OK');
    expect(await t.facts.get('stamps')).toBe('d0-g0-p0');
    await t.facts.get('holding');
    expect(g.buffer.toString('utf8', 0, 7)).toBe('written');
    expect(vpiod.grants.usage(t.domain.domid).mappedPages).toBe(1);
    await stop(t);
    expect(g.state).toBe('released');
  });

  it('refuses a dom0 grant to a domain that is not alive', () => {
    expect(() => vpiod.grants.grantRegion({ bytes: vpiod.grants.pageSize, grantee: 4321, access: 'rw' })).toThrow(expect.objectContaining({ code: 'DOMAIN_NOT_FOUND' }));
  });
});
