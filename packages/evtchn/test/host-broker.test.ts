import { describe, expect, it } from 'vitest';
import { HostEvtchnBroker } from '../src/index.js';
import { openFdCount } from './fds.js';

describe('HostEvtchnBroker (Xen-like API)', () => {
  it('allocUnbound + bindInterdomain connect two domains; both ports start pending once', async () => {
    using broker = new HostEvtchnBroker();
    const d1 = broker.domain(1);
    const d2 = broker.domain(2);
    const p1 = d1.allocUnbound(2);
    expect(p1).toBe(1);
    expect(() => d1.notify(p1)).toThrow(expect.objectContaining({ code: 'EVTCHN_NOT_BOUND' }));
    const p2 = d2.bindInterdomain(1, p1);
    expect(d1.pending(p1)).toBe(1);
    expect(d2.pending(p2)).toBe(1);
    expect(d1.notify(p1)).toBe('sent');
    expect(await d2.wait(p2, 1000)).toBe(1);
    d2.notify(p2);
    expect(await d1.wait(p1, 1000)).toBe(1);
    d1.unmask(p1);
    expect(d1.fd(p1)).toBeGreaterThan(2);
  });

  it('refuses to bind a port offered to another domain with EVTCHN_PERM', () => {
    using broker = new HostEvtchnBroker();
    const p = broker.domain(1).allocUnbound(2);
    expect(() => broker.domain(3).bindInterdomain(1, p)).toThrow(
      expect.objectContaining({ code: 'EVTCHN_PERM', message: expect.stringMatching(/offered to domain 2, not to domain 3/) }),
    );
    broker.domain(2).bindInterdomain(1, p);
    expect(() => broker.domain(2).bindInterdomain(1, p)).toThrow(expect.objectContaining({ code: 'EVTCHN_PERM' }));
    expect(() => broker.domain(2).bindInterdomain(1, 99)).toThrow(expect.objectContaining({ code: 'EVTCHN_NO_SUCH_PORT' }));
    expect(() => broker.domain(2).bindInterdomain(7, 1)).toThrow(expect.objectContaining({ code: 'EVTCHN_NO_SUCH_PORT' }));
  });

  it('enforces the per-domain port limit with EVTCHN_LIMIT_PORTS', () => {
    using broker = new HostEvtchnBroker({ maxPortsPerDomain: 2 });
    const d = broker.domain(1);
    d.allocUnbound(2);
    const p = d.allocUnbound(2);
    expect(() => d.allocUnbound(2)).toThrow(expect.objectContaining({ code: 'EVTCHN_LIMIT_PORTS' }));
    d.close(p);
    expect(d.allocUnbound(2)).toBe(p);
  });

  it('closing a port is seen by the peer; releasing a domain closes all its ports and descriptors', () => {
    const before = openFdCount();
    const broker = new HostEvtchnBroker();
    const d1 = broker.domain(1);
    const d2 = broker.domain(2);
    const ports = Array.from({ length: 10 }, () => d2.bindInterdomain(1, d1.allocUnbound(2)));
    expect(openFdCount()).toBe(before + 40);
    d2.close(ports[0]!);
    d1.pending(1);
    expect(() => d1.pending(1)).toThrow(expect.objectContaining({ code: 'EVTCHN_CLOSED' }));
    broker.releaseDomain(2);
    expect(openFdCount()).toBe(before + 20);
    broker.close();
    expect(openFdCount()).toBe(before);
    expect(() => broker.domain(1)).toThrow(expect.objectContaining({ code: 'EVTCHN_BROKER_CLOSED' }));
  });

  it('validates arguments at the boundary', () => {
    using broker = new HostEvtchnBroker();
    expect(() => broker.domain(40000)).toThrow(/domid: expected an integer in \[0, 32751\]/);
    expect(() => broker.domain(1).allocUnbound(-1)).toThrow(/remoteDomid/);
    expect(() => broker.domain(1).bindInterdomain(2, 0)).toThrow(/remotePort/);
  });
});
