/**
 * The xen grant driver: Xen grant tables through libxengnttab, in the
 * separate addon vpio_grant_xen.node (csrc/grant_xen_*.c), loaded only
 * here, so host mode never needs a Xen library.
 *
 *   share side (dom0)   libxengntshr over /dev/xen/gntalloc: a region of N
 *                       pages is N grant refs to one domain, one per page,
 *                       in page order, mapped contiguously for the owner
 *   map side            libxengnttab over /dev/xen/gntdev: N refs of one
 *                       domain mapped contiguously (mapXenGrantRefs)
 *
 * Selecting the driver where the devices are missing throws
 * XEN_UNAVAILABLE (not a Xen domain, or the module is not loaded). The
 * kernel's and Xen's limits: see xenGrantLimits() and the README.
 */
import { accessSync, constants, readFileSync, writeFileSync } from 'node:fs';
import { loadAddon } from '@vpio/addon';
import { ArgumentError, ErrnoError, expectInteger, expectOneOf } from '@vpio/errors';
import type { GrantAccess, GrantDriver, MappedRegion, SharedRegion } from './driver.js';
import { GrantError } from './grant-error.js';
import { MAX_DOMID } from './grant-table.js';
import { Mapping } from './map-grant.js';
import type { NativeRegion } from './native.js';

/** Xen's grant granularity on x86. */
export const XEN_PAGE_BYTES = 4096;

/** Where the kernel keeps its limits (see xenGrantLimits()). */
export const GNTALLOC_LIMIT_PATH = '/sys/module/xen_gntalloc/parameters/limit';
export const GNTDEV_LIMIT_PATH = '/sys/module/xen_gntdev/parameters/limit';

const DEVICES = { gntalloc: '/dev/xen/gntalloc', gntdev: '/dev/xen/gntdev' } as const;
const MODULES = { gntalloc: 'xen-gntalloc', gntdev: 'xen-gntdev' } as const;

const ENOENT = 2;
const ENOSPC = 28;

interface NativeGrantXenAddon {
  share(domid: number, npages: number, rw: boolean): { region: NativeRegion; refs: number[] } | number;
  mapRefs(domid: number, refs: readonly number[], rw: boolean): NativeRegion | number;
}

let addon: NativeGrantXenAddon | undefined;

function loadXenNative(): NativeGrantXenAddon {
  addon ??= loadAddon<NativeGrantXenAddon>({
    packageName: '@vpio/grant',
    addonName: 'vpio_grant_xen',
    fromUrl: import.meta.url,
    code: 'GRANT_XEN_ADDON_MISSING',
  });
  return addon;
}

function readHypervisorType(): string {
  try {
    return readFileSync('/sys/hypervisor/type', 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * Throws XEN_UNAVAILABLE unless the device node the xen driver needs for
 * `side` exists and is readable and writable by this process. The message
 * names the device and says why it is missing.
 */
export function checkXenGrantDevice(side: 'gntalloc' | 'gntdev'): void {
  const path = DEVICES[side];
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? readHypervisorType() === 'xen'
          ? `this is a Xen domain, but ${path} is missing: load the module (modprobe ${MODULES[side]})`
          : `${path} is missing: this is not a Xen domain (no Xen hypervisor: /sys/hypervisor/type is not "xen")`
        : `${path} is not usable (${code ?? 'error'}): the xen driver needs read-write access (root)`;
    throw new GrantError('XEN_UNAVAILABLE', `the xen grant driver is unavailable: ${why}`, { cause });
  }
}

/** The kernel's grant limits, in pages; undefined where the module is not loaded. */
export interface XenGrantLimits {
  /** gntalloc: pages all share-side users of this kernel may hold together (default 1024). */
  readonly gntallocPages: number | undefined;
  /** gntdev: grants one mapping request may map (Linux 6.1: 65536; older kernels: per process). */
  readonly gntdevPagesPerMap: number | undefined;
}

function readLimit(path: string): number | undefined {
  try {
    const v = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Reads the kernel's grant limits (sysfs). Never throws. */
export function xenGrantLimits(): XenGrantLimits {
  return { gntallocPages: readLimit(GNTALLOC_LIMIT_PATH), gntdevPagesPerMap: readLimit(GNTDEV_LIMIT_PATH) };
}

/**
 * Raises gntalloc's page limit to at least `pages` (writes
 * /sys/module/xen_gntalloc/parameters/limit; root). Never lowers it.
 * Returns the limit now in force. Throws ERR_ARGUMENT, XEN_UNAVAILABLE (the
 * module is not loaded), ErrnoError GRANT_XEN_LIMIT (the write failed).
 */
export function raiseGntallocLimit(pages: number): number {
  const want = expectInteger('pages', pages, 1, 0x7fffffff);
  const now = readLimit(GNTALLOC_LIMIT_PATH);
  if (now === undefined) {
    throw new GrantError('XEN_UNAVAILABLE', `cannot read ${GNTALLOC_LIMIT_PATH}: the xen-gntalloc module is not loaded (not a Xen domain?)`);
  }
  if (now >= want) return now;
  try {
    writeFileSync(GNTALLOC_LIMIT_PATH, `${want}\n`);
  } catch (cause) {
    const errno = (cause as NodeJS.ErrnoException).errno ?? -1;
    throw new ErrnoError('GRANT_XEN_LIMIT', errno, `raising ${GNTALLOC_LIMIT_PATH} from ${now} to ${want} pages (needs root)`, { cause });
  }
  return readLimit(GNTALLOC_LIMIT_PATH) ?? want;
}

function shareError(rc: number, npages: number, grantee: number, access: GrantAccess): Error {
  const what = `sharing ${npages} pages ${access} with domain ${grantee}`;
  if (-rc === ENOENT) {
    return new GrantError('XEN_UNAVAILABLE', `${what}: /dev/xen/gntalloc disappeared (the module was unloaded?)`);
  }
  if (-rc !== ENOSPC) return new ErrnoError('GRANT_SHARE_FAILED', rc, `${what} (gntalloc)`);
  const limit = readLimit(GNTALLOC_LIMIT_PATH);
  if (limit !== undefined && npages > limit) {
    return new ErrnoError(
      'GRANT_XEN_LIMIT',
      rc,
      `${what}: ${npages} pages exceed gntalloc's limit of ${limit} pages (${GNTALLOC_LIMIT_PATH}; raise it with raiseGntallocLimit(${npages}) or \`echo ${npages} > ${GNTALLOC_LIMIT_PATH}\` as root)`,
    );
  }
  return new ErrnoError(
    'GRANT_XEN_LIMIT',
    rc,
    `${what}: no room: either gntalloc's limit of ${limit ?? '?'} pages, shared by every gntalloc user of this kernel and counting pages a guest still maps after release (${GNTALLOC_LIMIT_PATH}, writable as root), or this domain's Xen grant table (Xen option gnttab_max_frames, 512 grants per frame) is exhausted`,
  );
}

class XenShared implements SharedRegion {
  readonly refs: readonly number[];

  constructor(
    private readonly region: NativeRegion,
    refs: number[],
  ) {
    this.refs = Object.freeze(refs);
  }

  get handle(): number {
    return -1;
  }

  get buffer(): ArrayBuffer | undefined {
    return this.region.buffer;
  }

  closeHandle(): void {
    // nothing to close: Xen grants end with the owner's mapping (unmap)
  }

  unmap(): void {
    const rc = this.region.unmap();
    if (rc < 0) throw new ErrnoError('GRANT_SHARE_FAILED', rc, 'unsharing (munmap of the gntalloc mapping)');
  }
}

class XenMapped implements MappedRegion {
  constructor(private readonly region: NativeRegion) {}

  get buffer(): ArrayBuffer | undefined {
    return this.region.buffer;
  }

  unmap(): void {
    const rc = this.region.unmap();
    if (rc < 0) throw new ErrnoError('GRANT_MAP_FAILED', rc, 'munmap of a gntdev mapping');
  }
}

function byRefs(): never {
  throw new GrantError(
    'GRANT_XEN_BY_REFS',
    'the xen grant driver maps by domid and grant refs, not by descriptor: use mapXenGrantRefs(domid, refs, { access })',
  );
}

/**
 * The xen grant driver (share side; for GrantTable). Throws
 * XEN_UNAVAILABLE when /dev/xen/gntalloc is missing, GRANT_XEN_ADDON_MISSING
 * when vpio_grant_xen.node was not built. map()/verify() by descriptor throw
 * GRANT_XEN_BY_REFS: grantees map with mapXenGrantRefs().
 */
export function xenGrantDriver(): GrantDriver {
  checkXenGrantDevice('gntalloc');
  const native = loadXenNative();
  return {
    name: 'xen',
    pageSize: XEN_PAGE_BYTES,
    share(bytes: number, access: GrantAccess, grantee: number): SharedRegion {
      const npages = bytes / XEN_PAGE_BYTES;
      const r = native.share(grantee, npages, access === 'rw');
      if (typeof r === 'number') throw shareError(r, npages, grantee, access);
      return new XenShared(r.region, r.refs);
    },
    map: byRefs,
    verify: byRefs,
  };
}

export interface MapXenGrantRefsOptions {
  readonly access: GrantAccess;
}

/**
 * Maps `refs` (one per page, in page order) granted by `domid` as one
 * contiguous range (the map side of the xen driver, over /dev/xen/gntdev).
 * Throws ERR_ARGUMENT, XEN_UNAVAILABLE, ErrnoError GRANT_MAP_FAILED (a ref
 * not granted to us, granted read-only when asked 'rw', ended meanwhile, or
 * more refs than gntdev's per-request limit).
 */
export function mapXenGrantRefs(domid: number, refs: readonly number[], options: MapXenGrantRefsOptions): Mapping {
  const granter = expectInteger('domid', domid, 0, MAX_DOMID);
  if (!Array.isArray(refs) || refs.length === 0 || refs.length > 1 << 20) {
    throw new ArgumentError('refs', 'an array of 1 to 2^20 grant refs', refs);
  }
  refs.forEach((r, i) => expectInteger(`refs[${i}]`, r, 0, 0xffffffff));
  if (typeof options !== 'object' || options === null) throw new ArgumentError('options', 'an object', options);
  const access = expectOneOf('options.access', options.access, ['rw', 'ro'] as const);
  checkXenGrantDevice('gntdev');
  const r = loadXenNative().mapRefs(granter, refs, access === 'rw');
  if (typeof r === 'number') {
    if (-r === ENOENT) throw new GrantError('XEN_UNAVAILABLE', `mapping grants of domain ${granter}: /dev/xen/gntdev disappeared`);
    throw new ErrnoError('GRANT_MAP_FAILED', r, `mapping ${refs.length} grant refs of domain ${granter} (${access}, gntdev)`);
  }
  return new Mapping(new XenMapped(r), refs.length * XEN_PAGE_BYTES, access);
}
