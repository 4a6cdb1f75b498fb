import { ErrnoError, VpioError } from '@vpio/errors';

/**
 * Codes of the errors @vpio/grant throws (besides ERR_ARGUMENT):
 *
 * grant side (GrantError unless noted)
 * - GRANT_LIMIT_GRANTS     the owner already holds maxGrants unreleased grants
 * - GRANT_LIMIT_BYTES      this grant would take the owner past maxBytes
 * - GRANT_NO_SUCH_REF      no grant with that ref in this table (or released)
 * - GRANT_REVOKED          the grant's descriptor was asked for after revoke()
 * - GRANT_RELEASED         the owner's buffer was asked for after release()
 * - GRANT_TABLE_CLOSED     the table was closed
 * - GRANT_SHARE_FAILED     (ErrnoError) creating or sealing the region failed
 * - GRANT_XEN_LIMIT        (ErrnoError ENOSPC) xen driver: gntalloc's page limit
 *                          (/sys/module/xen_gntalloc/parameters/limit) or the domain's
 *                          Xen grant table (gnttab_max_frames) is exhausted
 * - XEN_UNAVAILABLE        the xen driver was asked for where a device it needs
 *                          (/dev/xen/gntalloc, /dev/xen/gntdev) is missing: not a Xen domain,
 *                          or the module is not loaded
 * - GRANT_XEN_BY_REFS      an fd-based map/verify was asked of the xen driver (map by
 *                          domid + refs with mapXenGrantRefs())
 *
 * map side (ErrnoError: `errno` says what the C check returned)
 * - GRANT_BAD_FD           not an open descriptor (EBADF)
 * - GRANT_NOT_MEMFD        not a sealable memfd: a pipe, a file, a socket (EINVAL)
 * - GRANT_UNSEALED         size not sealed: F_SEAL_SHRINK, F_SEAL_GROW and F_SEAL_SEAL are
 *                          all required, or the owner could shrink it under us (EPERM)
 * - GRANT_ACCESS_MISMATCH  a read-only grant without a write seal, a read-write grant that is
 *                          write-sealed (EPERM), or read-write through a read-only descriptor (EACCES)
 * - GRANT_SIZE_MISMATCH    the region's size is not the promised one (EMSGSIZE)
 * - GRANT_MAP_FAILED       mmap failed (ENOMEM, ...)
 * - GRANT_MAPPING_CLOSED   (GrantError) the mapping was used after close()
 */
export type GrantErrorCode =
  | 'GRANT_LIMIT_GRANTS'
  | 'GRANT_LIMIT_BYTES'
  | 'GRANT_NO_SUCH_REF'
  | 'GRANT_REVOKED'
  | 'GRANT_RELEASED'
  | 'GRANT_TABLE_CLOSED'
  | 'GRANT_SHARE_FAILED'
  | 'GRANT_XEN_LIMIT'
  | 'GRANT_XEN_BY_REFS'
  | 'XEN_UNAVAILABLE'
  | 'GRANT_BAD_FD'
  | 'GRANT_NOT_MEMFD'
  | 'GRANT_UNSEALED'
  | 'GRANT_ACCESS_MISMATCH'
  | 'GRANT_SIZE_MISMATCH'
  | 'GRANT_MAP_FAILED'
  | 'GRANT_MAPPING_CLOSED';

/** A grant-table error without an errno; `code` says which. */
export class GrantError extends VpioError {
  declare readonly code: GrantErrorCode;

  constructor(code: GrantErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Seal bits, as Linux numbers them (vpio/grant.h repeats them as VGNT_SEAL_*). */
export const SEAL = Object.freeze({
  SEAL: 0x1,
  SHRINK: 0x2,
  GROW: 0x4,
  WRITE: 0x8,
  FUTURE_WRITE: 0x10,
});

/** Names of the seal bits set in `seals`, for messages. */
export function sealNames(seals: number): string[] {
  return Object.entries(SEAL)
    .filter(([, bit]) => (seals & bit) !== 0)
    .map(([name]) => `F_SEAL_${name}`);
}

const EBADF = 9;
const EACCES = 13;
const EPERM = 1;
const EINVAL = 22;
const EMSGSIZE = 90;

/**
 * Turns a negative errno from the map side's check into the error users
 * see. `seals` (the descriptor's seal bits, or a negative errno) makes an
 * EPERM say which seal is missing.
 */
export function mapSideError(rc: number, what: string, access: 'ro' | 'rw', seals: number): ErrnoError {
  const errno = -rc;
  const have = seals >= 0 ? (sealNames(seals).join('|') || 'no seals') : 'seals unknown';
  switch (errno) {
    case EBADF:
      return new ErrnoError('GRANT_BAD_FD', rc, `${what}: not an open descriptor`);
    case EINVAL:
      return new ErrnoError('GRANT_NOT_MEMFD', rc, `${what}: not a sealable memfd region`);
    case EACCES:
      return new ErrnoError('GRANT_ACCESS_MISMATCH', rc, `${what}: a read-write grant through a read-only descriptor`);
    case EMSGSIZE:
      return new ErrnoError('GRANT_SIZE_MISMATCH', rc, `${what}: the region's size is not the promised size`);
    case EPERM: {
      const size = SEAL.SHRINK | SEAL.GROW | SEAL.SEAL;
      if (seals < 0 || (seals & size) !== size) {
        return new ErrnoError(
          'GRANT_UNSEALED',
          rc,
          `${what}: refusing a region whose size is not sealed (needs F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_SEAL, has ${have}); its owner could shrink it and fault the mapper`,
        );
      }
      return new ErrnoError(
        'GRANT_ACCESS_MISMATCH',
        rc,
        access === 'ro'
          ? `${what}: a read-only grant must carry F_SEAL_FUTURE_WRITE or F_SEAL_WRITE (has ${have})`
          : `${what}: a read-write grant is write-sealed (has ${have})`,
      );
    }
    default:
      return new ErrnoError('GRANT_MAP_FAILED', rc, `${what}: mmap failed`);
  }
}
