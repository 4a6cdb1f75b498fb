/**
 * Loads the addon (build/Release/vpio_evtchn.node), found from the package
 * root (the package.json named @vpio/evtchn above this file), so the same
 * code works from src/ (vitest) and from dist/ (bundled).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VpioError } from '@vpio/errors';

/** The raw addon (binding/evtchn_addon.cc). Every call returns 0/count or a negative errno. */
export interface NativeEvtchnAddon {
  createPair(): [NativeEnd, NativeEnd] | number;
  notify(txFd: number): number;
  drain(rxFd: number): number;
  poll(rxFd: number): number;
  closeFd(fd: number): number;
  Watcher: new (fd: number, callback: (status: number) => void) => NativeWatcher;
}

export interface NativeEnd {
  readonly rxFd: number;
  readonly txFd: number;
}

/** A libuv poll handle on a descriptor: callback(status) with status < 0 an error, 1 disconnect, 0 readable. */
export interface NativeWatcher {
  start(): number;
  stop(): void;
  close(): void;
}

function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === '@vpio/evtchn') return dir;
      } catch {
        // not a readable manifest: keep walking up
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new VpioError('EVTCHN_ADDON_MISSING', `no package.json named @vpio/evtchn above ${from}`);
    dir = up;
  }
}

let addon: NativeEvtchnAddon | undefined;

/** The addon, loaded once per module instance. Throws VpioError EVTCHN_ADDON_MISSING. */
export function loadNative(): NativeEvtchnAddon {
  if (addon === undefined) {
    const root = packageRoot();
    const path = join(root, 'build', 'Release', 'vpio_evtchn.node');
    try {
      addon = createRequire(join(root, 'package.json'))(path) as NativeEvtchnAddon;
    } catch (cause) {
      throw new VpioError('EVTCHN_ADDON_MISSING', `cannot load ${path}: build it with \`npm run build -w @vpio/evtchn\``, {
        cause,
      });
    }
  }
  return addon;
}
