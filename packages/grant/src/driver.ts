/**
 * The grant driver interface. The host driver (memfd regions,
 * src/host-driver.ts) and the xen driver (gntalloc/gntdev through
 * libxengnttab, src/xen-driver.ts) implement it, so GrantTable and
 * everything above never branch on the mode.
 */

/** Access a grant gives its grantee. */
export type GrantAccess = 'rw' | 'ro';

/** A region shared by its owner: the owner's mapping and the handle the broker hands out. */
export interface SharedRegion {
  /** Host driver: the memfd descriptor, -1 once closed. Xen driver: always -1 (grantees map by domid + refs). */
  readonly handle: number;
  /**
   * Grant refs the driver made, one per page in page order (xen driver:
   * Xen's grant refs). Undefined when the driver makes none and the table
   * numbers the region itself (host driver).
   */
  readonly refs?: readonly number[];
  /** The owner's read-write mapping; undefined once unmapped. */
  readonly buffer: ArrayBuffer | undefined;
  /**
   * Stops new mappings: the handle is closed. Idempotent. Xen driver: does
   * nothing (a Xen grant cannot refuse new mappings while the owner keeps
   * its own; it ends with unmap()).
   */
  closeHandle(): void;
  /** Unmaps the owner's mapping (its ArrayBuffer is detached); xen: ends the grants. Idempotent. */
  unmap(): void;
}

/** A grantee's mapping of a region. */
export interface MappedRegion {
  readonly buffer: ArrayBuffer | undefined;
  unmap(): void;
}

export interface GrantDriver {
  readonly name: string;
  /** Grants are whole pages: sizes are multiples of this. */
  readonly pageSize: number;
  /**
   * Creates a region of `bytes` (a multiple of pageSize), maps it for the
   * owner and makes it mappable by `grantee` with `access` (host: sealed
   * memfd, grantee unused, the broker decides who gets the descriptor;
   * xen: one grant to `grantee` per page). Throws ErrnoError
   * GRANT_SHARE_FAILED, and on xen GRANT_XEN_LIMIT.
   */
  share(bytes: number, access: GrantAccess, grantee: number): SharedRegion;
  /** Verifies and maps a region handed in. Throws the map-side errors of grant-error.ts. */
  map(handle: number, bytes: number, access: GrantAccess): MappedRegion;
  /** The checks of map() without mapping. Throws the map-side errors of grant-error.ts. */
  verify(handle: number, bytes: number, access: GrantAccess): void;
}
