/**
 * The map side (what a grantee calls). It never depends on the broker or
 * the domain package: it gets a descriptor and a promise (size, access) and
 * checks the descriptor against the promise before mapping it.
 */
import { ArgumentError, expectInteger, expectOneOf } from '@vpio/errors';
import type { GrantAccess, GrantDriver, MappedRegion } from './driver.js';
import { GrantError } from './grant-error.js';
import { hostGrantDriver } from './host-driver.js';

export interface MapGrantOptions {
  /** The size the broker promised; the region must be exactly this size. */
  readonly bytes: number;
  readonly access: GrantAccess;
  /** Defaults to the host driver. */
  readonly driver?: GrantDriver;
}

/** A grantee's mapping. Holds no descriptor. */
export class Mapping {
  #region: MappedRegion | undefined;
  #view: Buffer | undefined;

  /** @internal created by mapGrant() */
  constructor(
    region: MappedRegion,
    readonly bytes: number,
    readonly access: GrantAccess,
  ) {
    this.#region = region;
  }

  get closed(): boolean {
    return this.#region === undefined;
  }

  /** The mapped memory (read-only grants: writing it faults; do not). Throws GRANT_MAPPING_CLOSED after close(). */
  get buffer(): Buffer {
    const ab = this.#region?.buffer;
    if (ab === undefined) throw new GrantError('GRANT_MAPPING_CLOSED', 'the mapping was closed');
    this.#view ??= Buffer.from(ab);
    return this.#view;
  }

  /** Unmaps; every view of the buffer becomes empty. Idempotent. */
  close(): void {
    const region = this.#region;
    if (region === undefined) return;
    this.#region = undefined;
    this.#view = undefined;
    region.unmap();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Maps the region behind `fd` (host driver: a memfd descriptor handed in)
 * after checking it is size-sealed, write-sealed for 'ro', and exactly
 * `bytes` long. The descriptor stays the caller's: close it whenever you
 * like, the mapping does not need it. Throws ERR_ARGUMENT or the map-side
 * errors (GRANT_BAD_FD, GRANT_NOT_MEMFD, GRANT_UNSEALED,
 * GRANT_ACCESS_MISMATCH, GRANT_SIZE_MISMATCH, GRANT_MAP_FAILED).
 */
export function mapGrant(fd: number, options: MapGrantOptions): Mapping {
  const handle = expectInteger('fd', fd, 0, 0x7fffffff);
  if (typeof options !== 'object' || options === null) throw new ArgumentError('options', 'an object', options);
  const bytes = expectInteger('options.bytes', options.bytes, 1, Number.MAX_SAFE_INTEGER);
  const access = expectOneOf('options.access', options.access, ['rw', 'ro'] as const);
  const driver = options.driver ?? hostGrantDriver;
  return new Mapping(driver.map(handle, bytes, access), bytes, access);
}

/**
 * Checks, without mapping, that the region behind `fd` could be mapped with
 * this size and access (the checks mapGrant() makes): what a broker runs on
 * a descriptor a domain hands in before it passes it on. Returns nothing;
 * throws ERR_ARGUMENT or the map-side errors (ErrnoError with `errno`:
 * GRANT_BAD_FD, GRANT_NOT_MEMFD, GRANT_UNSEALED, GRANT_ACCESS_MISMATCH,
 * GRANT_SIZE_MISMATCH).
 */
export function verifyGrantFd(fd: number, options: MapGrantOptions): void {
  const handle = expectInteger('fd', fd, 0, 0x7fffffff);
  if (typeof options !== 'object' || options === null) throw new ArgumentError('options', 'an object', options);
  const bytes = expectInteger('options.bytes', options.bytes, 1, Number.MAX_SAFE_INTEGER);
  const access = expectOneOf('options.access', options.access, ['rw', 'ro'] as const);
  const driver = options.driver ?? hostGrantDriver;
  driver.verify(handle, bytes, access);
}
