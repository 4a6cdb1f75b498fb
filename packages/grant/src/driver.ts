/**
 * The grant driver interface. The host driver (memfd regions,
 * src/host-driver.ts) implements it now; the xen driver (gntshr/gntdev)
 * will sit in a sibling file behind the same interface, so GrantTable and
 * everything above never branch on the mode.
 */

/** Access a grant gives its grantee. */
export type GrantAccess = 'rw' | 'ro';

/** A region shared by its owner: the owner's mapping and the handle the broker hands out. */
export interface SharedRegion {
  /** Host driver: the memfd descriptor. -1 once closed. */
  readonly handle: number;
  /** The owner's read-write mapping; undefined once unmapped. */
  readonly buffer: ArrayBuffer | undefined;
  /** Stops new mappings: the handle is closed. Idempotent. */
  closeHandle(): void;
  /** Unmaps the owner's mapping (its ArrayBuffer is detached). Idempotent. */
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
  /** Creates, maps (for the owner) and seals a region. Throws ErrnoError GRANT_SHARE_FAILED. */
  share(bytes: number, access: GrantAccess): SharedRegion;
  /** Verifies and maps a region handed in. Throws the map-side errors of grant-error.ts. */
  map(handle: number, bytes: number, access: GrantAccess): MappedRegion;
  /** The checks of map() without mapping. Throws the map-side errors of grant-error.ts. */
  verify(handle: number, bytes: number, access: GrantAccess): void;
}
