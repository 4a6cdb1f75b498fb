/**
 * The grant broker inside vpiod (host mode): the only way a domain's memory
 * reaches another domain. Control types 0x0101-0x0104 (GRANT_SHARE, END,
 * MAP, UNMAP; layouts in control-protocol.ts and @vpio/guest include/vpio/domain_ctrl.h).
 *
 * Two kinds of grants, one MAP path:
 *   - tenant grants: a guest creates, maps and seals a memfd itself and
 *     sends it with GRANT_SHARE; the broker checks the descriptor as the map
 *     side would (size sealed, exact size, write seal for 'ro', read-write
 *     descriptor for 'rw': @vpio/grant's verifyGrantFd) and keeps it. It
 *     never maps it, so a hostile region cannot fault vpiod;
 *   - dom0 grants: vpiod's own GrantTable (domid 0), e.g. the netback's
 *     rings, granted with grantRegion().
 * MAP checks every ref against the caller (the socket's domid, never the
 * message's) and the access, and answers once for the whole list with one
 * descriptor per ref (lent: vpiod keeps its copy until the grant ends).
 *
 * Accounting per domain: grantPages (pages of its unended grants),
 * maxGrants (descriptors vpiod holds for it), mappedPages (pages of its
 * MAP handles until UNMAP or death). Death of a domain: its grants are
 * revoked and released (descriptors closed), its MAP handles dropped, and
 * every grant others made to it is revoked (no later domain reusing the
 * domid could map it); dom0's grants to it are released.
 *
 * Threading: the vpiod's JS thread; every handler is synchronous.
 */
import { VpioError, expectInteger, expectOneOf, ArgumentError, ErrnoError } from '@vpio/errors';
import { GrantTable, hostGrantDriver, verifyGrantFd, type Grant, type GrantAccess } from '@vpio/grant';
import {
  CTRL_BROKER, DOMID_SELF, GRANT_ACCESS_RO, GRANT_ACCESS_RW, GRANT_MAP_F_WRITABLE, GRANT_MAP_MAX_REFS, readU32s, u32s,
  type ControlMessage,
} from './control-protocol.js';
import type { Domain } from './domain.js';
import { DOMID_MAX } from './domid-allocator.js';
import { errnoReply, ERRNO, type BrokerHost, type ControlReply } from './broker-host.js';

/** Refs below this are reserved, as in Xen. */
const FIRST_REF = 8;
/** Pages per ref word in a MAP reply; bit 31 says the grant is read-write. */
const MAP_WORD_RW = 0x8000_0000;

interface TenantGrant {
  readonly ref: number;
  fd: number; // -1 once revoked
  readonly pages: number;
  readonly grantee: number;
  readonly access: GrantAccess;
}

interface MapHandle {
  readonly granter: number;
  readonly pages: number;
}

interface DomainGrants {
  readonly grants: Map<number, TenantGrant>;
  nextRef: number;
  grantPages: number;
  readonly maps: Map<number, MapHandle>;
  nextHandle: number;
  mappedPages: number;
}

/** What a domain holds in the grant broker (for tests and `vpio` tools). */
export interface GrantUsage {
  /** Its grants vpiod holds a descriptor for (not ended, grantee alive). */
  readonly activeGrants: number;
  /** Its grants not ended yet (revoked ones included). */
  readonly grants: number;
  readonly grantPages: number;
  readonly mapHandles: number;
  readonly mappedPages: number;
}

export class GrantBroker {
  readonly #host: BrokerHost;
  readonly #domains = new Map<number, DomainGrants>();
  readonly #dom0: GrantTable;
  readonly #maxGrantsPerDomain: number;
  readonly #pageSize = hostGrantDriver.pageSize;

  /** @internal created by Vpiod */
  constructor(host: BrokerHost, maxGrantsPerDomain: number, dom0MaxGrants: number) {
    this.#host = host;
    this.#maxGrantsPerDomain = maxGrantsPerDomain;
    this.#dom0 = new GrantTable({ domid: 0, limits: { maxGrants: dom0MaxGrants, maxBytes: Number.MAX_SAFE_INTEGER } });
  }

  /** The page size grants are counted in. */
  get pageSize(): number {
    return this.#pageSize;
  }

  /**
   * dom0 grants a region of its own to a live domain (the netback's rings);
   * the guest maps it with GRANT_MAP(granter 0, [grant.ref]). Throws
   * ERR_ARGUMENT, DOMAIN_NOT_FOUND, or @vpio/grant's GRANT_* errors.
   */
  grantRegion(options: { readonly bytes: number; readonly grantee: number; readonly access: GrantAccess }): Grant {
    if (typeof options !== 'object' || options === null) throw new ArgumentError('options', 'an object', options);
    const grantee = expectInteger('options.grantee', options.grantee, 1, DOMID_MAX);
    expectOneOf('options.access', options.access, ['rw', 'ro'] as const);
    if (!this.#host.isLive(grantee)) throw new VpioError('DOMAIN_NOT_FOUND', `no live domain ${grantee} to grant to`);
    return this.#dom0.grantRegion({ bytes: options.bytes, grantee, access: options.access });
  }

  /** dom0's grant with this ref (GRANT_NO_SUCH_REF if none). End it with grant.revoke()/release(). */
  dom0Grant(ref: number): Grant {
    return this.#dom0.get(ref);
  }

  /** dom0's unreleased grants and bytes. */
  get dom0Usage(): { readonly grants: number; readonly bytes: number } {
    return this.#dom0.usage;
  }

  /** What `domid` holds in the broker (zeros for an unknown domain). */
  usage(domid: number): GrantUsage {
    const d = this.#domains.get(domid);
    if (!d) return { activeGrants: 0, grants: 0, grantPages: 0, mapHandles: 0, mappedPages: 0 };
    let active = 0;
    for (const g of d.grants.values()) if (g.fd >= 0) active++;
    return { activeGrants: active, grants: d.grants.size, grantPages: d.grantPages, mapHandles: d.maps.size, mappedPages: d.mappedPages };
  }

  /** The control handlers, by type. */
  handlers(): Array<[number, (domain: Domain, message: ControlMessage, fds: number[]) => ControlReply]> {
    return [
      [CTRL_BROKER.GRANT_SHARE, (d, m, fds) => this.#share(d, m, fds)],
      [CTRL_BROKER.GRANT_END, (d, m, fds) => this.#noFds(fds, () => this.#end(d, m))],
      [CTRL_BROKER.GRANT_MAP, (d, m, fds) => this.#noFds(fds, () => this.#map(d, m))],
      [CTRL_BROKER.GRANT_UNMAP, (d, m, fds) => this.#noFds(fds, () => this.#unmap(d, m))],
    ];
  }

  /** Everything `domid` held or was granted goes (it is dead). Called by vpiod before @releaseDomain. */
  releaseDomain(domid: number): void {
    const mine = this.#domains.get(domid);
    if (mine) for (const g of mine.grants.values()) this.#closeGrantFd(g);
    this.#domains.delete(domid);
    for (const d of this.#domains.values()) {
      for (const g of d.grants.values()) if (g.grantee === domid) this.#closeGrantFd(g);
    }
    this.#dom0.releaseGrantee(domid);
  }

  /** Closes every descriptor and dom0 grant. */
  close(): void {
    for (const id of [...this.#domains.keys()]) this.releaseDomain(id);
    this.#dom0.close();
  }

  #state(domid: number): DomainGrants {
    let d = this.#domains.get(domid);
    if (!d) {
      d = { grants: new Map(), nextRef: FIRST_REF, grantPages: 0, maps: new Map(), nextHandle: 1, mappedPages: 0 };
      this.#domains.set(domid, d);
    }
    return d;
  }

  #closeGrantFd(g: TenantGrant): void {
    if (g.fd >= 0) this.#host.closeFd(g.fd);
    g.fd = -1;
  }

  #noFds(fds: number[], body: () => ControlReply): ControlReply {
    for (const fd of fds) this.#host.closeFd(fd);
    if (fds.length > 0) return errnoReply(ERRNO.EBADF);
    return body();
  }

  #share(domain: Domain, m: ControlMessage, fds: number[]): ControlReply {
    const closeAll = (): void => fds.forEach((fd) => this.#host.closeFd(fd));
    const f = readU32s(m.payload, 4);
    if (!f) return closeAll(), errnoReply(ERRNO.EINVAL);
    const [dom, grantee, pages, accessCode] = f as [number, number, number, number];
    if (dom !== DOMID_SELF && dom !== domain.domid) return closeAll(), errnoReply(ERRNO.EPERM);
    if (fds.length !== 1) return closeAll(), errnoReply(ERRNO.EBADF);
    if (pages === 0 || (accessCode !== GRANT_ACCESS_RO && accessCode !== GRANT_ACCESS_RW)) return closeAll(), errnoReply(ERRNO.EINVAL);
    if (grantee > DOMID_MAX || (grantee !== 0 && !this.#host.isLive(grantee))) return closeAll(), errnoReply(ERRNO.ESRCH);
    const d = this.#state(domain.domid);
    if (d.grants.size >= this.#maxGrantsPerDomain || d.grantPages + pages > domain.limits.grantPages) return closeAll(), errnoReply(ERRNO.ENOSPC);
    const fd = fds[0]!;
    const access: GrantAccess = accessCode === GRANT_ACCESS_RW ? 'rw' : 'ro';
    try {
      verifyGrantFd(fd, { bytes: pages * this.#pageSize, access });
    } catch (e) {
      closeAll();
      return errnoReply(e instanceof ErrnoError ? e.errno : ERRNO.EINVAL);
    }
    const ref = d.nextRef;
    d.nextRef = d.nextRef >= 0xffff_fff0 ? FIRST_REF : d.nextRef + 1; // refs are not reused within any sane lifetime
    d.grants.set(ref, { ref, fd, pages, grantee, access });
    d.grantPages += pages;
    return { payload: u32s(ref) };
  }

  #end(domain: Domain, m: ControlMessage): ControlReply {
    const f = readU32s(m.payload, 1);
    if (!f) return errnoReply(ERRNO.EINVAL);
    const d = this.#domains.get(domain.domid);
    const g = d?.grants.get(f[0]!);
    if (!d || !g) return errnoReply(ERRNO.ENOENT);
    this.#closeGrantFd(g);
    d.grants.delete(g.ref);
    d.grantPages -= g.pages;
    return { payload: Buffer.alloc(0) };
  }

  #map(domain: Domain, m: ControlMessage): ControlReply {
    const head = readU32s(m.payload, 3, true);
    if (!head) return errnoReply(ERRNO.EINVAL);
    const [granterIn, flags, count] = head as [number, number, number];
    if (count > GRANT_MAP_MAX_REFS) return errnoReply(ERRNO.E2BIG);
    if (count === 0 || head.length !== 3 + count || (flags & ~GRANT_MAP_F_WRITABLE) !== 0) return errnoReply(ERRNO.EINVAL);
    const writable = (flags & GRANT_MAP_F_WRITABLE) !== 0;
    const granter = granterIn === DOMID_SELF ? domain.domid : granterIn;
    if (granter > DOMID_MAX || (granter !== 0 && !this.#host.isLive(granter))) return errnoReply(ERRNO.ESRCH);
    const fds: number[] = [];
    const words: number[] = [];
    let pages = 0;
    for (const ref of head.slice(3)) {
      let found: { fd: number; pages: number; grantee: number; access: GrantAccess } | undefined;
      if (granter === 0) {
        const g = this.#dom0.list().find((x) => x.ref === ref);
        if (g && g.state === 'active') found = { fd: g.fd, pages: g.bytes / this.#pageSize, grantee: g.grantee, access: g.access };
      } else {
        const g = this.#domains.get(granter)?.grants.get(ref);
        if (g && g.fd >= 0) found = g;
      }
      if (!found) return errnoReply(ERRNO.ENOENT);
      if (found.grantee !== domain.domid) return errnoReply(ERRNO.EPERM);
      if (writable && found.access !== 'rw') return errnoReply(ERRNO.EPERM);
      fds.push(found.fd);
      words.push(found.pages | (found.access === 'rw' ? MAP_WORD_RW : 0));
      pages += found.pages;
    }
    const d = this.#state(domain.domid);
    if (d.mappedPages + pages > domain.limits.mappedPages) return errnoReply(ERRNO.ENOSPC);
    const handle = d.nextHandle;
    d.nextHandle = d.nextHandle >= 0xffff_fff0 ? 1 : d.nextHandle + 1;
    d.maps.set(handle, { granter, pages });
    d.mappedPages += pages;
    // lent: vpiod keeps its descriptors until the grant ends
    return { payload: u32s(handle, count, ...words), fds, keepFds: true };
  }

  #unmap(domain: Domain, m: ControlMessage): ControlReply {
    const f = readU32s(m.payload, 1);
    if (!f) return errnoReply(ERRNO.EINVAL);
    const d = this.#domains.get(domain.domid);
    const h = d?.maps.get(f[0]!);
    if (!d || !h) return errnoReply(ERRNO.ENOENT);
    d.maps.delete(f[0]!);
    d.mappedPages -= h.pages;
    return { payload: Buffer.alloc(0) };
  }
}
