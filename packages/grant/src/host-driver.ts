/**
 * The host grant driver: regions are sealed memfds (csrc/grant_host_*.c
 * through the addon). See vpio/grant.h and vpio/grant_share.h for the
 * sealing rules.
 */
import { ErrnoError } from '@vpio/errors';
import type { GrantAccess, GrantDriver, MappedRegion, SharedRegion } from './driver.js';
import { mapSideError } from './grant-error.js';
import { loadNative, type NativeRegion } from './native.js';

class HostShared implements SharedRegion {
  constructor(private readonly region: NativeRegion) {}

  get handle(): number {
    return this.region.fd;
  }

  get buffer(): ArrayBuffer | undefined {
    return this.region.buffer;
  }

  closeHandle(): void {
    // Linux releases the descriptor even when close() fails; nothing to retry.
    this.region.closeFd();
  }

  unmap(): void {
    const rc = this.region.unmap();
    if (rc < 0) throw new ErrnoError('GRANT_SHARE_FAILED', rc, 'unmapping the owner mapping');
  }
}

class HostMapped implements MappedRegion {
  constructor(private readonly region: NativeRegion) {}

  get buffer(): ArrayBuffer | undefined {
    return this.region.buffer;
  }

  unmap(): void {
    const rc = this.region.unmap();
    if (rc < 0) throw new ErrnoError('GRANT_MAP_FAILED', rc, 'munmap');
  }
}

export const hostGrantDriver: GrantDriver = {
  name: 'host',
  get pageSize(): number {
    return loadNative().pageSize;
  },
  share(bytes: number, access: GrantAccess): SharedRegion {
    const r = loadNative().share(bytes, access === 'rw');
    if (typeof r === 'number') {
      throw new ErrnoError('GRANT_SHARE_FAILED', r, `sharing a ${access} region of ${bytes} bytes (memfd, mmap, seals)`);
    }
    return new HostShared(r);
  },
  map(handle: number, bytes: number, access: GrantAccess): MappedRegion {
    const native = loadNative();
    const r = native.map(handle, bytes, access === 'rw');
    if (typeof r === 'number') {
      throw mapSideError(r, `mapping fd ${handle} (${access}, ${bytes} bytes)`, access, native.seals(handle));
    }
    return new HostMapped(r);
  },
  verify(handle: number, bytes: number, access: GrantAccess): void {
    const native = loadNative();
    const rc = native.verify(handle, bytes, access === 'rw');
    if (rc < 0) throw mapSideError(rc, `checking fd ${handle} (${access}, ${bytes} bytes)`, access, native.seals(handle));
  },
};

/** The seal bits on a descriptor (SEAL.*), or a negative errno (EINVAL: not sealable). */
export function sealsOf(fd: number): number {
  return loadNative().seals(fd);
}
