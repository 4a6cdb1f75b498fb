/**
 * A Node program as a vpio guest: `vpio run node guest.mjs --vif ...` and
 *
 *   const nf = await Netfront.open({ devid: 0 });
 *   nf.send([frame]);                       // enqueue + kick, returns how many fit
 *   if (await nf.waitReadable(100)) for (const f of nf.receive()) ...;
 *   await nf.close();
 *
 * The netfront C core runs in the addon (binding/netfront_addon.cc) over
 * the broker-backed ops (vpio/netfront_broker.h): grants and event channels
 * from vpiod over the control socket ($VPIO_CTRL_FD, HELLO once per
 * process), xenstore over HELLO's descriptor. The handshake and every wait
 * run on libuv worker threads; send/receive are synchronous and short.
 *
 * Threading: one JS thread. At most one waitReadable() and one
 * waitWritable() in flight per vif; receive() while a waitReadable() is in
 * flight (or send() during waitWritable()) throws NETFRONT_BUSY.
 */
import { loadAddon } from '@vpio/addon';
import { ArgumentError, VpioError, expectInteger, expectOneOf } from '@vpio/errors';

interface NativeInfo {
  readonly mac: Buffer;
  readonly mtu: number;
  readonly txSlots: number;
  readonly rxSlots: number;
  readonly bufSize: number;
  readonly domid: number;
}

export interface NetfrontStats {
  readonly txPackets: number;
  readonly rxPackets: number;
  /** Notifications sent. */
  readonly txKicks: number;
  readonly rxKicks: number;
  /** Waits on a channel. */
  readonly txSleeps: number;
  readonly rxSleeps: number;
}

interface NativeDev {
  connect(devid: number, mode: 0 | 1, timeoutMs: number): Promise<number>;
  info(): NativeInfo;
  send(frames: readonly Uint8Array[]): number;
  receive(max: number): Buffer[];
  waitRx(timeoutMs: number): Promise<number>;
  waitTx(timeoutMs: number): Promise<number>;
  rxPending(): number;
  txSpace(): number;
  stats(): NetfrontStats;
  disconnect(): Promise<number>;
}

interface NetfrontAddon {
  NativeDev: new () => NativeDev;
  readonly maxBurst: number;
}

let addon: NetfrontAddon | undefined;
function native(): NetfrontAddon {
  addon ??= loadAddon<NetfrontAddon>({ packageName: '@vpio/netfront', addonName: 'vpio_netfront', fromUrl: import.meta.url, code: 'NETFRONT_ADDON_MISSING' });
  return addon;
}

/** Most frames one send()/receive() handles. */
export const NETFRONT_MAX_BURST = 256;

export interface NetfrontOpenOptions {
  /** The vif index <n> (device/vpio-vif/<n>): the order of `vpio run --vif`. Default 0. */
  readonly devid?: number;
  /** 'event' (sleep on event channels, default) or 'poll' (the backend polls; waits look every 50 us). */
  readonly mode?: 'event' | 'poll';
  /** Limit of each handshake wait (default 10000; -1: none). */
  readonly timeoutMs?: number;
}

function rethrow(e: unknown, what: string): never {
  const err = e as { code?: string; errno?: number; message?: string };
  if (err?.code === 'NETFRONT_ERRNO') throw new VpioError('NETFRONT_ERRNO', `${what}: ${err.message ?? ''} (errno ${err.errno})`, { cause: e });
  throw e;
}

/** One connected vif of this guest. */
export class Netfront {
  readonly #dev: NativeDev;
  readonly #info: NativeInfo;
  #closed: Promise<void> | undefined;
  #rxWait: Promise<number> | undefined;
  #txWait: Promise<number> | undefined;

  private constructor(dev: NativeDev) {
    this.#dev = dev;
    this.#info = dev.info();
  }

  /**
   * Connects vif `devid` (the handshake of vpio/netfront.h). Rejects with
   * VpioError NETFRONT_ERRNO (errno in the message and `cause.errno`):
   * ENOENT no such vif, ECONNREFUSED the backend refused, ETIMEDOUT, ...;
   * NETFRONT_ADDON_MISSING when the addon is not built.
   */
  static async open(options: NetfrontOpenOptions = {}): Promise<Netfront> {
    if (typeof options !== 'object' || options === null) throw new ArgumentError('options', 'an object', options);
    const devid = expectInteger('devid', options.devid ?? 0, 0, 65535);
    const mode = expectOneOf('mode', options.mode ?? 'event', ['event', 'poll'] as const);
    const timeoutMs = expectInteger('timeoutMs', options.timeoutMs ?? 10_000, -1, 3_600_000);
    const dev = new (native().NativeDev)();
    try {
      await dev.connect(devid, mode === 'poll' ? 1 : 0, timeoutMs);
    } catch (e) {
      rethrow(e, `vif ${devid}: connect`);
    }
    return new Netfront(dev);
  }

  /** The MAC the backend published, "02:..". */
  get mac(): string {
    return [...this.#info.mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
  }

  get macBytes(): Buffer {
    return Buffer.from(this.#info.mac);
  }

  get mtu(): number {
    return this.#info.mtu;
  }

  /** Largest frame (bytes) a slot holds. */
  get bufSize(): number {
    return this.#info.bufSize;
  }

  get txSlots(): number {
    return this.#info.txSlots;
  }

  get rxSlots(): number {
    return this.#info.rxSlots;
  }

  /** This guest's domid (from HELLO). */
  get domid(): number {
    return this.#info.domid;
  }

  /**
   * Enqueues up to NETFRONT_MAX_BURST frames (each 14..bufSize bytes,
   * copied) and kicks the backend if it asked. Returns how many were taken
   * (fewer when the TX ring is full: waitWritable()).
   */
  send(frames: readonly Uint8Array[]): number {
    this.#open('send');
    if (!Array.isArray(frames)) throw new ArgumentError('frames', 'an array of Uint8Array', frames);
    return this.#dev.send(frames.length > NETFRONT_MAX_BURST ? frames.slice(0, NETFRONT_MAX_BURST) : frames);
  }

  /** Dequeues up to `max` received frames (copies). */
  receive(max = NETFRONT_MAX_BURST): Buffer[] {
    this.#open('receive');
    return this.#dev.receive(expectInteger('max', max, 1, NETFRONT_MAX_BURST));
  }

  /**
   * Resolves true when frames may be waiting (re-check with receive(); a
   * wake-up can be spurious), false when `timeoutMs` passed. Sleeps on the
   * RX event channel on a worker thread: the event loop never blocks.
   */
  async waitReadable(timeoutMs: number): Promise<boolean> {
    this.#open('waitReadable');
    const t = expectInteger('timeoutMs', timeoutMs, 0, 3_600_000);
    if (this.#dev.rxPending() > 0) return true;
    this.#rxWait = this.#dev.waitRx(t);
    try {
      return (await this.#rxWait) > 0;
    } catch (e) {
      rethrow(e, 'waitReadable');
    } finally {
      this.#rxWait = undefined;
    }
  }

  /** Resolves true when TX slots may be free, false after `timeoutMs`. */
  async waitWritable(timeoutMs: number): Promise<boolean> {
    this.#open('waitWritable');
    const t = expectInteger('timeoutMs', timeoutMs, 0, 3_600_000);
    if (this.#dev.txSpace() > 0) return true;
    this.#txWait = this.#dev.waitTx(t);
    try {
      return (await this.#txWait) > 0;
    } catch (e) {
      rethrow(e, 'waitWritable');
    } finally {
      this.#txWait = undefined;
    }
  }

  /** Free TX slots now. */
  txSpace(): number {
    this.#open('txSpace');
    return this.#dev.txSpace();
  }

  stats(): NetfrontStats {
    return this.#dev.stats();
  }

  /**
   * Clean disconnect (state Closing, the backend follows, channels closed,
   * rings and pool unmapped), after any wait in flight ends. Idempotent.
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await Promise.allSettled([this.#rxWait, this.#txWait]);
      try {
        await this.#dev.disconnect();
      } catch (e) {
        rethrow(e, 'close');
      }
    })();
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #open(op: string): void {
    if (this.#closed) throw new VpioError('NETFRONT_STATE', `${op}() on a closed vif`);
  }
}
