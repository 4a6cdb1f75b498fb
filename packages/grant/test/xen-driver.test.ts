/**
 * The xen grant driver where there is no Xen (this host, CI): selecting it
 * fails with XEN_UNAVAILABLE naming the missing device, the host addon
 * does not need any Xen library to load, and GrantTable's ref bookkeeping
 * for drivers that make their own refs (xen: one per page). The driver's
 * real behaviour on Xen is proven in the lab (xen/tests/drivers.sh) and by
 * test-grant-xen's self-grant cases there.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineTapSuite, runTapProgram } from '@vpio/devkit/c-tests';
import { describe, expect, it } from 'vitest';
import {
  GrantTable,
  hostGrantDriver,
  mapXenGrantRefs,
  raiseGntallocLimit,
  xenGrantDriver,
  xenGrantLimits,
  type GrantAccess,
  type GrantDriver,
  type SharedRegion,
} from '../src/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const noXen = !existsSync('/dev/xen/gntalloc');
const PAGE = hostGrantDriver.pageSize;

defineTapSuite('test-grant-xen (C, ASan + UBSan)', await runTapProgram(join(root, 'build', 'test', 'test-grant-xen'), { cwd: root }), {
  minCases: 2,
});

describe.skipIf(!noXen)('the xen driver without Xen', () => {
  it('refuses to be selected with XEN_UNAVAILABLE naming /dev/xen/gntalloc and saying this is not a Xen domain', () => {
    expect(() => xenGrantDriver()).toThrow(
      expect.objectContaining({
        code: 'XEN_UNAVAILABLE',
        message: expect.stringMatching(/\/dev\/xen\/gntalloc is missing: this is not a Xen domain/),
      }),
    );
  });

  it('refuses to map refs with XEN_UNAVAILABLE naming /dev/xen/gntdev', () => {
    expect(() => mapXenGrantRefs(0, [8, 9], { access: 'rw' })).toThrow(
      expect.objectContaining({ code: 'XEN_UNAVAILABLE', message: expect.stringMatching(/\/dev\/xen\/gntdev is missing/) }),
    );
  });

  it('checks mapXenGrantRefs arguments before looking for the device', () => {
    expect(() => mapXenGrantRefs(40000, [8], { access: 'rw' })).toThrow(/domid: expected an integer in \[0, 32751\]/);
    expect(() => mapXenGrantRefs(0, [], { access: 'rw' })).toThrow(/refs: expected an array of 1 to 2\^20 grant refs/);
    expect(() => mapXenGrantRefs(0, [8, -1], { access: 'rw' })).toThrow(/refs\[1\]: expected an integer/);
    expect(() => mapXenGrantRefs(0, [8], { access: 'x' as GrantAccess })).toThrow(/options.access/);
  });

  it('reports no kernel limits and refuses to raise gntalloc\'s with XEN_UNAVAILABLE', () => {
    expect(xenGrantLimits()).toEqual({ gntallocPages: undefined, gntdevPagesPerMap: undefined });
    expect(() => raiseGntallocLimit(4096)).toThrow(expect.objectContaining({ code: 'XEN_UNAVAILABLE' }));
  });
});

describe('addon separation', () => {
  const needed = (file: string): string[] =>
    execFileSync('readelf', ['-d', join(root, 'build', 'Release', file)], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes('(NEEDED)'))
      .map((l) => /\[(.*)\]/.exec(l)?.[1] ?? '');

  it('the host addon needs no Xen library; the xen addon links libxengnttab', () => {
    expect(needed('vpio_grant.node').filter((l) => l.startsWith('libxen'))).toEqual([]);
    expect(needed('vpio_grant_xen.node')).toContain('libxengnttab.so.1');
  });
});

describe('GrantTable refs', () => {
  it('a host grant carries refs [ref]', () => {
    using table = new GrantTable();
    const g = table.grantRegion({ bytes: 2 * PAGE, grantee: 1, access: 'rw' });
    expect(g.refs).toEqual([g.ref]);
  });

  // A driver that makes its own refs, as the xen driver does: the host
  // driver's regions with refs added (the table's bookkeeping is what is
  // under test; the xen driver itself runs in the lab).
  function refMakingDriver(refsFor: (npages: number) => number[]): GrantDriver {
    return {
      name: 'refs',
      pageSize: PAGE,
      share(bytes: number, access: GrantAccess): SharedRegion {
        const r = hostGrantDriver.share(bytes, access, 0);
        const refs = refsFor(bytes / PAGE);
        return { get handle() { return -1; }, get buffer() { return r.buffer; }, refs, closeHandle: () => r.closeHandle(), unmap: () => r.unmap() };
      },
      map: hostGrantDriver.map,
      verify: hostGrantDriver.verify,
    };
  }

  it('takes a driver\'s refs, one per page: ref is refs[0], fd is -1, and the refs are never recycled as table refs', () => {
    let next = 500;
    using table = new GrantTable({ driver: refMakingDriver((n) => Array.from({ length: n }, () => next++)) });
    const a = table.grantRegion({ bytes: 3 * PAGE, grantee: 2, access: 'rw' });
    expect(a.refs).toEqual([500, 501, 502]);
    expect(a.ref).toBe(500);
    expect(a.fd).toBe(-1);
    expect(table.get(500)).toBe(a);
    a.release();
    const b = table.grantRegion({ bytes: PAGE, grantee: 2, access: 'rw' });
    expect(b.refs).toEqual([503]);
    expect(table.usage).toEqual({ grants: 1, bytes: PAGE });
  });

  it('refuses (and unmaps) a region whose refs do not match its pages', () => {
    using table = new GrantTable({ driver: refMakingDriver((n) => Array.from({ length: n - 1 }, (_, i) => 900 + i)) });
    expect(() => table.grantRegion({ bytes: 2 * PAGE, grantee: 2, access: 'rw' })).toThrow(
      expect.objectContaining({ code: 'GRANT_SHARE_FAILED', message: expect.stringMatching(/returned 1 refs .* for 2 pages/) }),
    );
    expect(table.usage).toEqual({ grants: 0, bytes: 0 });
  });
});
