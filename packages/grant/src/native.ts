/**
 * Loads the addon (build/Release/vpio_grant.node), found from the package
 * root (the package.json named @vpio/grant above this file), so the same
 * code works from src/ (vitest) and from dist/ (bundled).
 */
import { loadAddon } from '@vpio/addon';

/** A region the addon mapped: the owner's (fd >= 0) or a grantee's (fd -1). */
export interface NativeRegion {
  /** The region's descriptor, owned by this object; -1 once closed (always -1 for a grantee's mapping). */
  readonly fd: number;
  /** The mapping; undefined once unmapped (the ArrayBuffer is then detached). */
  readonly buffer: ArrayBuffer | undefined;
  closeFd(): number;
  unmap(): number;
}

export interface NativeGrantAddon {
  readonly pageSize: number;
  share(bytes: number, rw: boolean): NativeRegion | number;
  map(fd: number, bytes: number, rw: boolean): NativeRegion | number;
  verify(fd: number, bytes: number, rw: boolean): number;
  seals(fd: number): number;
}


let addon: NativeGrantAddon | undefined;

/** The addon, loaded once per module instance. Throws VpioError GRANT_ADDON_MISSING. */
export function loadNative(): NativeGrantAddon {
  addon ??= loadAddon<NativeGrantAddon>({ packageName: '@vpio/grant', addonName: 'vpio_grant', fromUrl: import.meta.url, code: 'GRANT_ADDON_MISSING' });
  return addon;
}
