/**
 * The xen event-channel driver where there is no Xen (this host, CI):
 * selecting it fails with XEN_UNAVAILABLE naming /dev/xen/evtchn, the host
 * addon needs no Xen library, and both drivers' ends present one shape
 * (mode, port, descriptors). Real Xen behaviour: the lab
 * (xen/tests/drivers.sh) and test-evtchn-xen's self-channel cases there.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineTapSuite, runTapProgram } from '@vpio/devkit/c-tests';
import { describe, expect, it } from 'vitest';
import { HostEvtchnBroker, createChannelPair, openXenEventChannels, type EvtchnPorts } from '../src/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const noXen = !existsSync('/dev/xen/evtchn');

defineTapSuite('test-evtchn-xen (C, ASan + UBSan)', await runTapProgram(join(root, 'build', 'test', 'test-evtchn-xen'), { cwd: root }), {
  minCases: 2,
});

describe.skipIf(!noXen)('the xen driver without Xen', () => {
  it('refuses to be selected with XEN_UNAVAILABLE naming /dev/xen/evtchn and saying this is not a Xen domain', () => {
    expect(() => openXenEventChannels()).toThrow(
      expect.objectContaining({
        code: 'XEN_UNAVAILABLE',
        message: expect.stringMatching(/\/dev\/xen\/evtchn is missing: this is not a Xen domain/),
      }),
    );
  });

  it('checks its options before looking for the device', () => {
    expect(() => openXenEventChannels({ maxPorts: 0 })).toThrow(/options.maxPorts: expected an integer/);
  });
});

describe('one shape for both drivers', () => {
  it('host ends say mode host and have no port; the host handle is an EvtchnPorts with end(port)', () => {
    const [a, b] = createChannelPair();
    expect([a.mode, a.port]).toEqual(['host', undefined]);
    a.close();
    b.close();
    using broker = new HostEvtchnBroker();
    const ports: EvtchnPorts = broker.domain(1);
    const p1 = ports.allocUnbound(2);
    const p2 = broker.domain(2).bindInterdomain(1, p1);
    expect(ports.mode).toBe('host');
    expect(ports.end(p1).rxFd).toBe(ports.fd(p1));
    expect(broker.domain(2).end(p2).mode).toBe('host');
  });

  it('the host addon needs no Xen library; the xen addon links libxenevtchn', () => {
    const needed = (file: string): string =>
      execFileSync('readelf', ['-d', join(root, 'build', 'Release', file)], { encoding: 'utf8' });
    expect(needed('vpio_evtchn.node')).not.toMatch(/libxen/);
    expect(needed('vpio_evtchn_xen.node')).toMatch(/\[libxenevtchn\.so\.1\]/);
  });
});
