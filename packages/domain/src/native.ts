/**
 * Loads the addon (build/Release/vpio_domain.node) and finds the launcher
 * (build/bin/vpio-launch). Internal: the public API wraps every call and
 * turns a negative errno into an ErrnoError naming the operation.
 *
 * Loading and the package root come from @vpio/addon (one loader for every
 * package's addon).
 */
import { join } from 'node:path';
import { loadAddon, packageRoot as addonPackageRoot } from '@vpio/addon';
import { ErrnoError } from '@vpio/errors';

export interface NativeRecv {
  readonly data: Buffer;
  readonly fds: number[];
  readonly truncated: boolean;
}

export interface NativeFdWatcher {
  stop(): void;
}

/** The raw addon: syscalls return a negative errno on failure. */
export interface NativeDomainAddon {
  pidfdOpen(pid: number): number;
  pidfdSendSignal(pidfd: number, signal: number): number;
  socketpair(seqpacket: boolean): [number, number] | number;
  setNonblock(fd: number): number;
  sendmsg(fd: number, bytes: Uint8Array, fds: readonly number[]): number;
  recvmsg(fd: number, maxBytes: number): NativeRecv | number;
  close(fd: number): number;
  setDumpable(on: 0 | 1): number;
  getDumpable(): number;
  getNofile(): { soft: number; hard: number } | number;
  setNofile(soft: number, hard: number): number;
  FdWatcher: new (fd: number, callback: (status: number) => void) => NativeFdWatcher;
}

/** The folder of @vpio/domain (works from src/ and dist/). */
export function packageRoot(): string {
  return addonPackageRoot('@vpio/domain', import.meta.url, 'DOMAIN_ADDON_MISSING');
}

let addon: NativeDomainAddon | undefined;

/** Loads the addon once per module instance. Throws VpioError DOMAIN_ADDON_MISSING. */
export function loadNative(): NativeDomainAddon {
  addon ??= loadAddon<NativeDomainAddon>({ packageName: '@vpio/domain', addonName: 'vpio_domain', fromUrl: import.meta.url, code: 'DOMAIN_ADDON_MISSING' });
  return addon;
}

/** The launcher built by `make all`. */
export function defaultLauncherPath(): string {
  return join(packageRoot(), 'build', 'bin', 'vpio-launch');
}

/** Returns `r` when it is not a negative errno, else throws ErrnoError(code, -r, context). */
export function check<T>(r: T | number, code: string, context: string): T {
  if (typeof r === 'number' && r < 0) throw new ErrnoError(code, -r, context);
  return r as T;
}
