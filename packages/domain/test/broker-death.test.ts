/**
 * Scenario 6 (death with broker state): a tenant holding grants it made, a
 * mapping of a dom0 grant, a channel bound to dom0 and an unbound port is
 * SIGKILLed. Objective: everything it held is released before
 * @releaseDomain fires (its grants revoked and closed, its mapped pages
 * counted down, its ports forgotten), dom0's grant to it is released, dom0's
 * end of their channel sees the close, and vpiod's open descriptors and
 * memfd mappings are back where they were.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { XenstoreClient } from '@vpio/xenstore';
import { memfdMappingCount, openFdCount, startVpiod, startWaiting, waitFor } from './helpers.js';

const { vpiod } = await startVpiod();
const xs = await XenstoreClient.connect(vpiod.xenstorePath);
afterAll(() => xs.close().catch(() => undefined));

describe('SIGKILL of a domain holding broker resources', () => {
  it('releases its grants, mappings and channels, fires @releaseDomain, and vpiod\'s fd and region counts come back', async () => {
    // warm-up: lazily opened descriptors (native addons, pipes) land in the baseline
    const warm = await startWaiting(vpiod, 'warm');
    await vpiod.destroyDomain(warm.domain.domid, { graceMs: 0 });
    const w = await xs.watch('@releaseDomain');
    await w.next();
    const fdsBefore = openFdCount();
    const mapsBefore = memfdMappingCount();

    const grantee = await startWaiting(vpiod, 'death-grantee');
    const t = await startWaiting(vpiod, 'death-holder');
    const g = vpiod.grants.grantRegion({ bytes: 4 * vpiod.grants.pageSize, grantee: t.domain.domid, access: 'rw' });
    const port = vpiod.evtchn.allocUnbound(t.domain.domid);
    const end = vpiod.evtchn.end(port);
    t.go(['holder', g.ref, port, grantee.domain.domid]);
    for (const k of ['shared', 'mapped', 'bound', 'offered']) expect(await t.facts.get(k), k).toBe('OK');
    await t.facts.get('ready');
    expect(vpiod.grants.usage(t.domain.domid)).toMatchObject({ activeGrants: 3, grantPages: 12, mapHandles: 1, mappedPages: 4 });
    expect(vpiod.evtchn.ports(t.domain.domid)).toHaveLength(2);
    expect(openFdCount()).toBeGreaterThan(fdsBefore);

    const released = (async () => {
      for (;;) {
        const e = await w.next();
        if (e.path === '@releaseDomain') return;
      }
    })();
    process.kill(t.domain.pid, 'SIGKILL');
    await t.domain.released;
    await released;
    expect(vpiod.grants.usage(t.domain.domid)).toEqual({ activeGrants: 0, grants: 0, grantPages: 0, mapHandles: 0, mappedPages: 0 });
    expect(vpiod.evtchn.ports(t.domain.domid)).toEqual([]);
    expect(g.state).toBe('released');
    expect(vpiod.grants.dom0Usage.grants).toBe(0);
    // dom0's end sees the close (after the pending-once notification)
    await waitFor(() => {
      try {
        end.drain();
        return false;
      } catch (e) {
        return (e as { code?: string }).code === 'EVTCHN_CLOSED';
      }
    }, 3000, 'dom0 end to see the close');
    vpiod.evtchn.close(port);
    // the bystander grantee is unaffected
    expect(grantee.domain.state).toBe('running');
    await vpiod.destroyDomain(grantee.domain.domid, { graceMs: 0 });
    await waitFor(() => openFdCount() === fdsBefore, 3000, `fd count back to ${fdsBefore} (now ${openFdCount()})`);
    expect(memfdMappingCount()).toBe(mapsBefore);
    await w.close();
  });
});
