/**
 * Switch: the TypeScript face of the C switch. Validates every argument
 * (ArgumentError names the parameter), copies it into the addon's plain
 * struct and calls the C core. Nothing here runs per packet.
 */
import { ArgumentError, ErrnoError, VpioError, expectInteger, expectOneOf } from '@vpio/errors';
import { MAX_SLOTS, MIN_SLOTS, MAX_BUF_SIZE_BYTES, MIN_BUF_SIZE_BYTES, RingView, type Verdict } from '@vpio/ring';
import { Capture, type CaptureDirection, type CaptureOptions } from './capture.js';
import { loadNative, type NativeSwitch } from './native.js';

export type SwitchMode = 'event' | 'poll';
export type SwitchClock = 'monotonic' | 'manual';
export type VlanMode = 'access' | 'trunk';

export interface SwitchOptions {
  /** Cores to pin one worker each to (-1: unpinned). Empty: no workers, forward with pollOnce(). */
  readonly cores: readonly number[];
  readonly mode?: SwitchMode;
  readonly clock?: SwitchClock;
  /** Learning table entries, a power of two >= 4096 (default 8192). */
  readonly macEntries?: number;
  /** MAC entry lifetime (default 300 s). */
  readonly agingMs?: number;
}

export interface PortOptions {
  /** The port's mapped memory: ring regions set up by RingView.init() and the pool. */
  readonly txRing: Uint8Array;
  readonly rxRing: Uint8Array;
  readonly pool: Uint8Array;
  readonly txSlots: number;
  readonly rxSlots: number;
  readonly bufSizeBytes: number;
  readonly nrBufs: number;
  /** Six bytes, or "aa:bb:cc:dd:ee:ff". */
  readonly mac: Uint8Array | string;
  /** Frames must carry the port's MAC as source. Default true (guest ports). */
  readonly macLock?: boolean;
  /** A full RX ring holds the sender's packet instead of dropping it. Default false. */
  readonly lossless?: boolean;
  /** The port negotiated buffer chains and the offload word (VRING_FEAT_CHAIN | VRING_FEAT_OFFLOAD). Default false. */
  readonly offload?: boolean;
  readonly vlan?: { readonly mode: 'access'; readonly vid: number } | { readonly mode: 'trunk'; readonly vids: readonly number[]; readonly nativeVid?: number };
  readonly ratePps?: number;
  readonly burstPackets?: number;
  readonly rateBps?: number;
  readonly burstBytes?: number;
  readonly floodPps?: number;
  readonly floodBurst?: number;
  readonly maxMacs?: number;
  /** The switch's ends of the port's event channels (-1 or absent: a polling guest). */
  readonly txWaitFd?: number;
  readonly txNotifyFd?: number;
  readonly rxWaitFd?: number;
  readonly rxNotifyFd?: number;
  /**
   * What the four fds are (README "Channel kinds"): `'host'` (default)
   * pipe/socket ends, or `'xen'` ends (`@vpio/evtchn` `ChannelEnd` with
   * `mode: 'xen'`: its own /dev/xen/evtchn descriptor), which need the
   * local Xen port of each channel that has an fd: `txPort` (the TX
   * channel: txWaitFd/txNotifyFd) and `rxPort` (rxWaitFd/rxNotifyFd).
   */
  readonly channelKind?: 'host' | 'xen';
  readonly txPort?: number;
  readonly rxPort?: number;
  readonly worker?: number;
  /**
   * Port groups (multi-queue vifs): the id of an already-attached port; the
   * new port joins that port's group, and the group's members forward as
   * one port (README "Port groups"). Absent: the port starts a group of its
   * own. At most `groupMax` (8) members per group.
   */
  readonly group?: number;
  /**
   * What owns the mapping behind txRing/rxRing/pool when it can be unmapped
   * explicitly (a @vpio/grant Grant): the switch takes `hold()` at addPort
   * and drops it after removePort()/close() returned, i.e. once no worker
   * can touch the memory. Without it, releasing the grant (its grantee
   * died) would unmap the memory under the workers.
   */
  readonly memory?: MemoryOwner;
}

/** Anything that can keep a mapping alive: a @vpio/grant Grant. */
export interface MemoryOwner {
  hold(): { drop(): void };
}

/** Why a packet was dropped: every ring verdict but 'ok' (from @vpio/ring), then the switch's own reasons. */
export type DropReason =
  | Exclude<Verdict, 'ok'>
  | 'ring_full' | 'no_dest' | 'mac_lock' | 'vlan' | 'rate_limit' | 'flood_limit';

export interface PortStats {
  readonly id: number;
  readonly worker: number;
  /** The port's group: the id of its oldest member (its own id when alone). */
  readonly group: number;
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
  /** TCP segments the switch cut from TSO super-frames for this port (it did not negotiate offloads). */
  readonly gsoSegments: number;
  /** MAC entries now, of the port's group (the same for every member). */
  readonly macs: number;
  readonly drops: Readonly<Record<DropReason, number>>;
}

export interface WorkerStats {
  readonly worker: number;
  readonly core: number;
  readonly batches: number;
  readonly packets: number;
  /** Rounds by batch size: [1], [2-3], [4-7], ... [512-1023], [1024]. */
  readonly batchHistogram: readonly number[];
  readonly busyNs: number;
  readonly idleNs: number;
  readonly sleeps: number;
  readonly wakeups: number;
}

export interface SwitchStats {
  readonly ports: readonly PortStats[];
  /** The workers, then the pollOnce() pseudo-worker last. */
  readonly workers: readonly WorkerStats[];
}

const NS_PER_MS = 1e6;
const MAX_RATE = 1e10;

function parseMac(value: unknown): Uint8Array {
  if (value instanceof Uint8Array && value.byteLength === 6) return new Uint8Array(value);
  if (typeof value === 'string' && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(value)) {
    return Uint8Array.from(value.split(':').map((h) => parseInt(h, 16)));
  }
  throw new ArgumentError('mac', 'six bytes or "aa:bb:cc:dd:ee:ff"', value);
}

function optInt(name: string, value: unknown, min: number, max: number, dflt: number): number {
  return value === undefined ? dflt : expectInteger(name, value, min, max);
}

function nativeError(err: unknown, what: string): Error {
  const e = err as { code?: string; errno?: number; message?: string };
  if (e && e.code === 'SWITCH_ERRNO' && typeof e.errno === 'number') return new ErrnoError('SWITCH_FAILED', e.errno, what, { cause: err });
  if (e && e.code === 'SWITCH_CLOSED') return new VpioError('SWITCH_CLOSED', 'the switch is closed', { cause: err });
  return err instanceof Error ? err : new VpioError('SWITCH_FAILED', String(err));
}

export class Switch implements AsyncDisposable {
  readonly #native: NativeSwitch;
  readonly #manual: boolean;
  readonly #workers: number;
  /** Per port: the hold on its memory's owner (strong: keeps the owner from being collected too). */
  readonly #holds = new Map<number, { drop(): void }>();
  #closed = false;

  constructor(options: SwitchOptions) {
    if (typeof options !== 'object' || options === null) throw new ArgumentError('options', 'an object', options);
    const addon = loadNative();
    if (!Array.isArray(options.cores)) throw new ArgumentError('cores', 'an array of core numbers', options.cores);
    if (options.cores.length > addon.maxWorkers) throw new ArgumentError('cores', `at most ${addon.maxWorkers} cores`, options.cores);
    const cores = options.cores.map((c, i) => expectInteger(`cores[${i}]`, c, -1, 1023));
    const mode = expectOneOf('mode', options.mode ?? 'event', ['event', 'poll'] as const);
    const clock = expectOneOf('clock', options.clock ?? 'monotonic', ['monotonic', 'manual'] as const);
    const macEntries = optInt('macEntries', options.macEntries, 4096, 1 << 24, 0);
    if (macEntries && (macEntries & (macEntries - 1)) !== 0) throw new ArgumentError('macEntries', 'a power of two >= 4096', macEntries);
    const agingMs = optInt('agingMs', options.agingMs, 1, 365 * 24 * 3600 * 1000, 0);
    try {
      this.#native = new addon.NativeSwitch({ cores, mode: mode === 'poll' ? 1 : 0, manualClock: clock === 'manual', macEntries, agingNs: agingMs * NS_PER_MS });
    } catch (err) {
      throw nativeError(err, 'creating the switch');
    }
    this.#manual = clock === 'manual';
    this.#workers = cores.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #open(): NativeSwitch {
    if (this.#closed) throw new VpioError('SWITCH_CLOSED', 'the switch is closed');
    return this.#native;
  }

  /** Attaches a port; returns its id. The port's buffers stay referenced until it is removed. */
  addPort(opts: PortOptions): number {
    const native = this.#open();
    if (typeof opts !== 'object' || opts === null) throw new ArgumentError('opts', 'an object', opts);
    for (const key of ['txRing', 'rxRing', 'pool'] as const) {
      if (!(opts[key] instanceof Uint8Array)) throw new ArgumentError(key, 'a Uint8Array (Buffer) of mapped memory', opts[key]);
    }
    const txSlots = expectInteger('txSlots', opts.txSlots, MIN_SLOTS, MAX_SLOTS);
    const rxSlots = expectInteger('rxSlots', opts.rxSlots, MIN_SLOTS, MAX_SLOTS);
    if ((txSlots & (txSlots - 1)) !== 0) throw new ArgumentError('txSlots', 'a power of two', txSlots);
    if ((rxSlots & (rxSlots - 1)) !== 0) throw new ArgumentError('rxSlots', 'a power of two', rxSlots);
    const bufSize = expectInteger('bufSizeBytes', opts.bufSizeBytes, MIN_BUF_SIZE_BYTES, MAX_BUF_SIZE_BYTES);
    const nrBufs = expectInteger('nrBufs', opts.nrBufs, 1, 0xffffffff);
    if (opts.txRing.byteLength < RingView.bytes(txSlots)) throw new ArgumentError('txRing', `at least ${RingView.bytes(txSlots)} bytes`, opts.txRing.byteLength);
    if (opts.rxRing.byteLength < RingView.bytes(rxSlots)) throw new ArgumentError('rxRing', `at least ${RingView.bytes(rxSlots)} bytes`, opts.rxRing.byteLength);
    if (opts.pool.byteLength < nrBufs * bufSize) throw new ArgumentError('pool', `at least nrBufs * bufSizeBytes = ${nrBufs * bufSize} bytes`, opts.pool.byteLength);
    for (const key of ['txRing', 'rxRing'] as const) {
      if (opts[key].byteOffset % 16 !== 0) throw new ArgumentError(key, 'memory aligned to 16 bytes', opts[key].byteOffset);
    }
    if (opts.memory !== undefined && (typeof opts.memory !== 'object' || opts.memory === null || typeof opts.memory.hold !== 'function')) {
      throw new ArgumentError('memory', 'an owner with hold() (a @vpio/grant Grant)', opts.memory);
    }
    const mac = parseMac(opts.mac);
    const vlan = opts.vlan ?? { mode: 'access', vid: 1 };
    const vlanMode = expectOneOf('vlan.mode', vlan.mode, ['access', 'trunk'] as const);
    let accessVid = 0;
    let nativeVid = 0;
    let trunkVids: number[] = [];
    if (vlan.mode === 'access') {
      accessVid = expectInteger('vlan.vid', vlan.vid, 1, 4094);
    } else {
      if (!Array.isArray(vlan.vids)) throw new ArgumentError('vlan.vids', 'an array of VLAN ids', vlan.vids);
      trunkVids = vlan.vids.map((v, i) => expectInteger(`vlan.vids[${i}]`, v, 1, 4094));
      nativeVid = optInt('vlan.nativeVid', vlan.nativeVid, 0, 4094, 0);
    }
    const worker = optInt('worker', opts.worker, -1, Math.max(this.#workers - 1, 0), -1);
    const group = opts.group === undefined ? -1 : this.#checkGroup(native, opts.group);
    const fd = (name: string, v: unknown): number => optInt(name, v, -1, 0x7fffffff, -1);
    const flag = (name: string, v: unknown, dflt: boolean): boolean => {
      if (v === undefined) return dflt;
      if (typeof v !== 'boolean') throw new ArgumentError(name, 'a boolean', v);
      return v;
    };
    const kind = opts.channelKind ?? 'host';
    if (kind !== 'host' && kind !== 'xen') throw new ArgumentError('channelKind', "'host' or 'xen'", opts.channelKind);
    const fds = { txWaitFd: fd('txWaitFd', opts.txWaitFd), txNotifyFd: fd('txNotifyFd', opts.txNotifyFd), rxWaitFd: fd('rxWaitFd', opts.rxWaitFd), rxNotifyFd: fd('rxNotifyFd', opts.rxNotifyFd) };
    const chPort = (name: 'txPort' | 'rxPort', hasFd: boolean): number => {
      const v = opts[name];
      if (kind === 'host') {
        if (v !== undefined) throw new ArgumentError(name, "nothing for channelKind 'host' (host ends have no port numbers)", v);
        return 0;
      }
      if (!hasFd) {
        if (v !== undefined) throw new ArgumentError(name, 'nothing when the channel has no fd', v);
        return 0;
      }
      return expectInteger(name, v, 1, loadNative().evtchnPortMax);
    };
    const txPort = chPort('txPort', fds.txWaitFd >= 0 || fds.txNotifyFd >= 0);
    const rxPort = chPort('rxPort', fds.rxWaitFd >= 0 || fds.rxNotifyFd >= 0);
    const hold = opts.memory?.hold();
    let id: number;
    try {
      id = native.addPort({
        txRing: opts.txRing,
        rxRing: opts.rxRing,
        pool: opts.pool,
        mac,
        txSlots,
        rxSlots,
        bufSize,
        nrBufs,
        features: flag('offload', opts.offload, false) ? 3 : 0, // VRING_FEAT_CHAIN | VRING_FEAT_OFFLOAD
        flags: (flag('macLock', opts.macLock, true) ? 1 : 0) | (flag('lossless', opts.lossless, false) ? 2 : 0) | (kind === 'xen' ? 8 : 0), // VSW_PORT_XEN_EVTCHN
        vlanMode: vlanMode === 'trunk' ? 1 : 0,
        accessVid,
        nativeVid,
        trunkVids,
        ratePps: optInt('ratePps', opts.ratePps, 0, MAX_RATE, 0),
        burstPkts: optInt('burstPackets', opts.burstPackets, 0, MAX_RATE, 0),
        rateBps: optInt('rateBps', opts.rateBps, 0, MAX_RATE * 8, 0),
        burstBytes: optInt('burstBytes', opts.burstBytes, 0, MAX_RATE / 8, 0),
        floodPps: optInt('floodPps', opts.floodPps, 0, MAX_RATE, 0),
        floodBurst: optInt('floodBurst', opts.floodBurst, 0, MAX_RATE, 0),
        maxMacs: optInt('maxMacs', opts.maxMacs, 0, 1 << 24, 0),
        ...fds,
        txPort,
        rxPort,
        worker,
        group,
      });
    } catch (err) {
      hold?.drop();
      throw nativeError(err, 'adding the port');
    }
    if (hold) this.#holds.set(id, hold);
    return id;
  }

  /** addPort's `group`: an attached port whose group is not full. */
  #checkGroup(native: NativeSwitch, value: unknown): number {
    const addon = loadNative();
    const id = expectInteger('group', value, 0, addon.maxPorts - 1);
    const members = native.portGroup(id);
    if (members === null) throw new ArgumentError('group', 'the id of an attached port', value);
    if (members.length >= addon.groupMax) {
      throw new ArgumentError('group', `a port whose group has fewer than ${addon.groupMax} members (group ${members[0]} is full)`, value);
    }
    return id;
  }

  /** Detaches a port; returns once no worker touches its memory. */
  removePort(id: number): void {
    const native = this.#open();
    expectInteger('id', id, 0, loadNative().maxPorts - 1);
    try {
      native.removePort(id); // returns at a quiescent point: no worker touches the memory any more
    } catch (err) {
      throw nativeError(err, `removing port ${id}`);
    }
    this.#holds.get(id)?.drop();
    this.#holds.delete(id);
  }

  /**
   * Starts a capture tap on port `id` (off by default; one per port). The
   * workers copy frames into the capture's rings; read them with
   * `capture.read()`, end with `capture.stop()`. Removing the port or
   * closing the switch unhooks it (read() then drains what is left and says
   * `attached: false`). Errors: ArgumentError; SWITCH_FAILED ENOENT (no such
   * port), EBUSY (the port already has a capture).
   */
  startCapture(id: number, options: CaptureOptions = {}): Capture {
    const native = this.#open();
    const addon = loadNative();
    expectInteger('id', id, 0, addon.maxPorts - 1);
    if (typeof options !== 'object' || options === null) throw new ArgumentError('options', 'an object', options);
    const snaplen = optInt('snaplen', options.snaplen, 1, 65535, 65535);
    const bufferBytes = optInt('bufferBytes', options.bufferBytes, addon.captureRecord.minBufferBytes, addon.captureRecord.maxBufferBytes, 4 << 20);
    const direction: CaptureDirection = expectOneOf('direction', options.direction ?? 'both', ['in', 'out', 'both'] as const);
    const rec = addon.captureRecord;
    const dirs = direction === 'in' ? rec.dirIn : direction === 'out' ? rec.dirOut : rec.dirIn | rec.dirOut;
    try {
      return new Capture(new addon.NativeCapture(native, id, { snaplen, bufferBytes, dirs }), rec, id, snaplen, direction);
    } catch (err) {
      throw nativeError(err, `starting a capture on port ${id}`);
    }
  }

  /** Counters of every port and worker, read while traffic flows. */
  stats(): SwitchStats {
    const native = this.#open();
    const names = loadNative().dropNames;
    const ports = native.portIds().map((id): PortStats => {
      const s = native.portStats(id);
      const drops = {} as Record<DropReason, number>;
      s.drops.forEach((n, r) => {
        if (r > 0) drops[names[r] as DropReason] = n;
      });
      return {
        id, worker: s.worker, group: s.group, inPackets: s.inPackets, inBytes: s.inBytes, fwdPackets: s.fwdPackets, fwdPairs: s.fwdPairs,
        outPackets: s.outPackets, outBytes: s.outBytes, flooded: s.flooded, held: s.held, learned: s.learned,
        macMoves: s.macMoves, learnRefused: s.learnRefused, gsoSegments: s.gsoSegments, macs: s.macs, drops,
      };
    });
    const workers: WorkerStats[] = [];
    for (let w = 0; w <= native.nWorkers(); w++) {
      const s = native.workerStats(w);
      workers.push({ worker: w, core: s.core, batches: s.batches, packets: s.packets, batchHistogram: s.batchHistogram, busyNs: s.busyNs, idleNs: s.idleNs, sleeps: s.sleeps, wakeups: s.wakeups });
    }
    return { ports, workers };
  }

  /** Moves a manual clock forward. */
  advanceClock(ns: number): void {
    const native = this.#open();
    if (!this.#manual) throw new VpioError('SWITCH_CLOCK', "advanceClock() needs a switch created with clock: 'manual'");
    if (typeof ns !== 'number' || !Number.isSafeInteger(ns) || ns < 0) throw new ArgumentError('ns', 'a non-negative safe integer', ns);
    native.advanceClock(ns);
  }

  /** The switch's clock, in nanoseconds. */
  now(): bigint {
    return this.#open().now();
  }

  /** Processes every port once on this thread (switches without workers); returns packets taken. */
  pollOnce(): number {
    const native = this.#open();
    if (this.#workers > 0) throw new VpioError('SWITCH_BUSY', 'pollOnce() is for switches without worker threads (cores: [])');
    try {
      return native.pollOnce();
    } catch (err) {
      throw nativeError(err, 'pollOnce');
    }
  }

  /** Stops the workers and releases every port. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#native.close(); // the workers are stopped
    for (const h of this.#holds.values()) h.drop();
    this.#holds.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}
