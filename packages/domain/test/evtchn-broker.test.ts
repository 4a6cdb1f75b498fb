/**
 * Scenario 4 (event-channel broker): tenants linking the guest library bind
 * channels through vpiod. Objective: a port offered to one domain can be
 * bound only by it (EPERM for anyone else), binding leaves the new port
 * pending once, notifications flow both ways between two tenants and
 * between a tenant and dom0, a closed end is seen by the peer, a request
 * claiming another domid is refused (grant-broker.test.ts covers
 * ALLOC_UNBOUND's dom field), and a hostile tenant that clears O_NONBLOCK on
 * its ends, fills them and drains at random neither blocks vpiod nor delays
 * another tenant's notifications.
 */
import { describe, expect, it } from 'vitest';
import { GUEST_BROKER, startTenant, startVpiod, startWaiting, waitFor } from './helpers.js';

const { vpiod } = await startVpiod();

describe('event channels between tenants', () => {
  it('binds a port offered to it (pending once), ping-pongs 2,000 notifications, and the offerer sees the close', async () => {
    const b = await startWaiting(vpiod, 'ec-b');
    const a = await startTenant(vpiod, 'ec-a', [GUEST_BROKER, 'offer', String(b.domain.domid)]);
    const port = await a.facts.get('port');
    b.go(['bind', a.domain.domid, port, 2000]);
    expect(await b.facts.get('bind')).toBe('OK');
    expect(await b.facts.get('pending_after_bind')).toBe('1');
    expect(await b.facts.get('rounds', 15000)).toBe('2000');
    expect(await b.facts.get('close')).toBe('OK');
    // b closed its ends: a's wait wakes and drain says EPIPE
    expect(await a.facts.get('peer')).toBe('EPIPE');
    await Promise.all([a.domain.released, b.domain.released]);
  });

  it('refuses with EPERM to bind a port offered to another domain, and ENOENT for no such port', async () => {
    const b = await startWaiting(vpiod, 'perm-b');
    const thief = await startWaiting(vpiod, 'perm-thief');
    const nobody = await startWaiting(vpiod, 'perm-nobody');
    const a = await startTenant(vpiod, 'perm-a', [GUEST_BROKER, 'offer', String(b.domain.domid)]);
    const port = await a.facts.get('port');
    thief.go(['bind', a.domain.domid, port, 0]);
    expect(await thief.facts.get('bind')).toBe('EPERM');
    nobody.go(['bind', a.domain.domid, 999, 0]);
    expect(await nobody.facts.get('bind')).toBe('ENOENT');
    // still bindable by the right domain after the refusals
    b.go(['bind', a.domain.domid, port, 1]);
    expect(await b.facts.get('rounds')).toBe('1');
    await Promise.all([a, b, thief, nobody].map((t) => t.domain.released));
  });
});

describe('event channels with dom0', () => {
  it('a tenant binds a port dom0 offered; dom0 echoes 500 round trips from its own end', async () => {
    const t = await startWaiting(vpiod, 'dom0-peer');
    const port = vpiod.evtchn.allocUnbound(t.domain.domid);
    const end = vpiod.evtchn.end(port);
    let echoed = 0;
    let running = true;
    const echo = (async () => {
      while (running) {
        try {
          if ((await end.wait(200)) > 0) {
            end.notify();
            echoed++;
          }
        } catch {
          return; // the tenant closed: EVTCHN_CLOSED
        }
      }
    })();
    t.go(['bind', 0, port, 500]);
    expect(await t.facts.get('rounds', 10000)).toBe('500');
    await t.domain.released;
    running = false;
    await echo;
    expect(echoed).toBeGreaterThanOrEqual(500);
    expect(() => end.notify()).toThrow(expect.objectContaining({ code: 'EVTCHN_CLOSED' }));
    vpiod.evtchn.close(port);
  });

  it('a hostile tenant (O_NONBLOCK cleared, ends full, random partial drains) blocks neither vpiod nor another tenant', async () => {
    const hostile = await startWaiting(vpiod, 'hostile');
    const good = await startWaiting(vpiod, 'good');
    const bystander = await startTenant(vpiod, 'ping-bystander', [GUEST_BROKER, 'bystander']);
    await bystander.facts.get('ready');
    const hport = vpiod.evtchn.allocUnbound(hostile.domain.domid);
    const gport = vpiod.evtchn.allocUnbound(good.domain.domid);
    hostile.go(['hostile', 0, hport]);
    expect(await hostile.facts.get('bind')).toBe('OK');
    await hostile.facts.get('filled');
    const hEnd = vpiod.evtchn.end(hport);
    const gEnd = vpiod.evtchn.end(gport);
    let running = true;
    let coalesced = 0;
    // vpiod hammers the hostile tenant: every call returns at once (never blocks the loop)
    const hammer = setInterval(() => {
      for (let i = 0; i < 200; i++) if (hEnd.notify() === 'coalesced') coalesced++;
      hEnd.drain();
    }, 1);
    const echo = (async () => {
      while (running) {
        try {
          if ((await gEnd.wait(200)) > 0) gEnd.notify();
        } catch {
          return;
        }
      }
    })();
    good.go(['bind', 0, gport, 1000]);
    expect(await good.facts.get('rounds', 15000)).toBe('1000');
    clearInterval(hammer);
    running = false;
    await echo;
    expect(coalesced).toBeGreaterThan(0);
    await vpiod.destroyDomain(bystander.domain.domid, { graceMs: 2000 });
    expect(bystander.facts.facts.final_ping).toBe('OK');
    expect(Number(bystander.facts.facts.pings_bad)).toBe(0);
    await vpiod.destroyDomain(hostile.domain.domid, { graceMs: 0 });
    await waitFor(() => vpiod.domainCount === 0, 5000, 'all released');
    vpiod.evtchn.close(hport);
    vpiod.evtchn.close(gport);
  });

  it('refuses dom0 binds of ports not offered to it', async () => {
    const b = await startWaiting(vpiod, 'not-dom0-b');
    const a = await startTenant(vpiod, 'not-dom0-a', [GUEST_BROKER, 'offer', String(b.domain.domid)]);
    const port = Number(await a.facts.get('port'));
    expect(() => vpiod.evtchn.bindInterdomain(a.domain.domid, port)).toThrow(expect.objectContaining({ code: 'EVTCHN_PERM' }));
    await Promise.all([a, b].map((t) => vpiod.destroyDomain(t.domain.domid, { graceMs: 0 })));
  });
});
