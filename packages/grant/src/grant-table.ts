/**
 * The owner's grant table: grants whole regions to one (grantee, access)
 * pair each, hands out small grant references like Xen's, enforces the
 * owner's limits, and walks each grant through
 *
 *     active ──revoke()──▶ revoked ──release()──▶ released
 *        └──────────────release()─────────────────────┘
 *
 * - active:   the region's descriptor is open (the broker may pass it to the
 *             grantee) and the owner's mapping is usable.
 * - revoked:  the descriptor is closed, so no new mapping can ever be made
 *             from this owner; mappings the grantee already has stay valid,
 *             so the owner keeps its mapping and the grant keeps counting
 *             against the limits.
 * - released: the grantee is gone (the broker calls release() on
 *             @releaseDomain): the owner's mapping is unmapped (its buffer
 *             detached), the memory is returned, the bytes leave the
 *             limits and the ref may be reused.
 *
 * A ref is never reused while its grant is unreleased, so a stale ref held
 * by a live grantee can never name another region.
 *
 * Refs: with the host driver the table numbers each region (one ref per
 * region, `refs` = [ref]); with the xen driver a region of N pages is N Xen
 * grant refs, one per page in page order (`refs`), `ref` is refs[0] and
 * `fd` is -1: grantees map by the owner's domid and the refs. With the xen
 * driver, revoke() only changes the state: a Xen grant cannot refuse new
 * mappings while the owner keeps its own, so it ends at release().
 */
import { ArgumentError, expectInteger, expectOneOf } from '@vpio/errors';
import type { GrantAccess, GrantDriver, SharedRegion } from './driver.js';
import { GrantError } from './grant-error.js';
import { hostGrantDriver } from './host-driver.js';

/** Lifecycle state of a grant (see the module comment). */
export type GrantState = 'active' | 'revoked' | 'released';

/** Highest domid a grantee may have (Xen's DOMID_FIRST_RESERVED - 1). */
export const MAX_DOMID = 32751;

/** Refs below this are reserved, as in Xen (console, xenstore). */
export const FIRST_GRANT_REF = 8;

export interface GrantLimits {
  /** Unreleased grants this owner may hold. */
  readonly maxGrants: number;
  /** Bytes of unreleased grants this owner may hold. */
  readonly maxBytes: number;
}

export const DEFAULT_GRANT_LIMITS: GrantLimits = Object.freeze({ maxGrants: 1024, maxBytes: 64 * 1024 * 1024 });

export interface GrantTableOptions {
  /** The owner's domid (0: dom0). */
  readonly domid?: number;
  readonly limits?: Partial<GrantLimits>;
  /** Defaults to the host driver. */
  readonly driver?: GrantDriver;
}

export interface GrantRegionOptions {
  /** Size in bytes, a positive multiple of the page size. */
  readonly bytes: number;
  /** The one domain this region is granted to. */
  readonly grantee: number;
  readonly access: GrantAccess;
}

/** A hold on a grant's owner mapping (Grant.hold()): the memory stays mapped until it is dropped. */
export interface GrantHold {
  /** Ends the hold. Idempotent. A released grant is unmapped when its last hold ends. */
  drop(): void;
  [Symbol.dispose](): void;
}

/** One granted region, owned by its GrantTable. */
export class Grant {
  #state: GrantState = 'active';
  #view: Buffer | undefined;
  #holds = 0;
  #unmapPending = false;

  /** @internal created by GrantTable.grantRegion() */
  constructor(
    private readonly table: GrantTable,
    private readonly region: SharedRegion,
    readonly ref: number,
    /** The grant refs a grantee maps: host [ref]; xen one per page, in page order. */
    readonly refs: readonly number[],
    readonly bytes: number,
    readonly access: GrantAccess,
    readonly grantee: number,
  ) {}

  get state(): GrantState {
    return this.#state;
  }

  /**
   * The region's descriptor, for the broker to pass to the grantee (xen
   * driver: always -1, there is no descriptor to pass). Throws
   * GRANT_REVOKED after revoke().
   */
  get fd(): number {
    if (this.#state !== 'active') {
      throw new GrantError('GRANT_REVOKED', `grant ref ${this.ref} was ${this.#state}: its descriptor is closed`);
    }
    return this.region.handle;
  }

  /** The owner's read-write mapping. Throws GRANT_RELEASED after release(). */
  get buffer(): Buffer {
    const ab = this.region.buffer;
    if (this.#state === 'released' || ab === undefined) {
      throw new GrantError('GRANT_RELEASED', `grant ref ${this.ref} was released: its memory is gone`);
    }
    this.#view ??= Buffer.from(ab);
    return this.#view;
  }

  /**
   * Stops new mappings (closes the descriptor). Idempotent; memory stays
   * until release(). Xen driver: the state changes, the grants stay valid
   * until release() (see the module comment).
   */
  revoke(): void {
    if (this.#state !== 'active') return;
    this.region.closeHandle();
    this.#state = 'revoked';
  }

  /**
   * Keeps the owner's mapping alive for native code that holds raw pointers
   * into it (the switch's ports): release() with holds outstanding revokes,
   * marks the grant released and stops handing out `buffer`, but unmaps
   * (and frees the ref and the bytes) only when the last hold is dropped.
   * Views are detached at that point, never while a holder may still use
   * the memory. Throws GRANT_RELEASED on a released grant.
   */
  hold(): GrantHold {
    if (this.#state === 'released') {
      throw new GrantError('GRANT_RELEASED', `grant ref ${this.ref} was released: its memory is gone`);
    }
    this.#holds++;
    let held = true;
    const drop = (): void => {
      if (!held) return;
      held = false;
      this.#holds--;
      if (this.#holds === 0 && this.#unmapPending) this.#unmap();
    };
    return { drop, [Symbol.dispose]: drop };
  }

  /** Holds taken with hold() and not dropped yet. */
  get holds(): number {
    return this.#holds;
  }

  /**
   * Revokes if needed, unmaps the owner's mapping and frees the ref. Call
   * once the grantee is gone. Idempotent. With holds outstanding the unmap
   * waits for the last one (see hold()).
   */
  release(): void {
    if (this.#state === 'released') return;
    this.revoke();
    this.#view = undefined;
    this.#state = 'released';
    if (this.#holds > 0) {
      this.#unmapPending = true;
      return;
    }
    this.#unmap();
  }

  #unmap(): void {
    this.#unmapPending = false;
    try {
      this.region.unmap();
    } finally {
      this.table._forget(this);
    }
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

/** A domain's grant table (host mode: one per owner process). */
export class GrantTable {
  readonly domid: number;
  readonly limits: GrantLimits;
  readonly driver: GrantDriver;
  readonly #grants = new Map<number, Grant>();
  readonly #freeRefs: number[] = [];
  /** Refs the driver made (xen): never recycled through #freeRefs. */
  readonly #driverRefs = new Set<number>();
  #nextRef = FIRST_GRANT_REF;
  #bytes = 0;
  #closed = false;

  constructor(options: GrantTableOptions = {}) {
    this.domid = expectInteger('options.domid', options.domid ?? 0, 0, MAX_DOMID);
    const maxGrants = expectInteger(
      'options.limits.maxGrants',
      options.limits?.maxGrants ?? DEFAULT_GRANT_LIMITS.maxGrants,
      1,
      1 << 20,
    );
    const maxBytes = expectInteger(
      'options.limits.maxBytes',
      options.limits?.maxBytes ?? DEFAULT_GRANT_LIMITS.maxBytes,
      1,
      Number.MAX_SAFE_INTEGER,
    );
    this.limits = Object.freeze({ maxGrants, maxBytes });
    this.driver = options.driver ?? hostGrantDriver;
  }

  /** Unreleased grants and their bytes (revoked ones included: their memory is still held). */
  get usage(): { readonly grants: number; readonly bytes: number } {
    return { grants: this.#grants.size, bytes: this.#bytes };
  }

  /**
   * Creates a region, maps it for the owner, seals it (host) and grants it
   * to `grantee` with `access`. Throws ERR_ARGUMENT, GRANT_LIMIT_GRANTS,
   * GRANT_LIMIT_BYTES, GRANT_TABLE_CLOSED, GRANT_SHARE_FAILED, and with the
   * xen driver GRANT_XEN_LIMIT.
   */
  grantRegion(options: GrantRegionOptions): Grant {
    this.#checkOpen();
    if (typeof options !== 'object' || options === null) throw new ArgumentError('options', 'an object', options);
    const page = this.driver.pageSize;
    const bytes = expectInteger('options.bytes', options.bytes, 1, Number.MAX_SAFE_INTEGER);
    if (bytes % page !== 0) throw new ArgumentError('options.bytes', `a multiple of the page size (${page})`, bytes);
    const grantee = expectInteger('options.grantee', options.grantee, 0, MAX_DOMID);
    const access = expectOneOf('options.access', options.access, ['rw', 'ro'] as const);
    if (this.#grants.size >= this.limits.maxGrants) {
      throw new GrantError(
        'GRANT_LIMIT_GRANTS',
        `domain ${this.domid} holds ${this.#grants.size} unreleased grants, the limit is ${this.limits.maxGrants}`,
      );
    }
    if (this.#bytes + bytes > this.limits.maxBytes) {
      throw new GrantError(
        'GRANT_LIMIT_BYTES',
        `granting ${bytes} bytes would take domain ${this.domid} to ${this.#bytes + bytes} bytes, the limit is ${this.limits.maxBytes}`,
      );
    }
    const region = this.driver.share(bytes, access, grantee);
    let ref: number;
    let refs: readonly number[];
    if (region.refs === undefined) {
      ref = this.#freeRefs.pop() ?? this.#nextRef++;
      refs = Object.freeze([ref]);
    } else {
      refs = Object.freeze([...region.refs]);
      ref = refs[0] ?? -1;
      if (refs.length !== bytes / page || this.#grants.has(ref)) {
        region.unmap();
        throw new GrantError(
          'GRANT_SHARE_FAILED',
          `the ${this.driver.name} driver returned ${refs.length} refs (first ${ref}) for ${bytes / page} pages${this.#grants.has(ref) ? ', the first one already in use' : ''}`,
        );
      }
      this.#driverRefs.add(ref);
    }
    const grant = new Grant(this, region, ref, refs, bytes, access, grantee);
    this.#grants.set(ref, grant);
    this.#bytes += bytes;
    return grant;
  }

  /** The unreleased grant with this ref. Throws GRANT_NO_SUCH_REF. */
  get(ref: number): Grant {
    const grant = this.#grants.get(ref);
    if (grant === undefined) throw new GrantError('GRANT_NO_SUCH_REF', `domain ${this.domid} has no grant ref ${String(ref)}`);
    return grant;
  }

  /** Unreleased grants, by ascending ref. */
  list(): Grant[] {
    return [...this.#grants.values()].sort((a, b) => a.ref - b.ref);
  }

  /** Revokes every grant to `grantee`; returns how many were active. */
  revokeGrantee(grantee: number): number {
    let n = 0;
    for (const g of this.list()) {
      if (g.grantee === grantee && g.state === 'active') {
        g.revoke();
        n++;
      }
    }
    return n;
  }

  /** Releases every grant to `grantee` (it is gone); returns how many. */
  releaseGrantee(grantee: number): number {
    let n = 0;
    for (const g of this.list()) {
      if (g.grantee === grantee) {
        g.release();
        n++;
      }
    }
    return n;
  }

  /** Releases every grant; further grants throw GRANT_TABLE_CLOSED. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const g of this.list()) g.release();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal called by Grant.release() */
  _forget(grant: Grant): void {
    if (this.#grants.get(grant.ref) !== grant) return;
    this.#grants.delete(grant.ref);
    this.#bytes -= grant.bytes;
    if (!this.#driverRefs.delete(grant.ref)) this.#freeRefs.push(grant.ref);
  }

  #checkOpen(): void {
    if (this.#closed) throw new GrantError('GRANT_TABLE_CLOSED', `the grant table of domain ${this.domid} is closed`);
  }
}
