/**
 * Loads the addon (build/Release/vpio_grant.node), found from the package
 * root (the package.json named @vpio/grant above this file), so the same
 * code works from src/ (vitest) and from dist/ (bundled).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VpioError } from '@vpio/errors';

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

function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === '@vpio/grant') return dir;
      } catch {
        // not a readable manifest: keep walking up
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new VpioError('GRANT_ADDON_MISSING', `no package.json named @vpio/grant above ${from}`);
    dir = up;
  }
}

let addon: NativeGrantAddon | undefined;

/** The addon, loaded once per module instance. Throws VpioError GRANT_ADDON_MISSING. */
export function loadNative(): NativeGrantAddon {
  if (addon === undefined) {
    const root = packageRoot();
    const path = join(root, 'build', 'Release', 'vpio_grant.node');
    try {
      addon = createRequire(join(root, 'package.json'))(path) as NativeGrantAddon;
    } catch (cause) {
      throw new VpioError('GRANT_ADDON_MISSING', `cannot load ${path}: build it with \`npm run build -w @vpio/grant\``, {
        cause,
      });
    }
  }
  return addon;
}
