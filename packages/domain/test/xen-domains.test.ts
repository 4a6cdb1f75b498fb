import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { XenstoreWatch } from '@vpio/xenstore';
import { XenDomains, gnttabFramesNeeded, parseGnttabMaxFrames, parseXlList, resolvePlatformMode, xlConfig } from '../src/index.js';

const XL_LIST = `Name                                        ID   Mem VCPUs\tState\tTime(s)
Domain-0                                     0  1024     1     r-----      12.0
g1                                           3   128     1     -b----       1.2
`;

/** A @releaseDomain watch the test fires by hand. */
function fakeXenstore(): { xenstore: { watch(path: string): Promise<XenstoreWatch> }; fire(): void } {
  let push: ((v: IteratorResult<{ path: string; token: string }>) => void) | undefined;
  const pending: Array<IteratorResult<{ path: string; token: string }>> = [];
  const w = {
    next: () => new Promise<IteratorResult<{ path: string; token: string }>>((r) => (pending.length ? r(pending.shift()!) : (push = r))),
    close: async () => push?.({ done: true, value: undefined }),
    [Symbol.asyncIterator]() { return this; },
  } as unknown as XenstoreWatch;
  return {
    xenstore: { watch: async () => w },
    fire: () => {
      const v = { done: false, value: { path: '@releaseDomain', token: 't' } };
      if (push) { const p = push; push = undefined; p(v); } else pending.push(v);
    },
  };
}

describe('xen domain driver (xl injected)', () => {
  it('writes a PV config without vif=, creates paused, runs the hook before unpause, and releases on @releaseDomain once xl forgets it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vpio-xen-'));
    const calls: string[] = [];
    let listed = XL_LIST;
    const { xenstore, fire } = fakeXenstore();
    const xd = new XenDomains({
      dir, xenstore, runXl: async (args) => {
        calls.push(args.join(' '));
        if (args[0] === 'list') return listed;
        if (args[0] === 'domid') return '3\n';
        return '';
      },
    });
    await xd.start();
    const d = await xd.createDomain({ name: 'g1', kernel: '/k', ramdisk: '/r', cmdline: 'a=1 b="2"', memoryMiB: 64 }, {
      beforeUnpause: async (domid) => void calls.push(`hook ${domid}`),
    });
    expect(d.domid).toBe(3);
    expect(calls.filter((c) => c !== 'list')).toEqual([`create -p ${dir}/xen/g1.cfg`, 'domid g1', 'hook 3', 'unpause 3']);
    const released = new Promise((r) => xd.once('domainReleased', (x, exit) => r([x.domid, exit.reason])));
    fire(); // still listed: nothing
    await new Promise((r) => setTimeout(r, 20));
    expect(xd.domains()).toHaveLength(1);
    listed = XL_LIST.split('\n').slice(0, 2).join('\n');
    fire();
    expect(await released).toEqual([3, 'gone']);
    expect(xd.domains()).toHaveLength(0);
    await xd.close();
  });

  it('undoes a domain whose hook fails (xl destroy) and names the step', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vpio-xen-'));
    const calls: string[] = [];
    const xd = new XenDomains({ dir, xenstore: fakeXenstore().xenstore, runXl: async (a) => (calls.push(a.join(' ')), a[0] === 'domid' ? '5' : a[0] === 'list' ? XL_LIST : '') });
    await xd.start();
    await expect(xd.createDomain({ name: 'g2', kernel: '/k' }, { beforeUnpause: async () => { throw new Error('no vif'); } }))
      .rejects.toMatchObject({ code: 'DOMAIN_CREATE', message: expect.stringContaining('step before-unpause') });
    expect(calls).toContain('destroy 5');
    expect(calls).not.toContain('unpause 5');
    await expect(xd.createDomain({ name: 'bad name', kernel: '/k' })).rejects.toMatchObject({ code: 'ERR_ARGUMENT', parameter: 'name' });
    await xd.close();
  });

  it('pure parts: config, xl list, gnttab_max_frames, mode resolution', () => {
    const cfg = xlConfig({ name: 'g', kernel: '/k', cmdline: 'x="y"' });
    expect(cfg).toContain('type = "pv"');
    expect(cfg).toContain('extra = "x=\\"y\\""');
    expect(cfg).not.toMatch(/vif/);
    expect([...parseXlList(XL_LIST).keys()]).toEqual([0, 3]);
    expect(parseGnttabMaxFrames('xen_commandline        : console=com1 gnttab_max_frames=256 dom0_mem=1G\n')).toBe(256);
    expect(parseGnttabMaxFrames('xen_commandline        : console=com1\n')).toBeUndefined();
    expect(gnttabFramesNeeded(100 * 1066)).toBe(211);
    const dir = mkdtempSync(join(tmpdir(), 'vpio-caps-'));
    writeFileSync(join(dir, 'dom0'), 'control_d\n');
    writeFileSync(join(dir, 'domu'), '');
    expect(resolvePlatformMode('auto', join(dir, 'dom0'))).toBe('xen');
    expect(resolvePlatformMode('auto', join(dir, 'domu'))).toBe('host');
    expect(resolvePlatformMode('auto', join(dir, 'none'))).toBe('host');
    expect(resolvePlatformMode('host', join(dir, 'dom0'))).toBe('host');
    expect(() => resolvePlatformMode('xen', join(dir, 'none'))).toThrow(expect.objectContaining({ code: 'XEN_UNAVAILABLE', message: expect.stringContaining('--mode host') }));
  });
});
