/**
 * Loads the addon (build/Release/vpio_switch.node). Internal: src/switch.ts
 * is the only user; the public API validates before anything reaches it.
 */
import { loadAddon } from '@vpio/addon';

export interface NativePortStats {
  readonly inPackets: number;
  readonly inBytes: number;
  readonly fwdPackets: number;
  readonly fwdPairs: number;
  readonly outPackets: number;
  readonly outBytes: number;
  readonly flooded: number;
  readonly held: number;
  readonly learned: number;
  readonly macMoves: number;
  readonly learnRefused: number;
  readonly gsoSegments: number;
  readonly macs: number;
  readonly worker: number;
  readonly group: number;
  readonly drops: number[];
}

export interface NativeWorkerStats {
  readonly batches: number;
  readonly packets: number;
  readonly busyNs: number;
  readonly idleNs: number;
  readonly sleeps: number;
  readonly wakeups: number;
  readonly core: number;
  readonly batchHistogram: number[];
}

export interface NativePortConfig {
  txRing: Uint8Array;
  rxRing: Uint8Array;
  pool: Uint8Array;
  mac: Uint8Array;
  txSlots: number;
  rxSlots: number;
  bufSize: number;
  nrBufs: number;
  features: number;
  flags: number;
  vlanMode: 0 | 1;
  accessVid: number;
  nativeVid: number;
  trunkVids: number[];
  ratePps: number;
  burstPkts: number;
  rateBps: number;
  burstBytes: number;
  floodPps: number;
  floodBurst: number;
  maxMacs: number;
  txWaitFd: number;
  txNotifyFd: number;
  rxWaitFd: number;
  rxNotifyFd: number;
  txPort: number;
  rxPort: number;
  worker: number;
  /** -1 or absent: a group of its own; else an attached port whose group this one joins. */
  group?: number;
}

export interface NativeSwitch {
  addPort(cfg: NativePortConfig): number;
  removePort(id: number): void;
  portStats(id: number): NativePortStats;
  /** The members of port id's group, oldest first (the first is the group's id); null: no such port. */
  portGroup(id: number): number[] | null;
  workerStats(w: number): NativeWorkerStats;
  portIds(): number[];
  nWorkers(): number;
  advanceClock(ns: number): void;
  now(): bigint;
  pollOnce(): number;
  close(): void;
}

export interface NativeCaptureRead {
  readonly data: Buffer;
  readonly drops: number;
  readonly records: number;
  readonly attached: boolean;
}

export interface NativeCapture {
  read(): NativeCaptureRead;
  stop(): void;
  close(): void;
}

/** struct vsw_cap_rec's layout and the capture limits, from the header through the addon. */
export interface NativeCaptureRecordLayout {
  readonly bytes: number;
  readonly align: number;
  readonly tsNsOffset: number;
  readonly origLenOffset: number;
  readonly capLenOffset: number;
  readonly dirOffset: number;
  readonly dirIn: number;
  readonly dirOut: number;
  readonly minBufferBytes: number;
  readonly maxBufferBytes: number;
}

export interface NativeSwitchAddon {
  NativeSwitch: new (opts: { cores: number[]; mode: 0 | 1; manualClock: boolean; macEntries?: number; agingNs?: number }) => NativeSwitch;
  NativeCapture: new (sw: NativeSwitch, port: number, opts: { snaplen: number; bufferBytes: number; dirs: number }) => NativeCapture;
  readonly captureRecord: NativeCaptureRecordLayout;
  readonly dropNames: Readonly<Record<number, string>>;
  readonly maxPorts: number;
  readonly maxWorkers: number;
  /** VSW_GROUP_MAX: ports per port group. */
  readonly groupMax: number;
  /** VSW_EVTCHN_PORT_MAX: the largest local Xen port a xen channel end may have. */
  readonly evtchnPortMax: number;
  readonly histBuckets: number;
}

let addon: NativeSwitchAddon | undefined;

/** Loads the addon once per module instance. Throws VpioError SWITCH_ADDON_MISSING. */
export function loadNative(): NativeSwitchAddon {
  addon ??= loadAddon<NativeSwitchAddon>({ packageName: '@vpio/switch', addonName: 'vpio_switch', fromUrl: import.meta.url, code: 'SWITCH_ADDON_MISSING' });
  return addon;
}
