/**
 * Loads the addon (build/Release/vpio_evtchn.node), found from the package
 * root (the package.json named @vpio/evtchn above this file), so the same
 * code works from src/ (vitest) and from dist/ (bundled).
 */
import { loadAddon } from '@vpio/addon';

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


let addon: NativeEvtchnAddon | undefined;

/** The addon, loaded once per module instance. Throws VpioError EVTCHN_ADDON_MISSING. */
export function loadNative(): NativeEvtchnAddon {
  addon ??= loadAddon<NativeEvtchnAddon>({ packageName: '@vpio/evtchn', addonName: 'vpio_evtchn', fromUrl: import.meta.url, code: 'EVTCHN_ADDON_MISSING' });
  return addon;
}
